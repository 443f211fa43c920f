// Loading weights into the wrong architecture says so in a few lines: what the model is
// against what the file holds, how many keys are missing, unexpected or of another shape, and
// the first few of each (a ResNet-18 file in a ResNet-50 model differs in over a hundred keys).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { init, MultiGrain, loadMultiGrainWeights, loadPretrainedTrunk, saveCheckpointFile, StateDictMismatchError } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('wrong architecture');
test.before(async () => {
  await init();
});

async function messageOf(fn: () => unknown): Promise<{ error: unknown; message: string }> {
  try {
    await fn();
  } catch (error) {
    return { error, message: (error as Error).message };
  }
  throw new Error('expected an error');
}

test('a ResNet-18 checkpoint into a ResNet-50 model: the architectures, the counts, the first five keys of each kind', async () => {
  const r18 = await new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10 }).exportStateDict();
  const path = join(scratchDir('arch'), 'r18.safetensors');
  await saveCheckpointFile(path, { groups: { model: r18 }, meta: {} });
  const r50 = new MultiGrain({ backbone: 50, baseWidth: 2, numClasses: 10 });

  const { error, message } = await messageOf(() => loadMultiGrainWeights(r50, path));
  assert.instance(error, StateDictMismatchError);
  const e = error as StateDictMismatchError;
  const lines = message.split('\n');
  assert.ok(lines.length <= 20, `a short message, got ${lines.length} lines:\n${message}`);
  assert.ok(e.missing.length + e.unexpected.length + e.shapeMismatches.length > 100, 'the lists themselves stay complete');
  assert.ok(lines[0]!.startsWith(`${path}: the model is ResNet-50, base width 2, 10 classes, the file holds ResNet-18, base width 2, 10 classes; `), lines[0]);
  assert.ok(lines[0]!.includes(`(${e.missing.length} missing, ${e.shapeMismatches.length} with a different shape; the model has ${r50.stateShapes().size} tensors, the file ${r18.size}):`), lines[0]);
  assert.is(lines.filter((l) => l.startsWith('  missing: ')).length, 5);
  assert.ok(lines.includes(`  ... and ${e.missing.length - 5} more missing`), message);
  assert.ok(lines.includes(`  missing: '${e.missing[0]}' (model expects [${r50.stateShapes().get(e.missing[0]!)!.join(', ')}])`), message);
  assert.ok(lines.includes(`  ... and ${e.shapeMismatches.length - 5} more with a different shape`), message);

  // the trunk loader (--pretrained-backbone) says the same
  const trunk = await messageOf(() => loadPretrainedTrunk(r50, path));
  assert.ok(trunk.message.split('\n').length <= 20 && trunk.message.includes('the file holds ResNet-18'), trunk.message);

  // Module.loadStateDict (resuming a training checkpoint) counts and lists five of each too
  const direct = await messageOf(() => r50.loadStateDict(r18));
  const dl = direct.message.split('\n');
  assert.ok(dl.length <= 20, `short: ${dl.length} lines:\n${direct.message}`);
  assert.match(dl[0]!, /^loadStateDict: \d+ problem\(s\) \(\d+ with a different shape, \d+ missing; the model has \d+ tensors, the state dict \d+\):$/);
  assert.is(dl.filter((l) => l.startsWith('  missing key ')).length, 5);
  assert.ok(dl.some((l) => /^ {2}\.\.\. and \d+ more missing$/.test(l)), direct.message);
});

test.run();
