/**
 * p-finetuning: adapt the GeM exponent p to a larger test scale. The network
 * is frozen (batchnorm in eval mode, trunk and classifier fixed); only p learns, with the
 * cross-entropy of a small labelled subset seen at the test scale, by SGD with momentum and a
 * polynomial learning-rate decay lr (1 - i / N)^power over one pass (N steps).
 * The trunk runs without autograd (nothing of it is needed for dL/dp), so a step costs about
 * one inference pass.
 */
import { tensor, crossEntropy, mulScalar, add, backward, noGrad, tidy, keep, concat, reshape, SGD, type Tensor, type Shape } from '../engine/index.js';
import { DataLoader, type Dataset, type HostBatch, type ImageTransform, type TransformSpec } from '../data/index.js';
import { polyLr } from './training/schedule.js';
import { ProgressBar } from './training/progress.js';
import { validateOptions, type OptionTable } from '../util/options.js';

/** Defaults of `finetuneP` (the original's finetune_p.py); `multigrain finetune-p` shows and uses the same. */
export const FINETUNE_P_DEFAULTS = { learningRate: 0.005, momentum: 0.9, decayPower: 0.9, batchSize: 4, logEvery: 10 } as const;

const D = FINETUNE_P_DEFAULTS;

/**
 * The numeric options of `finetuneP`, declared once with their flag and allowed range:
 * `multigrain finetune-p` takes its flags from these entries, so that its parser and
 * `finetuneP` refuse the same values with the same message.
 */
export const FINETUNE_P_OPTION_SPECS = {
  learningRate: { flag: 'learning-rate', type: 'number', help: 'SGD learning rate of p', default: D.learningRate, min: 0, exclusiveMin: true },
  decayPower: { flag: 'learning-rate-decay-power', type: 'number', help: 'per-step polynomial decay lr (1 - i/N)^power', default: D.decayPower, min: 0 },
  momentum: { flag: 'momentum', type: 'number', help: 'SGD momentum', default: D.momentum, min: 0, max: 1, exclusiveMax: true },
  batchSize: { flag: 'batch-size', type: 'int', help: 'images per step', default: D.batchSize, min: 1 },
  /** GeM needs p > 0: p <= 0 is no mean of positive activations. */
  initialP: { flag: 'init-pooling-exponent', type: 'number', help: 'overwrite p of the checkpoint before tuning', min: 0, exclusiveMin: true },
  logEvery: { type: 'int', help: 'read back loss and p every N steps (0: only at the end)', default: D.logEvery, min: 0 },
} as const satisfies OptionTable;

/** Refuses options outside their declared range (FINETUNE_P_OPTION_SPECS), naming the flag; does no work. */
export function validateFinetunePOptions(options: FinetunePOptions): void {
  validateOptions(FINETUNE_P_OPTION_SPECS, options);
}

/**
 * Stops p-finetuning when p has left (0, inf) (GeM with p <= 0 is no generalised mean of positive
 * activations; NaN or inf poisons every embedding) and warns once when it has gone below 1
 * (a GeM below p = 1 pools below the arithmetic mean). Called where p is read back anyway.
 * Returns whether it warned.
 */
export function checkFinetunedP(p: number, step: number, initialP: number, lr: number, warned: boolean, warn: (message: string) => void): boolean {
  if (!(p > 0 && Number.isFinite(p))) {
    throw new Error(
      `finetune-p: p left (0, inf): p = ${p} after step ${step} (it started at ${initialP}); ` +
        `GeM needs p > 0: try a lower --learning-rate (now ${lr}), or a better trained model`,
    );
  }
  if (p < 1 && !warned) {
    warn(`finetune-p: warning: p = ${p.toFixed(4)} < 1 after step ${step}: GeM with p < 1 pools below the arithmetic mean (p = 1)`);
    return true;
  }
  return warned;
}

export interface FinetunePOptions {
  /** Base learning rate (default 0.005). */
  learningRate?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Exponent of the polynomial decay (default 0.9). */
  decayPower?: number;
  /** Images per step (default 4). In rect mode the images of a step may differ in size: their losses are summed. */
  batchSize?: number;
  /** Overwrite p before tuning (the original's --init-pooling-exponent). */
  initialP?: number;
  /** Dataset indices to tune on, in order (default: all of the loader's dataset). */
  indices?: ArrayLike<number>;
  /** Read back loss and p every this many steps (default 10; 0 = only at the end). */
  logEvery?: number;
  /** Progress bar label; none when omitted. */
  progress?: string;
  /** Where a warning goes (p below 1); default console.warn. */
  warn?: (message: string) => void;
  /**
   * The pipeline when a Dataset (not a DataLoader) is given; it sets the test scale
   * (default: the square evaluation transform at 224).
   */
  transform?: TransformSpec | ImageTransform;
}

/**
 * A model whose GeM exponent can be tuned: MultiGrain, or any model with a `pool` that has a
 * [1] tensor `p` and `setLearnable`, and a forward giving logits. With `features.features(x)`
 * and `head(f)` (as MultiGrain) the trunk runs without autograd; else the whole forward is
 * recorded (more memory, same gradient).
 */
export interface PTunableModel {
  pool: { p: Tensor; setLearnable(learn: boolean): void };
  eval(): unknown;
  forward(x: Tensor): { logits: Tensor };
  features?: { features(x: Tensor): Tensor };
  head?(f: Tensor): { logits: Tensor };
}

/** The model's logits, with the trunk (when it can be told apart, as in MultiGrain) run without autograd. */
function tuningLogits(model: PTunableModel, x: Tensor): Tensor {
  if (model.features && typeof model.features.features === 'function' && model.head) {
    const f = noGrad(() => model.features!.features(x));
    return model.head(f).logits;
  }
  return model.forward(x).logits;
}

/** The loader to tune on: the one given, or one over a Dataset (calling thread, `transform`). */
function tuningLoader(source: DataLoader | Dataset, options: FinetunePOptions): { loader: DataLoader; owned: boolean } {
  if (source instanceof DataLoader) return { loader: source, owned: false };
  if (!source || typeof source.get !== 'function') throw new Error('finetuneP: give a DataLoader or a dataset (length and get(i) giving { image, label })');
  const transform = options.transform ?? { kind: 'val', mode: 'square', size: 224 };
  return { loader: new DataLoader({ dataset: source, transform, workers: 0 }), owned: true };
}

export interface FinetunePRecord {
  step: number;
  lr: number;
  /** Mean cross-entropy of the steps since the previous record. */
  loss: number;
  p: number;
}

export interface FinetunePResult {
  initialP: number;
  p: number;
  steps: number;
  history: FinetunePRecord[];
}

/**
 * Tunes `model.pool.p` on the images of a loader or of any Dataset (their transform sets the
 * test scale; no augmentation). Leaves the model in eval mode with p fixed again (a buffer).
 * Stops with an error when p leaves (0, inf) (checked where p is read back: every `logEvery`
 * steps and at the end), restoring p to its value before tuning; warns once when p goes below 1.
 */
export async function finetuneP(model: PTunableModel, source: DataLoader | Dataset, options: FinetunePOptions = {}): Promise<FinetunePResult> {
  validateFinetunePOptions(options);
  const { loader, owned } = tuningLoader(source, options);
  try {
    return await tuneP(model, loader, options);
  } finally {
    if (owned) await loader.close();
  }
}

async function tuneP(model: PTunableModel, loader: DataLoader, options: FinetunePOptions): Promise<FinetunePResult> {
  const B = options.batchSize ?? D.batchSize;
  const lr = options.learningRate ?? D.learningRate;
  const power = options.decayPower ?? D.decayPower;
  const logEvery = options.logEvery ?? D.logEvery;
  const warn = options.warn ?? ((m: string): void => console.warn(m));
  const total = options.indices ? options.indices.length : loader.dataset.length;
  if (total === 0) throw new Error('finetuneP: no images to tune on');
  const steps = Math.ceil(total / B);
  if (options.initialP !== undefined) model.pool.p.assign(Float32Array.of(options.initialP));
  const initialP = (await model.pool.p.item()) as number;
  model.eval();
  model.pool.setLearnable(true);
  const p = model.pool.p;
  const opt = new SGD([{ params: [p], lr, momentum: options.momentum ?? D.momentum, name: 'p' }]);
  const bar = options.progress ? new ProgressBar(options.progress, steps, 'step') : null;
  const history: FinetunePRecord[] = [];
  let lossSum: Tensor | null = null; // summed step losses since the last record, on the GPU
  let sinceLog = 0;
  let step = 0;
  let warned = false;
  const record = async (): Promise<void> => {
    if (!lossSum) return;
    const both = noGrad(() => concat([lossSum!, p], 0));
    const [l, pv] = Array.from(await both.toArray());
    both.dispose();
    lossSum.dispose();
    lossSum = null;
    warned = checkFinetunedP(pv!, step, initialP, lr, warned, warn);
    history.push({ step, lr: opt.groups[0]!.lr, loss: l! / sinceLog, p: pv! });
    sinceLog = 0;
  };
  let failed = true;
  try {
    const batches = loader.evaluation({ batchSize: B, ...(options.indices ? { indices: options.indices } : {}) });
    for await (const piece of piecesByStep(batches, B)) {
      const inStep = Math.min(B, total - piece.step * B);
      // this piece's share of the step's mean loss: the pieces of a step (size changes) add up to it
      const stepLoss = tidy(() => {
        const logits = tuningLogits(model, tensor(piece.images, piece.shape));
        const classes = logits.shape[1]!;
        const bad = piece.labels.find((l) => !(l >= 0 && l < classes));
        if (bad !== undefined) throw new Error(`finetuneP: label ${bad} is not a class of the model (0..${classes - 1}); p-finetuning needs a labelled set`);
        const loss = mulScalar(crossEntropy(logits, tensor(piece.labels, [piece.labels.length], 'i32')), piece.labels.length / inStep);
        backward(loss, { targets: [p] });
        return keep(noGrad(() => reshape(loss, [1])));
      });
      const stepDone = piece.last === total - 1 || (piece.last + 1) % B === 0;
      lossSum = accumulate(lossSum, stepLoss);
      if (!stepDone) continue;
      opt.groups[0]!.lr = polyLr(lr, step, steps, power);
      opt.step();
      opt.zeroGrad();
      step++;
      sinceLog++;
      if (logEvery > 0 && step % logEvery === 0) await record();
      bar?.update(step, history.length ? `p ${history[history.length - 1]!.p.toFixed(4)}` : '');
    }
    await record(); // the last steps' record: p is checked at the end whatever logEvery
    failed = false;
  } finally {
    opt.dispose();
    (lossSum as Tensor | null)?.dispose();
    model.pool.setLearnable(false);
    // a failed tuning leaves the model as it came, not with a p that poisons every embedding
    if (failed) model.pool.p.assign(Float32Array.of(initialP));
  }
  const final = (await p.item()) as number;
  bar?.finish(`p ${final.toFixed(4)}`);
  return { initialP, p: final, steps: step, history };
}

interface StepPiece {
  images: Float32Array;
  shape: Shape;
  labels: Int32Array;
  /** Step the images belong to. */
  step: number;
  /** Position of the piece's last image. */
  last: number;
}

/** Splits evaluation batches where a step of B images ends (a batch may straddle two steps). */
async function* piecesByStep(batches: AsyncIterable<HostBatch>, B: number): AsyncGenerator<StepPiece> {
  for await (const batch of batches) {
    const [n, c, h, w] = batch.shape;
    let start = 0;
    while (start < n) {
      const step = Math.floor(batch.positions[start]! / B);
      let end = start + 1;
      while (end < n && Math.floor(batch.positions[end]! / B) === step) end++;
      yield {
        images: batch.images.subarray(start * c * h * w, end * c * h * w),
        shape: [end - start, c, h, w],
        labels: batch.labels.subarray(start, end),
        step,
        last: batch.positions[end - 1]!,
      };
      start = end;
    }
  }
}

/** Adds a piece's loss [1] to the running sum (both kept; the piece is consumed). */
function accumulate(sum: Tensor | null, piece: Tensor): Tensor {
  if (!sum) return piece;
  const next = keep(noGrad(() => add(sum, piece)));
  sum.dispose();
  piece.dispose();
  return next;
}
