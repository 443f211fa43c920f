/** Picks the decoder of the running platform: sharp in Node, the browser codecs elsewhere. */
import type { ImageDecoder } from './decode.js';
import { BrowserImageDecoder } from './decode-browser.js';
import { NodeImageDecoder } from './decode-node.js';

/** True when running under Node. */
export function isNodeRuntime(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** A {@link NodeImageDecoder} under Node, else a {@link BrowserImageDecoder}. */
export function defaultImageDecoder(): ImageDecoder {
  return isNodeRuntime() ? new NodeImageDecoder() : new BrowserImageDecoder();
}
