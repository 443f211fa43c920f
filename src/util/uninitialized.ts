/**
 * Large typed arrays that the caller fills completely, without the zero-fill of `new
 * Uint8Array(n)`: Node's `Buffer.allocUnsafeSlow` (its own ArrayBuffer, transferable, not from
 * the small-buffer pool); elsewhere a plain zeroed array. For per-batch buffers of megabytes,
 * where the zero-fill is a memset of memory about to be overwritten.
 */
type BufferCtor = { allocUnsafeSlow(size: number): Uint8Array };

/** An ArrayBuffer of `bytes` bytes whose content is unspecified. */
export function uninitializedBuffer(bytes: number): ArrayBuffer {
  const B = (globalThis as { Buffer?: BufferCtor }).Buffer;
  if (!B) return new ArrayBuffer(bytes);
  const b = B.allocUnsafeSlow(bytes);
  // allocUnsafeSlow gives a Buffer over a whole ArrayBuffer of exactly this size
  return b.byteOffset === 0 && b.buffer.byteLength === bytes ? (b.buffer as ArrayBuffer) : new ArrayBuffer(bytes);
}
