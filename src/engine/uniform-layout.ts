/**
 * The layout of a kernel's uniform struct, derived from its declaration, and the packing of
 * values by name into it. Scalars are 4 bytes; `vec8u` (shapes and strides up to rank 8) is two
 * 16-byte-aligned vec4u. Padding is explicit (named `_padN` in the generated WGSL) so that the
 * struct reads the same in WGSL as in these offsets.
 */
export type UniformType = 'u32' | 'i32' | 'f32' | 'vec8u';
export type UniformTypes = Readonly<Record<string, UniformType>>;

/** The values of a dispatch, by name: numbers for scalars, up to 8 numbers for vec8u. */
export type UniformValues<U extends UniformTypes> = { [K in keyof U]: U[K] extends 'vec8u' ? readonly number[] : number };

export interface UniformField {
  /** The declared name, or `_padN` for padding. */
  name: string;
  type: UniformType;
  /** Byte offset in the struct. */
  offset: number;
}

export interface UniformLayout {
  fields: UniformField[];
  /** Struct size in bytes (a multiple of 16). */
  bytes: number;
}

export function uniformLayout(kernel: string, types: UniformTypes): UniformLayout {
  const fields: UniformField[] = [];
  let offset = 0;
  let pads = 0;
  const padTo16 = () => {
    while (offset % 16 !== 0) {
      fields.push({ name: `_pad${pads++}`, type: 'u32', offset });
      offset += 4;
    }
  };
  for (const [name, type] of Object.entries(types)) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error(`kernel ${kernel}: uniform name '${name}' must be a plain WGSL identifier`);
    if (type === 'vec8u') padTo16();
    fields.push({ name, type, offset });
    offset += type === 'vec8u' ? 32 : 4;
  }
  padTo16();
  return { fields, bytes: Math.max(offset, 16) };
}

/** Packs `values` by name into a fresh byte array laid out as `layout`. */
export function packUniforms(layout: UniformLayout, values: Readonly<Record<string, number | readonly number[]>>): Uint8Array {
  const bytes = new Uint8Array(layout.bytes);
  const view = new DataView(bytes.buffer);
  for (const field of layout.fields) {
    if (field.name.startsWith('_pad')) continue;
    const value = values[field.name];
    if (value === undefined) throw new Error(`uniform '${field.name}' was not given`);
    if (field.type === 'vec8u') {
      const list = value as readonly number[];
      if (list.length > 8) throw new Error(`uniform '${field.name}': rank ${list.length} is above the engine's maximum of 8`);
      for (let i = 0; i < list.length; i++) setU32(view, field.offset + 4 * i, list[i], field.name);
    } else if (field.type === 'u32') {
      setU32(view, field.offset, value as number, field.name);
    } else if (field.type === 'i32') {
      view.setInt32(field.offset, value as number, true);
    } else {
      view.setFloat32(field.offset, value as number, true);
    }
  }
  return bytes;
}

function setU32(view: DataView, offset: number, value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`uniform '${name}' (u32) out of range: ${value}`);
  view.setUint32(offset, value, true);
}
