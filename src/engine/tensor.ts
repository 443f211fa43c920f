/**
 * Tensors: a shape, a dtype and a GPU buffer from the pool.
 *
 * Several tensors may share one storage (a reshape is a view); the storage returns its
 * buffer to the pool when its last tensor is disposed and no autograd node still saves it.
 */
import { runtime, type Runtime } from './runtime.js';
import { trackInScope } from './scope.js';
import { toHalfBits, fromHalfBits } from '../util/half.js';

/**
 * Element types. 'f16' is half-precision storage (inference on devices with `shader-f16`): the
 * host reads and writes it as float32, converted on the way.
 */
export type DType = 'f32' | 'f16' | 'i32' | 'u32';

/** Bytes per element of a dtype. */
export function dtypeBytes(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}
export type Shape = readonly number[];
export type TypedArrayFor<D extends DType> = D extends 'f32' | 'f16' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

/** A GPU buffer shared by the tensors that view it, reference-counted. */
export class Storage {
  private refs = 1;
  /**
   * The runtime whose pool the buffer came from: after `shutdown()` (or a new `init()`) the
   * buffer died with that device, so releasing it must neither reach the current runtime
   * (which throws when there is none) nor put a dead buffer into a new runtime's pool.
   */
  private readonly owner: Runtime;

  constructor(readonly buffer: GPUBuffer, readonly bytes: number) {
    this.owner = runtime();
  }

  get alive(): boolean {
    return this.refs > 0;
  }

  retain(): void {
    this.refs++;
  }

  /** Drops one reference; the last returns the buffer to its pool (a no-op once that device is shut down). */
  release(): void {
    if (--this.refs === 0 && !this.owner.destroyed) this.owner.pool.release(this.buffer);
  }
}

/** Anything autograd records about how a tensor was made (see tape.ts). */
export interface Creator {
  readonly name: string;
}

let nextId = 1;

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Refuses a shape that is not a list of non-negative integers, naming it (`op`: who asked). */
function checkShape(shape: Shape, op = 'tensor'): void {
  if (!Array.isArray(shape)) throw new Error(`${op}: the shape must be an array of dimensions, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape ${shapeString(shape)}: dimensions must be non-negative integers`);
  }
}

export class Tensor {
  readonly id = nextId++;
  /** Set when the tensor takes part in autograd (a leaf you train, or a result computed from one). */
  requiresGrad = false;
  /** Gradient accumulated by `backward()` for leaf tensors. */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor, if recorded. */
  creator: Creator | null = null;
  /** Optional name, used in error messages and parameter listings. */
  name = '';
  private storage: Storage | null;

  constructor(storage: Storage, readonly shape: Shape, readonly dtype: DType = 'f32') {
    this.storage = storage;
    trackInScope(this);
  }

  /** Number of elements. */
  get size(): number {
    return shapeSize(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** The GPU buffer (throws if the tensor was disposed). */
  get buffer(): GPUBuffer {
    return this.liveStorage('read').buffer;
  }

  /** The storage (shared by views), or a clear error once this handle was disposed. */
  liveStorage(op: string): Storage {
    if (!this.storage) {
      throw new Error(`${op}: tensor #${this.id}${this.name ? ` '${this.name}'` : ''} ${shapeString(this.shape)} was disposed and cannot be used`);
    }
    return this.storage;
  }

  /** Releases this handle on the GPU buffer (views and the autograd tape may hold others). Idempotent. */
  dispose(): void {
    if (!this.storage) return;
    const storage = this.storage;
    this.storage = null;
    storage.release();
  }

  /** A tensor with another shape over the same storage (same number of elements). */
  view(shape: Shape): Tensor {
    checkShape(shape, 'reshape');
    if (shapeSize(shape) !== this.size) {
      throw new Error(`reshape: cannot view ${shapeString(this.shape)} (${this.size} elements) as ${shapeString(shape)} (${shapeSize(shape)} elements)`);
    }
    const storage = this.liveStorage('reshape');
    storage.retain();
    return new Tensor(storage, [...shape], this.dtype);
  }

  /**
   * Overwrites the values from host data (same number of elements), after all work recorded
   * so far (loading weights, restoring optimizer state).
   */
  assign(data: Float32Array | Int32Array | Uint32Array): void {
    if (data.length !== this.size) {
      throw new Error(`assign: ${data.length} values for ${this} (${this.size} elements)`);
    }
    const rt = runtime();
    rt.flush();
    if (this.dtype === 'f16') {
      rt.device.queue.writeBuffer(this.buffer, 0, padTo4Bytes(toHalfBits(data)));
      return;
    }
    rt.write(this.buffer, new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength));
  }

  /** Copies the values to the CPU (waits for the GPU). */
  async toArray(): Promise<Float32Array | Int32Array | Uint32Array> {
    const bytes = await runtime().read(this.buffer, this.size * dtypeBytes(this.dtype));
    if (this.dtype === 'f16') return fromHalfBits(new Uint16Array(bytes, 0, this.size));
    if (this.dtype === 'i32') return new Int32Array(bytes);
    if (this.dtype === 'u32') return new Uint32Array(bytes);
    return new Float32Array(bytes);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item(): tensor has shape ${shapeString(this.shape)}, not one element`);
    return (await this.toArray())[0];
  }

  toString(): string {
    return `Tensor(#${this.id}${this.name ? ` '${this.name}'` : ''}, ${shapeString(this.shape)}, ${this.dtype})`;
  }
}

/** `bits` as a whole number of 4-byte words (writeBuffer's unit), zero-padded. */
function padTo4Bytes(bits: Uint16Array<ArrayBuffer>): Uint16Array<ArrayBuffer> {
  if (bits.length % 2 === 0) return bits;
  const padded = new Uint16Array(bits.length + 1);
  padded.set(bits);
  return padded;
}

/** An uninitialized tensor (kernel output). */
export function empty(shape: Shape, dtype: DType = 'f32'): Tensor {
  checkShape(shape, 'empty');
  const bytes = checkBindable(shape, dtype);
  return new Tensor(new Storage(runtime().pool.acquire(bytes, false), bytes), [...shape], dtype);
}

/** The bytes of a tensor of `shape`, refused when a kernel could not bind them. */
function checkBindable(shape: Shape, dtype: DType = 'f32'): number {
  // f16 tensors round up to whole words: WebGPU writes and copies in multiples of 4 bytes
  const bytes = Math.ceil((Math.max(shapeSize(shape), 1) * dtypeBytes(dtype)) / 4) * 4;
  const max = runtime().gpu.limits.maxStorageBufferBindingSize;
  if (bytes > max) {
    throw new Error(
      `tensor of shape ${shapeString(shape)} needs ${(bytes / 2 ** 20).toFixed(1)} MiB, above this GPU's ` +
        `maxStorageBufferBindingSize of ${(max / 2 ** 20).toFixed(0)} MiB: use a smaller batch size or resolution`,
    );
  }
  return bytes;
}

type HostData = ArrayLike<number> | Float32Array | Int32Array | Uint32Array;

/** A tensor holding `data` (row-major), uploaded to the GPU. */
export function tensor(data: HostData, shape?: Shape, dtype: DType = 'f32'): Tensor {
  if (shape !== undefined) checkShape(shape);
  if (typeof data?.length !== 'number') throw new Error(`tensor: data must be an array or a typed array, got ${data === null ? 'null' : typeof data}`);
  const dims = shape ? [...shape] : [data.length];
  if (shapeSize(dims) !== data.length) {
    throw new Error(`tensor: ${data.length} values do not fill shape ${shapeString(dims)} (${shapeSize(dims)} elements)`);
  }
  checkBindable(dims, dtype);
  // A typed array of the tensor's type goes to writeBuffer as it is (it copies at the call):
  // a batch of images is tens of MB, and a host copy of it costs as much as the upload.
  const own = ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer;
  const float = dtype === 'f32' || dtype === 'f16';
  const typed = float ? (own && data instanceof Float32Array ? data : Float32Array.from(data))
    : dtype === 'i32' ? (own && data instanceof Int32Array ? data : Int32Array.from(data))
    : (own && data instanceof Uint32Array ? data : Uint32Array.from(data));
  if (float) {
    for (let i = 0; i < typed.length; i++) {
      if (!Number.isFinite(typed[i])) throw new Error(`tensor: value ${data[i]} at index ${i} is not finite`);
    }
  }
  const rt = runtime();
  const stored = dtype === 'f16' ? toHalfBits(typed) : typed;
  const bytes = Math.max(Math.ceil(stored.byteLength / 4) * 4, 4);
  return new Tensor(new Storage(rt.upload(stored as ArrayBufferView<ArrayBuffer>), bytes), dims, dtype);
}

/** A tensor filled with one value. */
export function full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  return filled('full', shape, value, dtype);
}

export function zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
  return filled('zeros', shape, 0, dtype);
}

export function ones(shape: Shape, dtype: DType = 'f32'): Tensor {
  return filled('ones', shape, 1, dtype);
}

function filled(op: string, shape: Shape, value: number, dtype: DType): Tensor {
  // checked before the host array is allocated: a bad shape would otherwise surface as
  // "Invalid typed array length" (or a huge allocation) with no shape in sight
  checkShape(shape, op);
  checkBindable(shape, dtype);
  if ((dtype === 'f32' || dtype === 'f16') && !Number.isFinite(value)) throw new Error(`${op}: value ${value} is not finite`);
  const n = shapeSize(shape);
  const data = dtype === 'f32' || dtype === 'f16' ? new Float32Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
  data.fill(value);
  return tensor(data, shape, dtype);
}

/** A trainable leaf tensor (requiresGrad = true). */
export function parameter(data: HostData, shape: Shape, name = ''): Tensor {
  const t = tensor(data, shape);
  t.requiresGrad = true;
  t.name = name;
  return t;
}
