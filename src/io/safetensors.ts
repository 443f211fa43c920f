/**
 * safetensors (https://github.com/huggingface/safetensors), the ecosystem's plain tensor file:
 *
 *   u64 little-endian N | N bytes of UTF-8 JSON header (padded with spaces) | raw data
 *
 * The header maps each tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets
 * relative to the start of the data section) plus an optional `__metadata__` map of strings to
 * strings. Data is little-endian, row-major. Works on Uint8Array only (browser and Node).
 */
import {
  HOST_DTYPE_INFO, formatShape, hostTensorBytes, isHostTensor, shapeNumel, typedArrayFromBytes,
  type HostDType, type HostTensor, type StateDict,
} from './host-tensor.js';

const TO_ST: Record<HostDType, string> = {
  f64: 'F64', f32: 'F32', f16: 'F16', bf16: 'BF16', i64: 'I64', i32: 'I32', i16: 'I16', i8: 'I8', u8: 'U8', bool: 'BOOL',
};
const FROM_ST: Record<string, HostDType> = Object.fromEntries(
  Object.entries(TO_ST).map(([k, v]) => [v, k as HostDType]),
);

/** Largest header this reader accepts (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

/** Contents of a safetensors file. */
export interface SafetensorsContents {
  /** Tensors in file header order. */
  tensors: StateDict;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** Error raised for a malformed safetensors file. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

interface HeaderEntry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** Parses a safetensors file. Tensor data is copied out (the input buffer can be released). */
export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.byteLength < 8) throw new SafetensorsError(`safetensors: file too short (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.byteLength) {
    throw new SafetensorsError(`safetensors: header length ${headerLen} exceeds the file (${bytes.byteLength} bytes); truncated or not a safetensors file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('safetensors: header is not a JSON object');
  }
  const data = bytes.subarray(8 + headerLen);
  const metadata: Record<string, string> = {};
  const tensors: StateDict = new Map();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null) throw new SafetensorsError('safetensors: __metadata__ is not an object');
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new SafetensorsError(`safetensors: __metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as HeaderEntry;
    const dtype = FROM_ST[e?.dtype];
    if (!dtype) throw new SafetensorsError(`safetensors: tensor '${name}' has unsupported dtype ${JSON.stringify(e?.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SafetensorsError(`safetensors: tensor '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > data.byteLength) {
      throw new SafetensorsError(`safetensors: tensor '${name}' has data_offsets ${JSON.stringify(e.data_offsets)} outside the ${data.byteLength}-byte data section (truncated file?)`);
    }
    const expected = shapeNumel(e.shape) * HOST_DTYPE_INFO[dtype].bytes;
    if (end - begin !== expected) {
      throw new SafetensorsError(`safetensors: tensor '${name}' (${e.dtype} ${formatShape(e.shape)}) needs ${expected} bytes, data_offsets give ${end - begin}`);
    }
    tensors.set(name, { dtype, shape: [...e.shape], data: typedArrayFromBytes(dtype, data.subarray(begin, end), true) });
  }
  return { tensors, metadata };
}

/**
 * Serializes tensors (and an optional `__metadata__` string map) to safetensors bytes. Tensors
 * are laid out by decreasing element size, then in the given order, so every tensor's data
 * is aligned to its element size; the header is space-padded to a multiple of 8 bytes.
 */
export function writeSafetensors(
  tensors: StateDict | Iterable<readonly [string, HostTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = [...tensors];
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError("safetensors: '__metadata__' cannot be a tensor name");
    if (seen.has(name)) throw new SafetensorsError(`safetensors: duplicate tensor name '${name}'`);
    seen.add(name);
    if (!isHostTensor(t)) throw new SafetensorsError(`safetensors: '${name}' is not a HostTensor`);
    if (t.data.length !== shapeNumel(t.shape)) {
      throw new SafetensorsError(`safetensors: '${name}' has shape ${formatShape(t.shape)} but ${t.data.length} elements`);
    }
  }
  const order = list
    .map((e, i) => ({ e, i }))
    .sort((a, b) => HOST_DTYPE_INFO[b.e[1].dtype].bytes - HOST_DTYPE_INFO[a.e[1].dtype].bytes || a.i - b.i)
    .map(({ e }) => e);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError(`safetensors: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of order) {
    const n = t.data.byteLength;
    header[name] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const [, t] of order) {
    out.set(hostTensorBytes(t), pos);
    pos += t.data.byteLength;
  }
  return out;
}
