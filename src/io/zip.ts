/**
 * Minimal ZIP archive reader (what PyTorch's `torch.save` writes, and what a user may get by
 * re-zipping it): central directory, ZIP64 records, entries stored (method 0) or deflated
 * (method 8), CRC-32 check. Works on a Uint8Array in Node and in the browser; inflation uses
 * node:zlib in Node and `DecompressionStream('deflate-raw')` in browsers, hence the async `read`.
 */

/** One file of a ZIP archive, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

/** Error raised for a malformed or unsupported ZIP archive. */
export class ZipError extends Error {
  override name = 'ZipError';
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE, as ZIP and gzip use it) of `bytes`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  if (isNode()) {
    const zlib = await import('node:zlib');
    return new Uint8Array(zlib.inflateRawSync(data));
  }
  if (typeof DecompressionStream === 'undefined') throw new ZipError('zip: no DecompressionStream to inflate a deflated entry');
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A parsed ZIP archive over an in-memory byte array. */
export class ZipArchive {
  /** Entries by name, in central-directory order. */
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  /** Parses the central directory of `bytes`; throws ZipError if it is not a complete ZIP archive. */
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.parse();
  }

  /** True where `bytes` starts with a ZIP local file header signature (`PK\x03\x04`). */
  static looksLikeZip(bytes: Uint8Array): boolean {
    return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  }

  private u16(o: number): number { return this.view.getUint16(o, true); }
  private u32(o: number): number { return this.view.getUint32(o, true); }
  private u64(o: number): number {
    const v = this.view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('zip: 64-bit size or offset too large');
    return Number(v);
  }
  private need(o: number, n: number, what: string): void {
    if (o < 0 || o + n > this.bytes.byteLength) throw new ZipError(`zip: truncated archive (${what} at byte ${o} lies past the end, ${this.bytes.byteLength} bytes)`);
  }

  private parse(): void {
    const len = this.bytes.byteLength;
    let eocd = -1;
    for (let o = len - 22; o >= Math.max(0, len - 22 - 0xffff); o--) {
      if (this.u32(o) === SIG_EOCD) { eocd = o; break; }
    }
    if (eocd < 0) {
      throw new ZipError(ZipArchive.looksLikeZip(this.bytes)
        ? `zip: end of central directory not found; the archive is truncated or damaged (${len} bytes)`
        : 'zip: not a ZIP archive (no end of central directory record)');
    }
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== SIG_ZIP64_LOCATOR) throw new ZipError('zip: ZIP64 locator missing');
      const z = this.u64(loc + 8);
      this.need(z, 56, 'ZIP64 end of central directory');
      if (this.u32(z) !== SIG_ZIP64_EOCD) throw new ZipError('zip: bad ZIP64 end of central directory');
      count = this.u64(z + 32);
      cdSize = this.u64(z + 40);
      cdOffset = this.u64(z + 48);
    }
    this.need(cdOffset, cdSize, 'central directory');
    const dec = new TextDecoder();
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      this.need(p, 46, 'central directory entry');
      if (this.u32(p) !== SIG_CENTRAL) throw new ZipError(`zip: bad central directory entry #${i} at byte ${p}`);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let csize = this.u32(p + 20);
      let usize = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let local = this.u32(p + 42);
      this.need(p + 46, nameLen + extraLen + commentLen, 'central directory entry name');
      const name = dec.decode(this.bytes.subarray(p + 46, p + 46 + nameLen));
      // ZIP64 extended information: only the fields saturated in the fixed record are present.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const size = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (usize === 0xffffffff) { usize = this.u64(q); q += 8; }
          if (csize === 0xffffffff) { csize = this.u64(q); q += 8; }
          if (local === 0xffffffff) { local = this.u64(q); q += 8; }
        }
        e += 4 + size;
      }
      this.entries.set(name, { name, method, compressedSize: csize, uncompressedSize: usize, crc32: crc, localHeaderOffset: local });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** Entry names, in archive order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The still-compressed bytes of an entry (a view into the archive). */
  rawEntryData(entry: ZipEntry): Uint8Array {
    const o = entry.localHeaderOffset;
    this.need(o, 30, `local header of '${entry.name}'`);
    if (this.u32(o) !== SIG_LOCAL) throw new ZipError(`zip: bad local header for '${entry.name}' at byte ${o}`);
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    this.need(start, entry.compressedSize, `data of '${entry.name}'`);
    return this.bytes.subarray(start, start + entry.compressedSize);
  }

  /**
   * The uncompressed bytes of entry `name`. Stored entries are returned as a view into the
   * archive (no copy). Checks the size and, unless `verifyCrc` is false, the CRC-32.
   */
  async read(name: string, options: { verifyCrc?: boolean } = {}): Promise<Uint8Array> {
    const entry = this.entries.get(name);
    if (!entry) throw new ZipError(`zip: no entry '${name}' in the archive`);
    const raw = this.rawEntryData(entry);
    let data: Uint8Array;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) {
      try { data = await inflateRaw(raw); } catch (e) {
        throw new ZipError(`zip: cannot inflate '${name}': ${(e as Error).message}`);
      }
    } else throw new ZipError(`zip: entry '${name}' uses unsupported compression method ${entry.method}`);
    if (data.byteLength !== entry.uncompressedSize) {
      throw new ZipError(`zip: entry '${name}' has ${data.byteLength} bytes, the directory says ${entry.uncompressedSize}`);
    }
    if (options.verifyCrc !== false && crc32(data) !== entry.crc32) throw new ZipError(`zip: CRC mismatch in entry '${name}' (corrupt archive)`);
    return data;
  }
}
