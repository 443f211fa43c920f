// Helpers of the data tests: temp folders, synthetic images with known pixels, sharp encoders.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { RgbImage } from '../../src/index.js';

/** A fresh temp folder (removed by the returned cleanup). */
export function tempDir(prefix = 'mg-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An image whose pixel (x, y) is f(x, y) = [r, g, b]. */
export function makeImage(width: number, height: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = f(x, y);
      const o = (y * width + x) * 3;
      data[o] = r; data[o + 1] = g; data[o + 2] = b;
    }
  }
  return { width, height, data };
}

/** Pixel (x, y) of an RGB image. */
export function px(img: RgbImage, x: number, y: number): [number, number, number] {
  const o = (y * img.width + x) * 3;
  return [img.data[o]!, img.data[o + 1]!, img.data[o + 2]!];
}

/** A smooth color pattern (x gradient in R, y gradient in G, constant-ish B). */
export function gradient(width: number, height: number): RgbImage {
  return makeImage(width, height, (x, y) => [Math.round((255 * x) / Math.max(1, width - 1)), Math.round((255 * y) / Math.max(1, height - 1)), 100]);
}

/** Encodes an RGB image to a file (format from the extension: .png .jpg .webp), creating folders. */
export async function writeImage(path: string, img: RgbImage, options: { quality?: number; orientation?: number } = {}): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  let p = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } });
  if (path.endsWith('.png')) p = p.png();
  else if (path.endsWith('.webp')) p = p.webp({ lossless: true });
  else p = p.jpeg({ quality: options.quality ?? 95 });
  if (options.orientation) p = p.withMetadata({ orientation: options.orientation });
  await p.toFile(path);
}

/** Writes raw bytes, creating folders. */
export function writeBytes(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** Mean of an array-like. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Standard deviation of an array-like. */
export function std(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Throws unless |a - b| <= tol. */
export function near(a: number, b: number, tol: number, what = ''): void {
  if (!(Math.abs(a - b) <= tol)) throw new Error(`${what} expected ${b} ± ${tol}, got ${a}`);
}

/** Asserts that the promise rejects with a message matching every pattern. */
export async function rejectsWith(p: Promise<unknown>, ...patterns: RegExp[]): Promise<Error> {
  try {
    await p;
  } catch (e) {
    const msg = (e as Error).message;
    for (const re of patterns) if (!re.test(msg)) throw new Error(`error message "${msg}" does not match ${re}`);
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Asserts that fn throws with a message matching every pattern. */
export function throwsWith(fn: () => unknown, ...patterns: RegExp[]): Error {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    for (const re of patterns) if (!re.test(msg)) throw new Error(`error message "${msg}" does not match ${re}`);
    return e as Error;
  }
  throw new Error('expected an exception');
}
