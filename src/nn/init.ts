/** Weight initialization (PyTorch's defaults for ResNet), seeded and host-side. */
import { DataRng } from '../util/rng.js';

/** Kaiming-normal, fan_out, ReLU gain (torchvision's ResNet conv init). */
export function kaimingNormalFanOut(shape: readonly number[], rng: DataRng): Float32Array {
  const [out, , kh = 1, kw = 1] = shape;
  const std = Math.sqrt(2 / (out * kh * kw));
  return normalArray(shape, rng, std);
}

/** PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
export function linearUniform(shape: readonly number[], fanIn: number, rng: DataRng): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}

export function normalArray(shape: readonly number[], rng: DataRng, std: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
  return out;
}
