/**
 * `torch.load` in TypeScript, without Python and without running any pickled code.
 *
 * Reads both formats `torch.save` writes:
 * - the ZIP archive of PyTorch >= 1.6: `<top>/data.pkl` (the object pickle, tensors referring to
 *   storages by persistent id) and one raw little-endian file per storage, `<top>/data/<key>`;
 *   `<top>` is any folder name, `<top>/byteorder` (if present) gives the storages' byte order;
 * - the legacy single stream (PyTorch < 1.6, `_use_new_zipfile_serialization=False`): pickles of
 *   the magic number, the protocol version (1001) and a sys-info dict, then the object pickle,
 *   then the sorted list of storage keys, then each storage as an 8-byte element count followed
 *   by its raw bytes.
 *
 * Tensors come back as contiguous HostTensors (views with offsets and strides are copied out);
 * dicts and OrderedDicts as Map, lists and tuples as Array. Only whitelisted globals are
 * accepted (see `TORCH_PICKLE_GLOBALS`); any other is an error naming it.
 */
import {
  HOST_DTYPE_INFO, formatShape, shapeNumel, typedArrayFromBytes,
  type HostDType, type HostTensor, type HostTensorData,
} from './host-tensor.js';
import { PickleGlobalRef, PickleObject, unpickle, type PickleGlobalFn } from './pickle.js';
import { ZipArchive } from './zip.js';

/** Error raised for a file `loadTorchCheckpoint` cannot read. */
export class TorchLoadError extends Error {
  override name = 'TorchLoadError';
}

/** PyTorch legacy storage class names and the HostDType of their elements. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, HostDType>> = {
  FloatStorage: 'f32', DoubleStorage: 'f64', HalfStorage: 'f16', BFloat16Storage: 'bf16',
  LongStorage: 'i64', IntStorage: 'i32', ShortStorage: 'i16', CharStorage: 'i8',
  ByteStorage: 'u8', BoolStorage: 'bool', UntypedStorage: 'u8',
};

/** A storage a pickle refers to; its data is filled in after the pickle is read. */
class StorageRef {
  /** Raw bytes of the storage (a view into the file or the inflated entry), set once read. */
  bytes: Uint8Array | undefined;
  littleEndian = true;
  private typed: HostTensorData | undefined;
  constructor(readonly key: string, readonly dtype: HostDType, readonly numel: number) {}
  /** The storage as a typed array (an aligned, host-order copy made on first use). */
  elements(): HostTensorData {
    return (this.typed ??= typedArrayFromBytes(this.dtype, this.bytes!, this.littleEndian));
  }
}

/** A storage as a tensor sees it: the root storage, or (legacy format) a window into it. */
class StorageView {
  constructor(readonly root: StorageRef, readonly offset: number, readonly numel: number) {}
}

/** A tensor waiting for its storage: `_rebuild_tensor_v2(storage, offset, size, stride, ...)`. */
class PendingTensor {
  constructor(readonly storage: StorageView, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

function asIntArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw new TorchLoadError(`torch.load: ${what} is not a tuple of ints: ${String(v)}`);
  }
  return v as number[];
}

function rebuildTensor(args: unknown[]): PendingTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageView)) throw new TorchLoadError('torch.load: _rebuild_tensor called without a storage');
  if (typeof offset !== 'number') throw new TorchLoadError('torch.load: tensor storage offset is not an int');
  const shape = asIntArray(size, 'tensor size');
  const strides = asIntArray(stride, 'tensor stride');
  if (shape.length !== strides.length) throw new TorchLoadError(`torch.load: tensor size ${formatShape(shape)} and stride ${formatShape(strides)} differ in rank`);
  return new PendingTensor(storage, offset, shape, strides);
}

const notCallable = (name: string): PickleGlobalFn => () => {
  throw new TorchLoadError(`torch.load: ${name} cannot be called`);
};

/** The globals a PyTorch checkpoint may name, and what each becomes. */
export const TORCH_PICKLE_GLOBALS: Readonly<Record<string, PickleGlobalFn>> = {
  'collections.OrderedDict': (args) => new Map((args[0] as Iterable<[unknown, unknown]> | undefined) ?? []),
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
  '_codecs.encode': (args) => {
    const s = String(args[0]);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
    return out;
  },
  ...Object.fromEntries(Object.keys(TORCH_STORAGE_DTYPES).map((n) => [`torch.${n}`, notCallable(`torch.${n}`)])),
  'torch.storage.UntypedStorage': notCallable('torch.storage.UntypedStorage'),
};

/** Options of `loadTorchCheckpoint`. */
export interface TorchLoadOptions {
  /** Globals outside the whitelist: throw (default) or keep them as inert `PickleObject` records. */
  unknownGlobals?: 'error' | 'stub';
  /** Check the CRC-32 of every ZIP entry read (default true). */
  verifyCrc?: boolean;
}

/** What `loadTorchCheckpoint` returns. */
export interface TorchCheckpoint {
  /** The saved object, with tensors as HostTensor. */
  value: unknown;
  /** Which `torch.save` format the file used. */
  format: 'zip' | 'legacy';
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/**
 * Which `torch.save` format `bytes` start with, or null for anything else (our safetensors
 * checkpoints begin with an 8-byte header length and '{'). Cheap: looks at the first bytes
 * only, so that a reader of another format can say what the file is instead of failing on it.
 */
export function torchFileFormat(bytes: Uint8Array): 'zip' | 'legacy' | null {
  if (ZipArchive.looksLikeZip(bytes)) return 'zip';
  // legacy: pickle protocol 2+ (0x80 n), then the magic number as LONG1 (0x8a); never '{' at byte 8
  if (bytes.length >= 9 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5 && bytes[2] === 0x8a && bytes[8] !== 0x7b) return 'legacy';
  return null;
}

/** Reads a `torch.save` file (either format) from memory. */
export async function loadTorchCheckpoint(bytes: Uint8Array, options: TorchLoadOptions = {}): Promise<TorchCheckpoint> {
  if (ZipArchive.looksLikeZip(bytes)) return { value: await loadZip(bytes, options), format: 'zip' };
  if (bytes.length >= 2 && bytes[0] === 0x80) return { value: loadLegacy(bytes, options), format: 'legacy' };
  if (bytes.length >= 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new TorchLoadError('torch.load: this is the tar-based format of PyTorch < 0.1.10, which is not supported');
  }
  throw new TorchLoadError('torch.load: not a PyTorch checkpoint (neither a ZIP archive nor a pickle stream)');
}

function storageFromPid(pid: unknown, refs: Map<string, StorageRef>): StorageView {
  if (!Array.isArray(pid) || pid[0] !== 'storage') {
    const kind = Array.isArray(pid) ? String(pid[0]) : typeof pid;
    throw new TorchLoadError(kind === 'module'
      ? 'torch.load: the file holds a pickled nn.Module (torch.save(model)); only state dicts and plain containers can be read'
      : `torch.load: unsupported persistent id of kind '${kind}'`);
  }
  const [, type, key, , numel, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
  if (!(type instanceof PickleGlobalRef)) throw new TorchLoadError('torch.load: storage type is not a global');
  const dtype = TORCH_STORAGE_DTYPES[type.name];
  if (!dtype) throw new TorchLoadError(`torch.load: unsupported storage type ${type.qualifiedName}`);
  if (typeof numel !== 'number') throw new TorchLoadError(`torch.load: storage '${String(key)}' has no element count`);
  const k = String(key);
  let ref = refs.get(k);
  if (!ref) refs.set(k, (ref = new StorageRef(k, dtype, numel)));
  else if (ref.dtype !== dtype) throw new TorchLoadError(`torch.load: storage '${k}' is used as both ${ref.dtype} and ${dtype}`);
  if (Array.isArray(view)) {
    const [, offset, size] = view as [unknown, number, number];
    return new StorageView(ref, offset, size);
  }
  return new StorageView(ref, 0, ref.numel);
}

async function loadZip(bytes: Uint8Array, options: TorchLoadOptions): Promise<unknown> {
  const zip = new ZipArchive(bytes);
  const pkls = zip.names().filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new TorchLoadError(`torch.load: expected one '<folder>/data.pkl' in the ZIP archive, found ${pkls.length} (entries: ${zip.names().slice(0, 8).join(', ')})`);
  }
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  const verifyCrc = options.verifyCrc;
  let littleEndian = true;
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(await zip.read(`${prefix}byteorder`, { verifyCrc })).trim();
    if (order !== 'little' && order !== 'big') throw new TorchLoadError(`torch.load: unknown byteorder '${order}'`);
    littleEndian = order === 'little';
  }
  const refs = new Map<string, StorageRef>();
  const { value } = unpickle(await zip.read(pkls[0]!, { verifyCrc }), {
    globals: TORCH_PICKLE_GLOBALS as Record<string, PickleGlobalFn>,
    unknownGlobals: options.unknownGlobals ?? 'error',
    persistentLoad: (pid) => storageFromPid(pid, refs),
  });
  for (const ref of refs.values()) {
    const name = `${prefix}data/${ref.key}`;
    if (!zip.entries.has(name)) throw new TorchLoadError(`torch.load: storage file '${name}' is missing from the archive`);
    const raw = await zip.read(name, { verifyCrc });
    const nbytes = ref.numel * HOST_DTYPE_INFO[ref.dtype].bytes;
    if (raw.byteLength < nbytes) throw new TorchLoadError(`torch.load: storage '${name}' has ${raw.byteLength} bytes, needs ${nbytes}`);
    ref.bytes = raw.subarray(0, nbytes);
    ref.littleEndian = littleEndian;
  }
  return materialize(value);
}

function loadLegacy(bytes: Uint8Array, options: TorchLoadOptions): unknown {
  const globals = TORCH_PICKLE_GLOBALS as Record<string, PickleGlobalFn>;
  const magic = unpickle(bytes, { globals });
  if (magic.value !== LEGACY_MAGIC) throw new TorchLoadError('torch.load: pickle stream without the PyTorch magic number; not a PyTorch checkpoint');
  const proto = unpickle(bytes, { globals, offset: magic.end });
  if (proto.value !== 1001) throw new TorchLoadError(`torch.load: unsupported legacy protocol version ${String(proto.value)}`);
  const sys = unpickle(bytes, { globals, offset: proto.end });
  const littleEndian = !(sys.value instanceof Map) || sys.value.get('little_endian') !== false;
  const refs = new Map<string, StorageRef>();
  const main = unpickle(bytes, {
    globals,
    unknownGlobals: options.unknownGlobals ?? 'error',
    offset: sys.end,
    persistentLoad: (pid) => storageFromPid(pid, refs),
  });
  const keys = unpickle(bytes, { globals, offset: main.end });
  if (!Array.isArray(keys.value)) throw new TorchLoadError('torch.load: legacy storage key list missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value) {
    const ref = refs.get(String(key));
    if (!ref) throw new TorchLoadError(`torch.load: storage '${String(key)}' is listed but never used; cannot tell its size`);
    if (pos + 8 > bytes.byteLength) throw new TorchLoadError(`torch.load: file truncated before storage '${ref.key}'`);
    const numel = Number(view.getBigInt64(pos, littleEndian));
    pos += 8;
    if (numel !== ref.numel) throw new TorchLoadError(`torch.load: storage '${ref.key}' has ${numel} elements in the file, the pickle says ${ref.numel}`);
    const nbytes = numel * HOST_DTYPE_INFO[ref.dtype].bytes;
    if (pos + nbytes > bytes.byteLength) throw new TorchLoadError(`torch.load: file truncated inside storage '${ref.key}' (needs ${nbytes} bytes at byte ${pos}, file has ${bytes.byteLength})`);
    ref.bytes = bytes.subarray(pos, pos + nbytes);
    ref.littleEndian = littleEndian;
    pos += nbytes;
  }
  for (const ref of refs.values()) {
    if (!ref.bytes) throw new TorchLoadError(`torch.load: storage '${ref.key}' is not in the file's storage list`);
  }
  return materialize(main.value);
}

type AnyTyped = { length: number; subarray(a: number, b: number): AnyTyped; set(src: AnyTyped, offset?: number): void; [i: number]: number | bigint };

/** Copies the strided view `t` out of its storage into a new contiguous HostTensor. */
function materializeTensor(t: PendingTensor): HostTensor {
  const root = t.storage.root;
  const base = t.storage.offset + t.offset;
  const n = shapeNumel(t.shape);
  const dtype = root.dtype;
  const ctor = HOST_DTYPE_INFO[dtype].ctor;
  if (n === 0) return { dtype, shape: [...t.shape], data: new ctor(0) };
  {
    let last = base;
    for (let d = 0; d < t.shape.length; d++) {
      if (t.stride[d]! < 0) throw new TorchLoadError('torch.load: negative strides are not supported');
      last += (t.shape[d]! - 1) * t.stride[d]!;
    }
    const limit = Math.min(root.numel, t.storage.offset + t.storage.numel);
    if (base < 0 || last >= limit) {
      throw new TorchLoadError(`torch.load: tensor ${formatShape(t.shape)} (offset ${t.offset}, stride ${formatShape(t.stride)}) reaches past its ${limit}-element storage '${root.key}'`);
    }
    const nd = t.shape.length;
    let contiguous = true;
    for (let d = nd - 1, expect = 1; d >= 0; d--) {
      if (t.shape[d]! !== 1 && t.stride[d]! !== expect) { contiguous = false; break; }
      expect *= t.shape[d]!;
    }
    const size = HOST_DTYPE_INFO[dtype].bytes;
    if (contiguous) {
      // Byte copy straight from the file: no alignment needed, no intermediate storage copy.
      return { dtype, shape: [...t.shape], data: typedArrayFromBytes(dtype, root.bytes!.subarray(base * size, (base + n) * size), root.littleEndian) };
    }
    const src = root.elements() as unknown as AnyTyped;
    const dst = new ctor(n) as unknown as AnyTyped;
    const inner = nd ? t.shape[nd - 1]! : 1;
    const innerStride = nd ? t.stride[nd - 1]! : 1;
    const outer = n / inner;
    for (let k = 0, o = 0; k < outer; k++, o += inner) {
      let p = base;
      let rem = k;
      for (let d = nd - 2; d >= 0; d--) {
        const dim = t.shape[d]!;
        const i = rem % dim;
        rem = (rem - i) / dim;
        p += i * t.stride[d]!;
      }
      if (innerStride === 1) dst.set(src.subarray(p, p + inner), o);
      else for (let j = 0; j < inner; j++) dst[o + j] = src[p + j * innerStride]!;
    }
    return { dtype, shape: [...t.shape], data: dst as unknown as HostTensorData };
  }
}

/** Replaces every PendingTensor (and bare storage) in the value tree with a HostTensor. */
function materialize(value: unknown): unknown {
  const seen = new Set<object>();
  const done = new Map<PendingTensor, HostTensor>();
  const fix = (v: unknown): unknown => {
    if (v instanceof PendingTensor) {
      let t = done.get(v);
      if (!t) done.set(v, (t = materializeTensor(v)));
      return t;
    }
    if (v instanceof StorageView) {
      return materializeTensor(new PendingTensor(v, 0, [v.numel], [1]));
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = fix(v[i]);
    else if (v instanceof Map) for (const [k, x] of v) v.set(k, fix(x));
    else if (v instanceof Set) {
      const items = [...v].map(fix);
      v.clear();
      for (const x of items) v.add(x);
    } else if (v instanceof PickleObject) {
      for (let i = 0; i < v.args.length; i++) v.args[i] = fix(v.args[i]);
      v.state = fix(v.state);
      for (let i = 0; i < v.items.length; i++) v.items[i] = fix(v.items[i]);
    }
    return v;
  };
  return fix(value);
}
