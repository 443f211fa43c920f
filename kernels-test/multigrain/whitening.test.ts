// PCA whitening: the float64 eigensolver, the PCA fit, and whitening folded
// into a MultiGrain model with its classifier rewritten so that every class ranking survives;
// the fit and the rewrite against numpy LAPACK (tools/gen_whitening_fixture.py, sklearn's recipe).
import { suite } from 'uvu';
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import {
  init, tensor, noGrad, MultiGrain, DataLoader, RecordDataset, createRgbImage, symmetricEigen, fitPcaWhitening,
  applyPcaWhitening, whiten, normalizedWithBias, extractEmbeddings, whitenedClassifier, paddedWhitening, type RgbImage, type Tensor,
} from '../../src/index.js';
import { rng } from '../helpers.js';

const test = suite('whitening');

test.before(async () => {
  await init();
});

/** Deterministic uniform numbers in [-1, 1). */
function randoms(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => 2 * r() - 1);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

test('symmetricEigen: A V = V diag(values), VᵀV = I, values descending (random, repeated, zero, 1x1)', () => {
  const cases: { name: string; n: number; a: Float64Array }[] = [];
  for (const n of [1, 2, 7, 40]) {
    const r = randoms(n * n, n);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = r[i * n + j]! + r[j * n + i]!;
    cases.push({ name: `random ${n}`, n, a });
  }
  const diag = new Float64Array(25);
  [3, 1, 3, 0, -2].forEach((v, i) => (diag[i * 5 + i] = v)); // repeated and zero eigenvalues
  cases.push({ name: 'diagonal with repeats', n: 5, a: diag });
  cases.push({ name: 'zero', n: 4, a: new Float64Array(16) });
  const low = randoms(6 * 2, 9); // rank 2: X Xᵀ
  const rank2 = new Float64Array(36);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) rank2[i * 6 + j] = low[i * 2]! * low[j * 2]! + low[i * 2 + 1]! * low[j * 2 + 1]!;
  cases.push({ name: 'rank 2', n: 6, a: rank2 });
  for (const { name, n, a } of cases) {
    const { values, vectors } = symmetricEigen(a, n);
    const scale = Math.max(maxAbs(a), 1);
    for (let j = 1; j < n; j++) assert.ok(values[j - 1]! >= values[j]!, `${name}: descending`);
    let residual = 0;
    let ortho = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let av = 0;
        let vtv = 0;
        for (let k = 0; k < n; k++) {
          av += a[i * n + k]! * vectors[k * n + j]!;
          vtv += vectors[k * n + i]! * vectors[k * n + j]!;
        }
        residual = Math.max(residual, Math.abs(av - vectors[i * n + j]! * values[j]!));
        ortho = Math.max(ortho, Math.abs(vtv - (i === j ? 1 : 0)));
      }
    }
    assert.ok(residual <= 1e-12 * scale * n, `${name}: |AV - VΛ| = ${residual}`);
    assert.ok(ortho <= 1e-12 * n, `${name}: |VᵀV - I| = ${ortho}`);
  }
  const sorted = symmetricEigen(diag, 5).values;
  assert.equal([...sorted], [3, 3, 1, 0, -2]);
});

test('symmetricEigen: a non-finite entry is named', () => {
  const a = new Float64Array(9);
  a[5] = NaN;
  assert.throws(() => symmetricEigen(a, 3), /entry \(1, 2\) is NaN/);
});

test('fitPcaWhitening: whitened fitting set has zero mean and identity covariance; matches sklearn on a known case', () => {
  const n = 300;
  const d = 6;
  const r = randoms(n * d, 3);
  // correlated data: x = z M with a fixed mixing matrix
  const mix = randoms(d * d, 4);
  const x = new Float64Array(n * d);
  for (let s = 0; s < n; s++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) x[s * d + j]! += r[s * d + k]! * mix[k * d + j]! * (k + 1);
  const fit = fitPcaWhitening(x, n, d);
  assert.is(fit.floored, 0);
  const y = Array.from({ length: n }, (_, s) => applyPcaWhitening(fit, x.subarray(s * d, (s + 1) * d)));
  for (let i = 0; i < d; i++) {
    const m = y.reduce((acc, row) => acc + row[i]!, 0) / n;
    assert.ok(Math.abs(m) < 1e-10, `mean ${i}: ${m}`);
    for (let j = 0; j < d; j++) {
      const c = y.reduce((acc, row) => acc + row[i]! * row[j]!, 0) / (n - 1);
      assert.ok(Math.abs(c - (i === j ? 1 : 0)) < 1e-9, `cov (${i}, ${j}) = ${c}`);
    }
  }
  // sklearn's explained_variance_ on independent coordinates with variances 9, 4, 1: the eigenvalues
  const ind = new Float64Array(4 * 3);
  [[3, 0, 0], [-3, 0, 0], [0, 2, 1], [0, -2, -1]].forEach((row, s) => ind.set(row, s * 3));
  const known = fitPcaWhitening(ind, 4, 3);
  assert.ok(Math.abs(known.eigenvalues[0]! - 6) < 1e-12 && Math.abs(known.eigenvalues[1]! - 10 / 3) < 1e-12, `${known.eigenvalues}`);
  assert.is(known.floored, 1, 'the zero-variance direction is floored, not divided by zero');
  assert.ok([...known.projection].every(Number.isFinite));
});

test('fitPcaWhitening + whitenedClassifier = scikit-learn PCA(whiten=True) and whiten.py (numpy LAPACK fixture, up to component signs)', () => {
  const fx = JSON.parse(readFileSync('kernels-test/multigrain/fixtures/whitening.json', 'utf8')) as Record<string, number[] | number>;
  const n = fx.n as number;
  const d = fx.d as number;
  const classes = fx.classes as number;
  const fit = fitPcaWhitening(Float64Array.from(fx.x as number[]), n, d);
  const close = (a: number, b: number, scale: number): boolean => Math.abs(a - b) <= 1e-9 * scale;
  (fx.mean as number[]).forEach((v, i) => assert.ok(close(fit.mean[i]!, v, 1), `mean ${i}`));
  const ev = fx.eigenvalues as number[];
  ev.forEach((v, j) => assert.ok(close(fit.eigenvalues[j]!, v, ev[0]!), `eigenvalue ${j}: ${fit.eigenvalues[j]} vs ${v}`));
  const P = fx.projection as number[];
  // the sign of each component is arbitrary (scikit-learn flips by svd_flip): align ours to the fixture's
  const sign = Array.from({ length: d }, (_, j) => {
    let dot = 0;
    for (let i = 0; i < d; i++) dot += fit.projection[i * d + j]! * P[i * d + j]!;
    return dot < 0 ? -1 : 1;
  });
  const pScale = maxAbs(P);
  P.forEach((v, k) => assert.ok(Math.abs(sign[k % d]! * fit.projection[k]! - v) <= 1e-7 * pScale, `P[${Math.floor(k / d)}, ${k % d}]: ${fit.projection[k]} vs ${v}`));
  const { mean, inverseT } = paddedWhitening(fit, d);
  const { weight, bias } = whitenedClassifier(fx.classifier_weight as number[], fx.classifier_bias as number[], classes, mean, inverseT);
  const W = fx.whitened_weight as number[];
  const wScale = maxAbs(W);
  W.forEach((v, k) => assert.ok(Math.abs(sign[k % d]! * weight[k]! - v) <= 1e-7 * wScale, `W'[${Math.floor(k / d)}, ${k % d}]: ${weight[k]} vs ${v}`));
  (fx.whitened_bias as number[]).forEach((v, c) => assert.ok(close(bias[c]!, v, maxAbs(fx.whitened_bias as number[])), `b'[${c}]`));
});

test('fitPcaWhitening: too few vectors for the dimension is a clear error', () => {
  assert.throws(() => fitPcaWhitening(new Float64Array(5 * 5), 5, 5), /needs more than 5 images, got 5/);
});

/** In-memory dataset of random RGB images; sizes cycle through `sizes` ([w, h]). */
function imageDataset(count: number, sizes: [number, number][], seed: number, classes = 3): RecordDataset {
  const records = Array.from({ length: count }, (_, i) => {
    const [w, h] = sizes[i % sizes.length]!;
    const px = randoms(w * h * 3, seed * 1000 + i);
    const image: RgbImage = createRgbImage(w, h, Uint8Array.from(px, (v) => Math.floor((v + 1) * 127.99)));
    return { image, label: i % classes };
  });
  return new RecordDataset(records);
}

async function logitsOf(model: MultiGrain, x: Tensor): Promise<{ logits: Float32Array; embedding: Float32Array }> {
  const out = noGrad(() => model.forward(x));
  const logits = (await out.logits.toArray()) as Float32Array;
  const embedding = (await out.embedding.toArray()) as Float32Array;
  out.logits.dispose();
  out.embedding.dispose();
  out.normalizedEmbedding.dispose();
  return { logits, embedding };
}

test('whiten: logits become the old logits / (||[e, 1]|| + 1e-6) (class rankings unchanged); the whitened fitting set is white', async () => {
  for (const includeBias of [true, false]) {
    const model = new MultiGrain({ backbone: 18, numClasses: 5, baseWidth: 2, poolingExponent: 3, seed: 7 });
    model.eval();
    const whitenSet = imageDataset(48, [[32, 32], [36, 48]], 1);
    const loader = new DataLoader({ dataset: whitenSet, transform: { kind: 'val', mode: 'rect', size: 48 }, workers: 0 });
    const probe = tensor(Float32Array.from(randoms(2 * 3 * 36 * 36, 5)), [2, 3, 36, 36]);
    const before = await logitsOf(model, probe);
    const pooledProbe = before.embedding; // un-whitened model: embedding = pooled vector
    const result = await whiten(model, loader, { includeBias, batchSize: 4 });
    assert.ok(model.whitening, 'whitening stage on');
    assert.is(result.dim, 17);
    assert.is(model.classifier.weight.shape[1], 17);
    const after = await logitsOf(model, probe);
    for (let s = 0; s < 2; s++) {
      const e = pooledProbe.subarray(s * 16, (s + 1) * 16);
      const norm = Math.sqrt(e.reduce((a, v) => a + v * v, 1)) + 1e-6;
      const old = before.logits.subarray(s * 5, (s + 1) * 5);
      const now = after.logits.subarray(s * 5, (s + 1) * 5);
      const scale = maxAbs(old) / norm;
      for (let c = 0; c < 5; c++) {
        assert.ok(Math.abs(now[c]! - old[c]! / norm) <= 1e-3 * scale, `includeBias ${includeBias}: logit ${s},${c}: ${now[c]} vs ${old[c]! / norm}`);
      }
      const order = (v: Float32Array): number[] => [...v.keys()].sort((a, b) => v[b]! - v[a]!);
      assert.equal(order(now), order(old), 'class ranking');
    }
    if (!includeBias) {
      const P = (await model.whitening!.pca.P.toArray()) as Float32Array;
      const m = (await model.whitening!.pca.m.toArray()) as Float32Array;
      assert.is(P[16 * 17 + 16], 1);
      assert.is(maxAbs(P.subarray(16 * 17, 16 * 17 + 16)), 0, 'bias row is the identity');
      assert.is(m[16], 0);
    }
    // the model's whitened embeddings of the fitting set = CPU float64 whitening of its pooled vectors
    const pooled = await extractEmbeddings(model, loader, { kind: 'pooled', batchSize: 4 });
    const white = await extractEmbeddings(model, loader, { kind: 'embedding', batchSize: 4 });
    const unbiased = new Float32Array(48 * 16);
    for (let s = 0; s < 48; s++) unbiased.set(pooled.data.subarray(s * 17, s * 17 + 16), s * 16);
    assert.ok(pooled.data.filter((_, i) => i % 17 === 16).every((v) => v === 1), 'bias channel = 1');
    const reference = normalizedWithBias(unbiased, 48, 16);
    const P = Float64Array.from((await model.whitening!.pca.P.toArray()) as Float32Array);
    const m = Float64Array.from((await model.whitening!.pca.m.toArray()) as Float32Array);
    const fit = { dim: 17, mean: m, projection: P, eigenvalues: new Float64Array(17), eigenvectors: new Float64Array(0), floored: 0 };
    const expected = Array.from({ length: 48 }, (_, s) => applyPcaWhitening(fit, reference.subarray(s * 17, (s + 1) * 17)));
    const tol = 1e-3 * Math.max(...expected.map(maxAbs));
    expected.forEach((row, s) => row.forEach((v, j) => assert.ok(Math.abs(white.data[s * 17 + j]! - v) <= tol, `image ${s} dim ${j}: ${white.data[s * 17 + j]} vs ${v}`)));
    // unit variance along every component that was not floored (float32 P: loose tolerance)
    for (let i = 0; i < result.fit.dim - result.fit.floored; i++) {
      const c = expected.reduce((a, row) => a + row[i]! * row[i]!, 0) / 47;
      assert.ok(Math.abs(c - 1) < 1e-3, `includeBias ${includeBias}: variance ${i}: ${c}`);
    }
    let again = '';
    await whiten(model, loader).catch((err: Error) => (again = err.message));
    assert.match(again, /already whitened/);
    await loader.close();
    probe.dispose();
    model.parameters().forEach((t) => t.dispose());
  }
});

test('whiten: fewer whitening images than dimensions is refused before the model changes', async () => {
  const model = new MultiGrain({ backbone: 18, numClasses: 3, baseWidth: 2, seed: 1 });
  const loader = new DataLoader({ dataset: imageDataset(10, [[32, 32]], 2), transform: { kind: 'val', mode: 'rect', size: 32 }, workers: 0 });
  let message = '';
  try {
    await whiten(model, loader, { batchSize: 5 });
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /17-d vectors needs more than 17 images, got 10/);
  assert.is(model.whitening, null);
  assert.is(model.classifier.weight.shape[1], 16);
  await loader.close();
});

test.run();
