import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PickleObject, checkpointGet, flattenCheckpointTensors, isHostTensor, loadTorchCheckpoint, loadTorchCheckpointFile,
  ZipArchive, pickleBuildState, readSafetensors, type HostTensor,
} from '../../src/index.js';
import { assertSameTensor, fixture, fixturePath } from './fixtures.js';

const expected = readSafetensors(fixture('tiny_expected.safetensors')).tensors;
const FILES = [
  ['tiny_zip.pth', 'zip'],
  ['tiny_zip_p4.pth', 'zip'],
  ['tiny_deflate.pth', 'zip'],
  ['tiny_legacy.pth', 'legacy'],
] as const;

for (const [file, format] of FILES) {
  test(`${file}: every tensor equals the generator's data exactly`, async () => {
    const ckpt = await loadTorchCheckpoint(fixture(file));
    assert.is(ckpt.format, format);
    const got = flattenCheckpointTensors(ckpt.value);
    assert.equal([...got.keys()].sort(), [...expected.keys()].sort());
    for (const [k, t] of expected) assertSameTensor(got.get(k), t, `${file} ${k}`);
  });

  test(`${file}: structure and plain values`, async () => {
    const { value } = await loadTorchCheckpoint(fixture(file));
    const v = value as Map<string, unknown>;
    assert.equal([...v.keys()], ['model_state', 'optimizer_state', 'extra', 'tensors', 'misc']);
    const ms = v.get('model_state') as Map<string, HostTensor>;
    assert.ok(ms instanceof Map);
    assert.is([...ms.keys()][0], 'features.conv1.weight');
    const nbt = ms.get('features.bn1.num_batches_tracked')!;
    assert.is(nbt.dtype, 'i64');
    assert.equal(nbt.shape, []);
    assert.equal(Array.from(nbt.data as BigInt64Array), [7n]);
    // OrderedDict._metadata comes through BUILD.
    const meta = pickleBuildState(ms) as Map<string, Map<string, unknown>>;
    assert.equal(meta.get('_metadata')!.get('features'), new Map([['version', 1]]));
    const beta = checkpointGet(value, 'extra.beta') as HostTensor;
    assert.ok(isHostTensor(beta));
    assert.is((beta.data as Float32Array)[0], Math.fround(1.2));
    assert.ok(isHostTensor(checkpointGet(value, ['optimizer_state', 'state', 0, 'momentum_buffer'])));
    const pg = checkpointGet(value, 'optimizer_state.param_groups.0') as Map<string, unknown>;
    assert.equal(Object.fromEntries(pg), { lr: 0.1, momentum: 0.9, weight_decay: 1e-4, nesterov: false, params: [0, 1] });
    const misc = Object.fromEntries(v.get('misc') as Map<string, unknown>);
    assert.equal(misc, {
      epoch: 3, name: 'tiny', tuple: [1, 2.5, null, true], big: 2n ** 70n, neg: -5,
      bytes: new Uint8Array([0, 1, 255]), float: 0.1, list: [1, 'a'], unicode: 'h\u00e9llo \u2603',
    });
  });
}

test('views of one storage: transpose, slice with offset, stride 0', async () => {
  const { value } = await loadTorchCheckpoint(fixture('tiny_zip.pth'));
  const t = (k: string) => checkpointGet(value, ['tensors', k]) as HostTensor;
  const base = t('shared_a').data as Float32Array;
  const tr = t('transposed');
  assert.equal(tr.shape, [6, 4]);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) assert.is((tr.data as Float32Array)[i * 4 + j], base[j * 6 + i]);
  assert.equal(Array.from(t('slice').data as Float32Array), [8, 9, 10, 14, 15, 16].map((i) => base[i]!));
  assert.equal(Array.from(t('shared_b').data as Float32Array), Array.from(base.subarray(5, 11)));
  assert.equal(Array.from(t('expanded').data as Float32Array), [1, 2, 3, 1, 2, 3]);
  assert.ok(t('shared_a').data !== t('shared_b').data, 'tensors are independent copies');
});

test('the loader refuses globals outside its whitelist, naming them', async () => {
  try {
    await loadTorchCheckpoint(fixture('unknown_global.pth'));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /global 'argparse\.Namespace' is not supported/);
  }
  const { value } = await loadTorchCheckpoint(fixture('unknown_global.pth'), { unknownGlobals: 'stub' });
  const args = checkpointGet(value, 'args') as PickleObject;
  assert.ok(args instanceof PickleObject);
  assert.equal(args.state, new Map([['lr', 0.1]]));
  assert.equal(Array.from((checkpointGet(value, 'w') as HostTensor).data as Float32Array), [1, 1]);
});

test('truncated and corrupt files give clear errors', async () => {
  const cases: Array<[Uint8Array, RegExp]> = [];
  const zip = fixture('tiny_zip.pth');
  cases.push([zip.subarray(0, zip.length >> 1), /zip: end of central directory not found; the archive is truncated/]);
  const legacy = fixture('tiny_legacy.pth');
  cases.push([legacy.subarray(0, legacy.length - 2), /file truncated inside storage '\d+' \(needs \d+ bytes/]);
  cases.push([legacy.subarray(0, 400), /pickle: unexpected end of data/]);
  cases.push([new Uint8Array([1, 2, 3, 4]), /not a PyTorch checkpoint/]);
  const badMagic = new Uint8Array([0x80, 2, 0x4b, 5, 0x2e]);
  cases.push([badMagic, /without the PyTorch magic number/]);
  for (const [bytes, re] of cases) {
    try {
      await loadTorchCheckpoint(bytes);
      assert.unreachable(`no error for ${re}`);
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
});

test('a bad opcode inside data.pkl is reported (CRC check off), or caught by the CRC', async () => {
  const bytes = fixture('tiny_zip.pth').slice();
  const zip = new ZipArchive(bytes);
  const pkl = zip.rawEntryData(zip.entries.get('tiny_zip/data.pkl')!);
  pkl[2] = 0xff; // right after PROTO 2
  for (const [verifyCrc, re] of [[false, /pickle: unknown or unsupported opcode 0xff .*at byte 2/], [true, /CRC mismatch in entry 'tiny_zip\/data\.pkl'/]] as const) {
    try {
      await loadTorchCheckpoint(bytes, { verifyCrc });
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
});

test('loadTorchCheckpointFile prefixes errors with the path', async () => {
  const ok = await loadTorchCheckpointFile(fixturePath('resnet_tv_tiny.pth'));
  assert.is(ok.format, 'zip');
  try {
    await loadTorchCheckpointFile(fixturePath('unknown_global.pth'));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /unknown_global\.pth: pickle: global 'argparse\.Namespace'/);
  }
});

test.run();
