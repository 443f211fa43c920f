/**
 * NumPy's `.npy` format (version 1.0/2.0/3.0 read, 1.0 written, or 2.0 when the header needs
 * it), for float32, int32 and uint8 arrays in C order: what numpy.load, faiss and most tools
 * read directly. Pure bytes in, bytes out (Node and browser alike).
 */
export type NpyDType = 'float32' | 'int32' | 'uint8';

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<NpyDType, string> = { float32: '<f4', int32: '<i4', uint8: '|u1' };

/** Encodes an array as `.npy` bytes. */
export function encodeNpy(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) throw new Error(`encodeNpy: ${array.data.length} values do not fill shape [${array.shape.join(', ')}]`);
  const header = encodeNpyHeader(array.dtype, array.shape);
  const out = new Uint8Array(header.length + array.data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), header.length);
  return out;
}

/**
 * The header of a `.npy` file (magic, version, padded dict) for data of this dtype and shape,
 * so that a large array can be written as header + data chunks without holding it whole.
 */
export function encodeNpyHeader(dtype: NpyDType, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const v1 = header.length + 11 < 65536;
  const prefix = v1 ? 10 : 12;
  header += ' '.repeat((64 - ((prefix + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(prefix + header.length);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  return out;
}

/** Decodes `.npy` bytes (little-endian float32 / int32 / uint8, C order); errors say what is wrong. */
export function decodeNpy(bytes: Uint8Array, what = '.npy file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${what}: not a .npy file (no \\x93NUMPY magic)`);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new Error(`${what}: .npy version ${major}.${bytes[7]} is not supported`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) throw new Error(`${what}: truncated header`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${what}: unreadable header ${JSON.stringify(header.trim())}`);
  if (fortran === 'True') throw new Error(`${what}: Fortran-order arrays are not supported (save with numpy.ascontiguousarray)`);
  const dtype = (Object.keys(DESCR) as NpyDType[]).find((d) => DESCR[d] === descr || (d === 'uint8' && descr === '<u1'));
  if (!dtype) throw new Error(`${what}: dtype ${descr} is not supported (float32 '<f4', int32 '<i4' or uint8)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${what}: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const size = dtype === 'uint8' ? 1 : 4;
  const offset = start + headerLength;
  if (bytes.length - offset < count * size) {
    throw new Error(`${what}: truncated: shape [${shape.join(', ')}] needs ${count * size} bytes of data, found ${bytes.length - offset}`);
  }
  const raw = bytes.slice(offset, offset + count * size);
  const data = dtype === 'float32' ? new Float32Array(raw.buffer) : dtype === 'int32' ? new Int32Array(raw.buffer) : raw;
  return { dtype, shape, data };
}
