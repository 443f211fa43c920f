/**
 * Kernel parameters, packed in the order a shader's `Params` struct declares them.
 * Only 4-byte scalars are used, so the WGSL layout is simply sequential.
 *
 *   new Uniforms().u32(rows).u32(cols).f32(scale)
 *   // struct Params { rows: u32, cols: u32, scale: f32 }
 */
export class Uniforms {
  private view = new DataView(new ArrayBuffer(256));
  private used = 0;

  private grow(): void {
    if (this.used + 4 <= this.view.byteLength) return;
    const bigger = new Uint8Array(this.view.byteLength * 2);
    bigger.set(new Uint8Array(this.view.buffer));
    this.view = new DataView(bigger.buffer);
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`uniform u32 out of range: ${value}`);
    this.grow();
    this.view.setUint32(this.used, value, true);
    this.used += 4;
    return this;
  }

  i32(value: number): this {
    this.grow();
    this.view.setInt32(this.used, value, true);
    this.used += 4;
    return this;
  }

  f32(value: number): this {
    this.grow();
    this.view.setFloat32(this.used, value, true);
    this.used += 4;
    return this;
  }

  /** Several u32 values (shapes, strides). */
  u32s(values: readonly number[]): this {
    for (const v of values) this.u32(v);
    return this;
  }

  /** Pads to 16 bytes, then writes 8 u32 slots (shapes and strides up to rank 8, as two vec4u). */
  vec8(values: readonly number[]): this {
    if (values.length > 8) throw new Error(`rank ${values.length} is above the engine's maximum of 8`);
    while (this.used % 16 !== 0) this.u32(0);
    for (let i = 0; i < 8; i++) this.u32(values[i] ?? 0);
    return this;
  }

  /** Pads with zeros to the next 16-byte boundary (before a vec4 field). */
  align16(): this {
    while (this.used % 16 !== 0) this.u32(0);
    return this;
  }

  /** The packed bytes, padded to 16 (uniform structs are 16-byte aligned). */
  bytes(): Uint8Array {
    const size = Math.max(16, Math.ceil(this.used / 16) * 16);
    return new Uint8Array(this.view.buffer, 0, size);
  }
}
