/**
 * PCA with whitening, as scikit-learn's `PCA(whiten=True, n_components=D)` that the original
 * release fits: mean m, covariance with the unbiased 1 / (n - 1), all D components kept, and
 * projection P = eigenvectors / sqrt(eigenvalues) (column j = component j), so that
 * (x - m) P has identity covariance on the fitting set. Float64 throughout.
 */
import { symmetricEigen } from './eigen.js';

/** A fitted whitening: whitened(x) = (x - mean) · projection. */
export interface PcaWhiteningFit {
  dim: number;
  /** [dim] */
  mean: Float64Array;
  /** [dim, dim] row-major, column j = eigenvector j / sqrt(eigenvalue j). */
  projection: Float64Array;
  /** [dim] descending (after the floor below). */
  eigenvalues: Float64Array;
  /** [dim, dim] row-major, column j = unit eigenvector j. */
  eigenvectors: Float64Array;
  /** Components whose eigenvalue was raised to the floor (zero-variance directions, e.g. dead channels). */
  floored: number;
}

/** Eigenvalues below this fraction of the largest are raised to it (a zero would divide by zero). */
export const EIGENVALUE_FLOOR = 1e-10;

/** Rows per block of the covariance accumulation (keeps the D x D sum in cache longer). */
const BLOCK = 64;

/**
 * Fits PCA whitening to `rows` (n rows of `dim` values, row-major). Needs n > dim, as
 * scikit-learn does for `n_components = dim`: with fewer rows the covariance is singular.
 */
export function fitPcaWhitening(rows: Float64Array | Float32Array, n: number, dim: number): PcaWhiteningFit {
  if (rows.length !== n * dim) throw new Error(`fitPcaWhitening: ${rows.length} values for ${n} rows of ${dim}`);
  if (n <= dim) {
    throw new Error(`PCA whitening of ${dim}-d vectors needs more than ${dim} images, got ${n} (use more whitening images)`);
  }
  const mean = new Float64Array(dim);
  for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) mean[i]! += rows[r * dim + i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= n;
  const cov = covariance(rows, n, dim, mean);
  const { values, vectors } = symmetricEigen(cov, dim);
  const floor = Math.max(values[0]!, 0) * EIGENVALUE_FLOOR || Number.MIN_VALUE;
  let floored = 0;
  for (let j = 0; j < dim; j++) {
    if (values[j]! < floor) {
      values[j] = floor;
      floored++;
    }
  }
  const projection = new Float64Array(dim * dim);
  for (let j = 0; j < dim; j++) {
    const s = 1 / Math.sqrt(values[j]!);
    for (let i = 0; i < dim; i++) projection[i * dim + j] = vectors[i * dim + j]! * s;
  }
  return { dim, mean, projection, eigenvalues: values, eigenvectors: vectors, floored };
}

/** Unbiased covariance of the rows around `mean`, accumulated block by block. */
function covariance(rows: Float64Array | Float32Array, n: number, dim: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(dim * dim);
  const block = new Float64Array(BLOCK * dim);
  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const b = Math.min(BLOCK, n - r0);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < dim; i++) block[i * BLOCK + r] = rows[(r0 + r) * dim + i]! - mean[i]!; // transposed: column i contiguous
    }
    for (let i = 0; i < dim; i++) {
      const bi = i * BLOCK;
      for (let j = 0; j <= i; j++) {
        const bj = j * BLOCK;
        let s = 0;
        for (let r = 0; r < b; r++) s += block[bi + r]! * block[bj + r]!;
        cov[i * dim + j]! += s;
      }
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      const c = cov[i * dim + j]! / (n - 1);
      cov[i * dim + j] = c;
      cov[j * dim + i] = c;
    }
  }
  return cov;
}

/** (x - mean) · projection for one vector. */
export function applyPcaWhitening(fit: PcaWhiteningFit, x: ArrayLike<number>): Float64Array {
  const { dim, mean, projection } = fit;
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    const c = x[i]! - mean[i]!;
    if (c === 0) continue;
    for (let j = 0; j < dim; j++) out[j]! += c * projection[i * dim + j]!;
  }
  return out;
}
