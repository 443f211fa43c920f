/**
 * Host-side tensors: plain typed arrays with a dtype and a shape, the currency of the weight
 * file layer (safetensors, PyTorch import, checkpoints). Independent of the GPU engine.
 *
 * Data is always contiguous, row-major (C order), in the host's byte order (little-endian on
 * every platform this project targets). Half-precision types keep their raw 16-bit patterns in a
 * Uint16Array; `hostTensorToFloat32` converts them.
 */
import { f16BitsToNumber } from '../util/half.js';

/** Element types a HostTensor can hold. */
export type HostDType = 'f64' | 'f32' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

/** Typed-array storage of a HostTensor (see `HOST_DTYPE_INFO` for which array goes with which dtype). */
export type HostTensorData =
  | Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** A tensor living in host memory: contiguous row-major `data` of `prod(shape)` elements. */
export interface HostTensor {
  dtype: HostDType;
  shape: number[];
  data: HostTensorData;
}

/** A flat, ordered map from parameter/buffer names to tensors (PyTorch's `state_dict`). */
export type StateDict = Map<string, HostTensor>;

interface DTypeInfo {
  bytes: number;
  ctor: { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): HostTensorData; new (length: number): HostTensorData };
}

/** Element size in bytes and typed-array constructor of every HostDType. */
export const HOST_DTYPE_INFO: Readonly<Record<HostDType, DTypeInfo>> = {
  f64: { bytes: 8, ctor: Float64Array as DTypeInfo['ctor'] },
  f32: { bytes: 4, ctor: Float32Array as DTypeInfo['ctor'] },
  f16: { bytes: 2, ctor: Uint16Array as DTypeInfo['ctor'] },
  bf16: { bytes: 2, ctor: Uint16Array as DTypeInfo['ctor'] },
  i64: { bytes: 8, ctor: BigInt64Array as DTypeInfo['ctor'] },
  i32: { bytes: 4, ctor: Int32Array as DTypeInfo['ctor'] },
  i16: { bytes: 2, ctor: Int16Array as DTypeInfo['ctor'] },
  i8: { bytes: 1, ctor: Int8Array as DTypeInfo['ctor'] },
  u8: { bytes: 1, ctor: Uint8Array as DTypeInfo['ctor'] },
  bool: { bytes: 1, ctor: Uint8Array as DTypeInfo['ctor'] },
};

/** Number of elements of a shape (1 for a scalar `[]`). */
export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** Formats a shape the way error messages in this project print it: `[64, 3, 7, 7]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** True where the running platform stores multi-byte numbers little-endian. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Creates a HostTensor, checking that `data` is the typed array of `dtype` and has exactly
 * `prod(shape)` elements.
 */
export function makeHostTensor(dtype: HostDType, shape: readonly number[], data: HostTensorData): HostTensor {
  const info = HOST_DTYPE_INFO[dtype];
  if (!info) throw new Error(`unknown HostTensor dtype '${String(dtype)}'`);
  if (!(data instanceof (info.ctor as unknown as typeof Uint8Array))) {
    throw new Error(`HostTensor dtype ${dtype} needs a ${info.ctor.name}, got ${data.constructor.name}`);
  }
  const n = shapeNumel(shape);
  if (data.length !== n) throw new Error(`HostTensor of shape ${formatShape(shape)} needs ${n} elements, got ${data.length}`);
  return { dtype, shape: [...shape], data };
}

/** A zero-filled HostTensor. */
export function zerosHostTensor(dtype: HostDType, shape: readonly number[]): HostTensor {
  return makeHostTensor(dtype, shape, new HOST_DTYPE_INFO[dtype].ctor(shapeNumel(shape)));
}

/** Type guard: is `v` a HostTensor (an object with a known dtype, a shape and a typed array)? */
export function isHostTensor(v: unknown): v is HostTensor {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Partial<HostTensor>;
  return typeof t.dtype === 'string' && t.dtype in HOST_DTYPE_INFO && Array.isArray(t.shape) && ArrayBuffer.isView(t.data);
}

/** Decodes one IEEE half-precision bit pattern (one copy, in src/util/half.ts). */
export { f16BitsToNumber };

/**
 * Converts any HostTensor to a new Float32Array (f64 rounds, i64 goes through Number, f16/bf16
 * are decoded, bool gives 0/1).
 */
export function hostTensorToFloat32(t: HostTensor): Float32Array {
  const n = t.data.length;
  switch (t.dtype) {
    case 'f32': return new Float32Array(t.data as Float32Array);
    case 'f16': {
      const out = new Float32Array(n);
      const src = t.data as Uint16Array;
      for (let i = 0; i < n; i++) out[i] = f16BitsToNumber(src[i]!);
      return out;
    }
    case 'bf16': {
      const bits = new Uint32Array(n);
      const src = t.data as Uint16Array;
      for (let i = 0; i < n; i++) bits[i] = src[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    case 'i64': {
      const out = new Float32Array(n);
      const src = t.data as BigInt64Array;
      for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
      return out;
    }
    default: return Float32Array.from(t.data as Float64Array);
  }
}

/** Converts a HostTensor to another dtype among f32/f64/i32/i64 (a copy, also when the dtype is unchanged). */
export function castHostTensor(t: HostTensor, dtype: 'f32' | 'f64' | 'i32' | 'i64'): HostTensor {
  const n = t.data.length;
  const src = t.dtype === 'f16' || t.dtype === 'bf16' ? hostTensorToFloat32(t) : t.data;
  let data: HostTensorData;
  if (dtype === 'i64') {
    const out = new BigInt64Array(n);
    if (src instanceof BigInt64Array) out.set(src);
    else for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(src[i] as number));
    data = out;
  } else {
    const out = dtype === 'f32' ? new Float32Array(n) : dtype === 'f64' ? new Float64Array(n) : new Int32Array(n);
    if (src instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = Number(src[i]!);
    else if (dtype === 'i32') for (let i = 0; i < n; i++) out[i] = Math.trunc(src[i] as number);
    else out.set(src as Float64Array);
    data = out;
  }
  return { dtype, shape: [...t.shape], data };
}

/**
 * Reinterprets raw bytes as elements of `dtype` (a fresh, aligned copy; multi-byte elements are
 * byte-swapped when `littleEndian` differs from the host's order).
 */
export function typedArrayFromBytes(dtype: HostDType, bytes: Uint8Array, littleEndian = true): HostTensorData {
  const { bytes: size, ctor } = HOST_DTYPE_INFO[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${size} bytes each)`);
  }
  const copy = new Uint8Array(bytes);
  if (size > 1 && littleEndian !== HOST_IS_LITTLE_ENDIAN) {
    for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  }
  return new ctor(copy.buffer, 0, copy.byteLength / size);
}

/** The raw bytes of a tensor's data, in host byte order (a view, no copy). */
export function hostTensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}
