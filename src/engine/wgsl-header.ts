/**
 * Generates the WGSL header of a declared kernel (kernel.ts): the `Params` uniform struct at
 * binding 0 (fields in declared order, explicit padding), one storage array per active
 * binding at 1, 2, ..., accessors for vec8u fields, `WORKGROUP_SIZE`, the index helpers and
 * the shared snippets the kernel asks for (shaders/common/).
 */
import rowsSnippet from '../../shaders/common/rows.wgsl';
import powfSnippet from '../../shaders/common/powf.wgsl';
import divmodSnippet from '../../shaders/common/divmod.wgsl';
import batchRowSnippet from '../../shaders/common/batch_row.wgsl';
import distanceWeightsSnippet from '../../shaders/common/distance_weights.wgsl';
import matmulEpilogueSnippet from '../../shaders/common/matmul_epilogue.wgsl';
import convEpilogueSnippet from '../../shaders/common/conv_epilogue.wgsl';
import winoTileSnippet from '../../shaders/common/wino_tile.wgsl';
import type { Defines } from './pipelines.js';
import type { KernelSpec, BindingSpec } from './kernel.js';
import type { UniformLayout, UniformTypes } from './uniform-layout.js';

const SNIPPETS = {
  /** `T` threads per row, `rowIndex(wid, nwg, lid)`, `rowLane(lid)`, the row trees `rowSumOrMax`, `rowSums`, `rowSumsOrArgmax`. */
  rows: rowsSnippet,
  /** `powf` (PyTorch's pow for negative bases), `infinity()`, `nan()`. */
  powf: powfSnippet,
  /** `divmod(a, d, 1 / d)`: exact in-plane division by a uniform divisor (a < 2^22). */
  divmod: divmodSnippet,
  /** `batchRow(i)`: an index into [0, params.B), clamped like gather. */
  batchRow: batchRowSnippet,
  /** `pairLogw(i, j)` of distance-weighted sampling from `gram`, `negInf()`, `reduceMax(v, lid)`. */
  distanceWeights: distanceWeightsSnippet,
  /** `epilogue(m, v, index)`: matmul's per-row bias, scale/shift, residual, ReLU (EPI). */
  matmulEpilogue: matmulEpilogueSnippet,
  /** `epilogue(ch, index, acc)`: the convolutions' fused bias / scale-shift / residual / ReLU (uniform `epi`). */
  convEpilogue: convEpilogueSnippet,
  /** `tileOf(p, TH, TW)`: image and tile row / column of Winograd tile p. */
  winoTile: winoTileSnippet,
} as const;

export type Snippet = keyof typeof SNIPPETS;

export function generateHeader<U extends UniformTypes>(spec: KernelSpec<U>, layout: UniformLayout, defines: Defines, size: number | undefined): string {
  const lines: string[] = [];
  for (const [define, extension] of Object.entries(spec.enables ?? {})) {
    if (defines[define]) lines.push(`enable ${extension};`);
  }
  lines.push(`// ${spec.name}: header generated from its declaration (src/engine/kernels/${spec.name}.ts)`);
  lines.push(...uniformStruct(layout));
  const active = spec.bindings.filter((b) => (b.when === undefined || !!defines[b.when]) && (b.unless === undefined || !defines[b.unless]));
  active.forEach((b, i) => lines.push(bindingLine(b, i + 1)));
  if (size !== undefined) lines.push(`const WORKGROUP_SIZE = ${size}u;`);
  lines.push('fn workgroupIndex(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }');
  if (size !== undefined) {
    lines.push('fn globalIndex(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WORKGROUP_SIZE; }');
  }
  for (const name of spec.snippets ?? []) lines.push(SNIPPETS[name]);
  return lines.join('\n') + '\n';
}

function uniformStruct(layout: UniformLayout): string[] {
  const fields: string[] = [];
  const accessors: string[] = [];
  for (const f of layout.fields) {
    if (f.type === 'vec8u') {
      fields.push(`${f.name}0: vec4u, ${f.name}1: vec4u`);
      accessors.push(`fn ${f.name}At(d: u32) -> u32 { if (d < 4u) { return params.${f.name}0[d]; } return params.${f.name}1[d - 4u]; }`);
    } else {
      fields.push(`${f.name}: ${f.type}`);
    }
  }
  return [`struct Params { ${fields.join(', ')} }`, '@group(0) @binding(0) var<uniform> params: Params;', ...accessors];
}

function bindingLine(b: BindingSpec, index: number): string {
  return `@group(0) @binding(${index}) var<storage, ${b.access}> ${b.name}: array<${b.type}>;`;
}
