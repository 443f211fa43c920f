/**
 * PCA whitening folded into a MultiGrain model, as the original's `whiten.py`:
 * the pooled vectors of a whitening image set get a constant-1 bias channel, are l2-normalized,
 * and PCA-whitened (mean m, projection P); the model gains the stage (l2n(x) - m) P and its
 * classifier is rewritten to read the whitened vector: W' = [W | b] (Pᵀ)⁻¹, b' = m [W | b]ᵀ.
 * Since (Pᵀ)⁻¹ = V diag(sqrt(eigenvalues)) no general inverse is needed. The whitened model's
 * logits are the old logits divided by ||[e, 1]|| (+1e-6): every class ranking is unchanged.
 */
import type { DataLoader } from '../../data/index.js';
import type { MultiGrain } from '../model.js';
import { extractEmbeddings, type Embeddings } from '../retrieval/embeddings.js';
import { fitPcaWhitening, type PcaWhiteningFit } from './pca.js';
import { validateOptions, type OptionTable } from '../../util/options.js';

/** Epsilon of the model's l2 normalization: x / (||x|| + 1e-6). */
const L2N_EPS = 1e-6;

/**
 * The numeric options of `whiten`, declared once with their flag and range: `multigrain whiten`
 * takes its flag from here (with its own default), so both refuse the same values alike.
 */
export const WHITEN_OPTION_SPECS = {
  batchSize: { flag: 'batch-size', type: 'int', help: 'images per forward pass (rect mode also ends a batch at a size change)', default: 1, min: 1 },
} as const satisfies OptionTable;

export interface WhitenOptions {
  /** Fit the PCA on the bias channel too (default true); false = the original's `--no-include-last`: PCA on the pooled dimensions only, the bias channel passes through (identity row and column, mean 0). */
  includeBias?: boolean;
  /** Images per forward pass (default 1; rect mode also ends a batch where the size changes). */
  batchSize?: number;
  /** Progress bar label for the feature extraction; none when omitted. */
  progress?: string;
}

/** What was fitted. */
export interface WhitenResult {
  images: number;
  dim: number;
  fit: PcaWhiteningFit;
}

/**
 * Embeds the loader's images (the whitening set, at the test scale), fits PCA whitening and
 * folds it into the model (which must not be whitened yet). The model is changed only once
 * the fit has succeeded.
 */
export async function whiten(model: MultiGrain, loader: DataLoader, options: WhitenOptions = {}): Promise<WhitenResult> {
  validateOptions(WHITEN_OPTION_SPECS, options);
  if (model.whitening) throw new Error('whiten: the model is already whitened (load the checkpoint from before whitening)');
  // skipped (unreadable) images are left out of the fit, not fitted as zero vectors
  const pooled = withoutMissing(await extractEmbeddings(model, loader, { kind: 'pooled', batchSize: options.batchSize ?? 1, ...(options.progress ? { progress: options.progress } : {}) }));
  if (pooled.rows === 0) throw new Error('whiten: no readable whitening image');
  const vectors = normalizedWithBias(pooled.data, pooled.rows, pooled.dim);
  const dim = pooled.dim + 1;
  const includeBias = options.includeBias ?? true;
  const fitDim = includeBias ? dim : dim - 1;
  const fit = fitPcaWhitening(includeBias ? vectors : dropLastColumn(vectors, pooled.rows, dim), pooled.rows, fitDim);
  await applyWhitening(model, fit, includeBias);
  return { images: pooled.rows, dim, fit };
}

/** The embeddings without the rows of skipped images. */
function withoutMissing(e: Embeddings): Embeddings {
  if (!e.skipped?.length) return e;
  const gone = new Set(e.skipped);
  const keepRows = Array.from({ length: e.rows }, (_, r) => r).filter((r) => !gone.has(r));
  const data = new Float32Array(keepRows.length * e.dim);
  keepRows.forEach((r, k) => data.set(e.data.subarray(r * e.dim, (r + 1) * e.dim), k * e.dim));
  return { rows: keepRows.length, dim: e.dim, data };
}

/** Rows [e, 1] / (||[e, 1]|| + 1e-6) in float64, as the whitening stage sees them. */
export function normalizedWithBias(data: Float32Array, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows * (dim + 1));
  for (let r = 0; r < rows; r++) {
    let sq = 1;
    for (let i = 0; i < dim; i++) sq += data[r * dim + i]! ** 2;
    const s = 1 / (Math.sqrt(sq) + L2N_EPS);
    for (let i = 0; i < dim; i++) out[r * (dim + 1) + i] = data[r * dim + i]! * s;
    out[r * (dim + 1) + dim] = s;
  }
  return out;
}

function dropLastColumn(m: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * (cols - 1));
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols, r * cols + cols - 1), r * (cols - 1));
  return out;
}

/**
 * Installs a fitted whitening in an un-whitened model: m and P of the whitening stage (padded
 * with the identity for the bias channel when the fit excludes it) and the rewritten classifier.
 */
export async function applyWhitening(model: MultiGrain, fit: PcaWhiteningFit, includeBias = true): Promise<void> {
  if (model.whitening) throw new Error('applyWhitening: the model is already whitened');
  const d = model.features.featureDim + 1;
  if (fit.dim !== (includeBias ? d : d - 1)) throw new Error(`applyWhitening: a ${fit.dim}-d fit for a model whose whitened vector has ${d} dimensions${includeBias ? '' : ' (without the bias channel: ' + (d - 1) + ')'}`);
  const classes = model.options.numClasses;
  const W = (await model.classifier.weight.toArray()) as Float32Array;
  const b = (await model.classifier.bias!.toArray()) as Float32Array;
  const { mean, projection, inverseT } = paddedWhitening(fit, d);
  const { weight: newW, bias: newB } = whitenedClassifier(W, b, classes, mean, inverseT);
  model.enableWhitening();
  model.whitening!.pca.m.assign(Float32Array.from(mean));
  model.whitening!.pca.P.assign(Float32Array.from(projection));
  model.classifier.weight.assign(Float32Array.from(newW));
  model.classifier.bias!.assign(Float32Array.from(newB));
}

/**
 * The classifier that reads the whitened vector: W' = [W | b] (Pᵀ)⁻¹ and b' = m [W | b]ᵀ, in
 * float64, for W [classes, d - 1] and b [classes]; `inverseT` = (Pᵀ)⁻¹ [d, d].
 */
export function whitenedClassifier(W: ArrayLike<number>, b: ArrayLike<number>, classes: number, mean: ArrayLike<number>, inverseT: ArrayLike<number>): { weight: Float64Array; bias: Float64Array } {
  const d = mean.length;
  const weight = new Float64Array(classes * d);
  const bias = new Float64Array(classes);
  const row = new Float64Array(d);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < d - 1; i++) row[i] = W[c * (d - 1) + i]!;
    row[d - 1] = b[c]!;
    let bc = 0;
    for (let i = 0; i < d; i++) bc += mean[i]! * row[i]!;
    bias[c] = bc;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += row[i]! * inverseT[i * d + j]!;
      weight[c * d + j] = s;
    }
  }
  return { weight, bias };
}

/** m, P and (Pᵀ)⁻¹ = V diag(sqrt(λ)) over all d dimensions (identity for an excluded bias channel). */
export function paddedWhitening(fit: PcaWhiteningFit, d: number): { mean: Float64Array; projection: Float64Array; inverseT: Float64Array } {
  const k = fit.dim;
  const mean = new Float64Array(d);
  const projection = new Float64Array(d * d);
  const inverseT = new Float64Array(d * d);
  mean.set(fit.mean);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      projection[i * d + j] = fit.projection[i * k + j]!;
      inverseT[i * d + j] = fit.eigenvectors[i * k + j]! * Math.sqrt(fit.eigenvalues[j]!);
    }
  }
  for (let i = k; i < d; i++) {
    projection[i * d + i] = 1;
    inverseT[i * d + i] = 1;
  }
  return { mean, projection, inverseT };
}
