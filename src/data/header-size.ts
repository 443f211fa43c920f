/**
 * The stored (width, height) of a JPEG or PNG read from its first bytes, without a decoder
 * call: the crop-while-decoding path needs the size before decoding, and asking libvips for
 * it costs a whole pipeline set-up per image. Orientation tags are not read (the caller asks
 * the decoder where the orientation matters); other formats give null.
 */

/** JPEG start-of-frame markers (SOF0-SOF15 except DHT C4, JPG C8, DAC CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegSize(b: Uint8Array): [number, number] | null {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    while (b[i] === 0xff && i < b.length) i++; // fill bytes
    const marker = b[i]!;
    i++;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) return null; // end of image / scan before any frame
    const length = (b[i]! << 8) | b[i + 1]!;
    if (isStartOfFrame(marker)) {
      const height = (b[i + 3]! << 8) | b[i + 4]!;
      const width = (b[i + 5]! << 8) | b[i + 6]!;
      return width > 0 && height > 0 ? [width, height] : null;
    }
    i += length;
  }
  return null;
}

function pngSize(b: Uint8Array): [number, number] | null {
  if (b.length < 24 || b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return null; // IHDR
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = dv.getUint32(16), height = dv.getUint32(20);
  return width > 0 && height > 0 ? [width, height] : null;
}

/** (width, height) from a JPEG's frame header or a PNG's IHDR; null for other or unreadable data. */
export function headerImageSize(bytes: Uint8Array): [number, number] | null {
  if (bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes);
  if (bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return pngSize(bytes);
  return null;
}
