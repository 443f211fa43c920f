import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MULTIGRAIN_CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint, loadCheckpointFile, makeHostTensor,
  readSafetensors, saveCheckpointFile, writeSafetensors,
} from '../../src/index.js';
import { assertSameTensor } from './fixtures.js';

const w = makeHostTensor('f32', [2, 2], new Float32Array([1, 2, 3, 4]));
const nbt = makeHostTensor('i64', [], new BigInt64Array([12n]));
const beta = makeHostTensor('f32', [], new Float32Array([1.2]));
const data = {
  groups: {
    model: new Map([['features.conv1.weight', w], ['features.bn1.num_batches_tracked', nbt]]),
    optimizer: new Map([['backbone.0.momentum_buffer', w]]),
    extra: new Map([['beta', beta]]),
  },
  meta: { epoch: 4, args: { lr: 0.2, backbone: 'resnet50' }, metrics: [{ epoch: 1, top1: 0.5 }] },
};

test('checkpoint = one safetensors file with grouped keys and JSON metadata', () => {
  const bytes = encodeCheckpoint(data);
  const raw = readSafetensors(bytes);
  assert.is(raw.metadata.format, MULTIGRAIN_CHECKPOINT_FORMAT);
  assert.is(raw.metadata.version, '1');
  assert.ok(raw.tensors.has('model/features.conv1.weight') && raw.tensors.has('extra/beta'));
  const back = decodeCheckpoint(bytes);
  assert.equal(back.meta, data.meta);
  assert.equal(Object.keys(back.groups).sort(), ['extra', 'model', 'optimizer']);
  for (const [g, dict] of Object.entries(data.groups)) {
    for (const [k, t] of dict) assertSameTensor(back.groups[g]!.get(k), t, `${g}/${k}`);
  }
});

test('foreign safetensors files and bad groups are refused', () => {
  assert.throws(() => decodeCheckpoint(writeSafetensors([['x', w]])), /not a MultiGrain-WebGPU checkpoint/);
  assert.throws(() => decodeCheckpoint(writeSafetensors([['model/x', w]], { format: MULTIGRAIN_CHECKPOINT_FORMAT, version: '99' })), /version 99 is not supported/);
  assert.throws(() => encodeCheckpoint({ groups: { 'a/b': new Map() }, meta: null }), /group name 'a\/b'/);
});

test('save/load through files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mg-ckpt-'));
  try {
    const path = join(dir, 'checkpoint_4.safetensors');
    await saveCheckpointFile(path, data);
    const back = await loadCheckpointFile(path);
    assert.equal(back.meta, data.meta);
    assert.equal(readdirSync(dir), ['checkpoint_4.safetensors']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
