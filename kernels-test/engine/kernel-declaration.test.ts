// Kernel declarations (defineKernel): the uniform struct's layout (offsets, vec8u aligned to 16
// bytes, explicit padding), packing uniforms by name (missing or out-of-range values refused
// with the uniform's name), storage bindings numbered 1, 2, ... among those active for the
// defines (`when` / `unless`), the generated WGSL header; and one dispatch that reads every
// field back on the GPU (the header's struct and the packed bytes agree).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, runtime, empty, tensor, defineKernel, uniformLayout, packUniforms, preprocess } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';

const test = suite('kernel declaration');

test.before(async () => {
  await init();
});

const UNIFORMS = { n: 'u32', scale: 'f32', shape: 'vec8u', off: 'i32', strides: 'vec8u', last: 'u32' } as const;

test('uniform layout: declared order, 4-byte scalars, vec8u at 16-byte offsets (32 bytes), explicit padding, size a multiple of 16', () => {
  const layout = uniformLayout('test/layout', UNIFORMS);
  assert.equal(
    layout.fields.map((f) => [f.name, f.type, f.offset]),
    [
      ['n', 'u32', 0], ['scale', 'f32', 4], ['_pad0', 'u32', 8], ['_pad1', 'u32', 12],
      ['shape', 'vec8u', 16], ['off', 'i32', 48], ['_pad2', 'u32', 52], ['_pad3', 'u32', 56], ['_pad4', 'u32', 60],
      ['strides', 'vec8u', 64], ['last', 'u32', 96], ['_pad5', 'u32', 100], ['_pad6', 'u32', 104], ['_pad7', 'u32', 108],
    ],
  );
  assert.is(layout.bytes, 112);
  assert.is(uniformLayout('test/empty', {}).bytes, 16, 'an empty struct still has 16 bytes');
  assert.is(uniformLayout('test/four', { a: 'u32', b: 'u32', c: 'u32', d: 'f32' }).bytes, 16, 'four scalars: no padding');
  assert.throws(() => uniformLayout('test/bad', { not_plain: 'u32' }), /test\/bad.*not_plain/);
});

test('packing by name: values at their offsets, short vec8u zero-filled; missing, out-of-range or too long values refused by name', async () => {
  const layout = uniformLayout('test/pack', UNIFORMS);
  const values = { last: 7, strides: [9, 8, 7, 6, 5, 4, 3, 2], off: -3, shape: [2, 3], scale: 0.5, n: 4294967295 };
  const bytes = packUniforms(layout, values);
  assert.is(bytes.byteLength, 112);
  const view = new DataView(bytes.buffer);
  assert.is(view.getUint32(0, true), 4294967295);
  assert.is(view.getFloat32(4, true), 0.5);
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7].map((i) => view.getUint32(16 + 4 * i, true)), [2, 3, 0, 0, 0, 0, 0, 0]);
  assert.is(view.getInt32(48, true), -3);
  assert.equal([0, 1, 2, 3, 4, 5, 6, 7].map((i) => view.getUint32(64 + 4 * i, true)), [9, 8, 7, 6, 5, 4, 3, 2]);
  assert.is(view.getUint32(96, true), 7);
  for (const pad of [8, 12, 52, 56, 60, 100, 104, 108]) assert.is(view.getUint32(pad, true), 0, `padding at ${pad}`);

  const { scale: _, ...noScale } = values;
  await assertThrowsWith(() => packUniforms(layout, noScale), ["'scale'", 'not given'], 'missing uniform');
  await assertThrowsWith(() => packUniforms(layout, { ...values, n: -1 }), ["'n'", 'u32', '-1'], 'negative u32');
  await assertThrowsWith(() => packUniforms(layout, { ...values, last: 2 ** 32 }), ["'last'", 'u32'], 'u32 above 2^32 - 1');
  await assertThrowsWith(() => packUniforms(layout, { ...values, n: 1.5 }), ["'n'", 'u32'], 'fractional u32');
  await assertThrowsWith(() => packUniforms(layout, { ...values, shape: [1, 2, 3, 4, 5, 6, 7, 8, 9] }), ["'shape'", 'rank 9'], 'vec8u of 9 values');
  await assertThrowsWith(() => packUniforms(layout, { ...values, strides: [1, -2] }), ["'strides'", 'u32'], 'negative vec8u entry');
});

const bindingsKernel = defineKernel({
  name: 'test/bindings',
  source: '@compute @workgroup_size(WORKGROUP_SIZE)\nfn main() {}\n',
  uniforms: { n: 'u32', shape: 'vec8u' },
  bindings: [
    { name: 'a', type: '${T}', access: 'read' },
    { name: 'b', type: 'f32', access: 'read', when: 'HAS_B' },
    { name: 'c', type: 'i32', access: 'read', unless: 'NO_C' },
    { name: 'out', type: '${T}', access: 'read_write' },
  ],
  workgroupSize: (d) => (d.WIDE ? 256 : 64),
  snippets: ['powf'],
  enables: { SUBGROUPS: 'subgroups' },
});

test('bindings: numbered 1, 2, ... in declaration order among those active for the defines (when / unless)', () => {
  const names = (defines: Record<string, boolean>) => bindingsKernel.activeBindings(defines).map((b) => b.name);
  assert.equal(names({}), ['a', 'c', 'out']);
  assert.equal(names({ HAS_B: true }), ['a', 'b', 'c', 'out']);
  assert.equal(names({ NO_C: true }), ['a', 'out']);
  assert.equal(names({ HAS_B: true, NO_C: true }), ['a', 'b', 'out']);
  const code = bindingsKernel.code({ HAS_B: true, NO_C: true });
  assert.ok(code.includes('@group(0) @binding(1) var<storage, read> a: array<${T}>;'), code);
  assert.ok(code.includes('@group(0) @binding(2) var<storage, read> b: array<f32>;'), code);
  assert.ok(code.includes('@group(0) @binding(3) var<storage, read_write> out: array<${T}>;'), code);
  assert.not.ok(code.includes(' c: '), 'c is left out with NO_C');
  const plain = bindingsKernel.code({});
  assert.ok(plain.includes('@group(0) @binding(2) var<storage, read> c: array<i32>;'), plain);
  assert.ok(plain.includes('@group(0) @binding(3) var<storage, read_write> out: array<${T}>;'), plain);
});

test('the generated header: Params struct with padding and vec8u halves, binding 0, accessors, WORKGROUP_SIZE by the defines, index helpers, snippets, enables', () => {
  const code = bindingsKernel.code({ WIDE: true, SUBGROUPS: true });
  assert.ok(code.startsWith('enable subgroups;\n'), 'the enable first');
  assert.ok(code.includes('struct Params { n: u32, _pad0: u32, _pad1: u32, _pad2: u32, shape0: vec4u, shape1: vec4u }'), code);
  assert.ok(code.includes('@group(0) @binding(0) var<uniform> params: Params;'), code);
  assert.ok(code.includes('fn shapeAt(d: u32) -> u32 {'), 'vec8u accessor');
  assert.ok(code.includes('const WORKGROUP_SIZE = 256u;'), 'workgroup size chosen by the defines');
  assert.ok(code.includes('fn workgroupIndex(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }'), code);
  assert.ok(code.includes('fn globalIndex(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WORKGROUP_SIZE; }'), code);
  assert.ok(code.includes('fn powf('), 'the powf snippet');
  assert.ok(code.endsWith(bindingsKernel.spec.source), 'the body last');
  const narrow = bindingsKernel.code({});
  assert.not.ok(narrow.includes('enable subgroups'), 'no enable without its define');
  assert.ok(narrow.includes('const WORKGROUP_SIZE = 64u;'));
  const wgsl = preprocess('test/bindings', narrow, { T: 'vec4f' });
  assert.ok(wgsl.includes('var<storage, read> a: array<vec4f>;'), 'element types filled from the defines');
});

test('a dispatch packs by name what the generated struct reads (every field read back on the GPU); a missing buffer is refused by name', async () => {
  const echo = defineKernel({
    name: 'test/echo',
    source: `
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= 20u) { return; }
  var v = 0.0;
  if (i == 0u) { v = f32(params.n); }
  else if (i == 1u) { v = params.scale; }
  else if (i < 10u) { v = f32(shapeAt(i - 2u)); }
  else if (i == 10u) { v = f32(params.off); }
  else if (i < 19u) { v = f32(stridesAt(i - 11u)) + offsets[0]; }
  else { v = f32(params.last); }
  out[i] = v;
}
`,
    uniforms: UNIFORMS,
    bindings: [
      { name: 'offsets', type: 'f32', access: 'read' },
      { name: 'out', type: 'f32', access: 'read_write' },
    ],
    workgroupSize: 64,
  });
  const offsets = tensor([0.25], [1]);
  const out = empty([20]);
  echo.dispatch({
    uniforms: { n: 11, scale: -2.5, shape: [1, 2, 3, 4, 5, 6, 7, 8], off: -9, strides: [10, 20, 30], last: 12345 },
    bindings: { offsets, out },
    workgroups: runtime().grid(1),
  });
  assert.equal([...(await out.toArray())], [11, -2.5, 1, 2, 3, 4, 5, 6, 7, 8, -9, 10.25, 20.25, 30.25, 0.25, 0.25, 0.25, 0.25, 0.25, 12345]);
  await assertThrowsWith(
    () => echo.dispatch({ uniforms: { n: 1, scale: 1, shape: [], off: 0, strides: [], last: 0 }, bindings: { out }, workgroups: [1] }),
    ['test/echo', "'offsets'"],
    'missing buffer',
  );
  offsets.dispose();
  out.dispose();
});

test.run();
