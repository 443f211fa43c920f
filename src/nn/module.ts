/**
 * Module: named parameters, buffers and child modules, train/eval mode, state dicts.
 * Names follow PyTorch (`layer1.0.conv1.weight`), so PyTorch weights load by name.
 */
import { Tensor, shapeString } from '../engine/index.js';
import { hostTensorToFloat32, makeHostTensor, type StateDict } from '../io/index.js';

/** Problems of each kind a `loadStateDict` error lists; the rest are counted. */
const LISTED = 5;

export abstract class Module {
  training = true;
  private params = new Map<string, Tensor>();
  private buffers = new Map<string, Tensor>();
  private children = new Map<string, Module>();

  protected addParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    t.name = name;
    this.params.set(name, t);
    return t;
  }

  protected addBuffer(name: string, t: Tensor): Tensor {
    t.name = name;
    this.buffers.set(name, t);
    return t;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Replaces a registered child module. */
  protected replaceModule(name: string, m: Module): void {
    if (!this.children.has(name)) throw new Error(`replaceModule: no child module '${name}'`);
    this.children.set(name, m);
  }

  /** Replaces a registered parameter or buffer tensor (e.g. making a buffer learnable). */
  protected replaceTensor(name: string, t: Tensor, asParameter: boolean): void {
    this.params.delete(name);
    this.buffers.delete(name);
    if (asParameter) this.addParameter(name, t);
    else this.addBuffer(name, t);
  }

  /** Child modules by name. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter, depth first, with its dotted name. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.params].map(([n, t]) => [prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [...this.buffers].map(([n, t]) => [prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers by name (the tensors themselves, not copies). */
  stateTensors(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Expected name → shape of every parameter and buffer (for loading checks). */
  stateShapes(): Map<string, number[]> {
    return new Map([...this.stateTensors()].map(([n, t]) => [n, [...t.shape]]));
  }

  /** Sets training mode (batchnorm uses batch statistics) on this module and its children. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  /** Sets evaluation mode (batchnorm uses running statistics). */
  eval(): this {
    return this.train(false);
  }

  /**
   * Copies values from a host state dict into this module's tensors. With `strict`, every
   * key must match; the error counts the missing keys, unexpected keys and shape mismatches
   * and names the first five of each (with both shapes for a mismatch). Nothing is written
   * unless everything matches.
   * Keys in `ignore` (e.g. `num_batches_tracked`) are skipped.
   */
  loadStateDict(dict: StateDict, options: { strict?: boolean; ignore?: (key: string) => boolean } = {}): void {
    const strict = options.strict ?? true;
    const ignore = options.ignore ?? ((k: string) => k.endsWith('num_batches_tracked'));
    const own = this.stateTensors();
    const missing: string[] = [];
    const mismatched: string[] = [];
    const unexpected: string[] = [];
    for (const [name, t] of own) {
      const src = dict.get(name);
      if (!src) {
        if (strict) missing.push(`missing key '${name}' (expected shape ${shapeString(t.shape)})`);
        continue;
      }
      const size = src.shape.reduce((a, b) => a * b, 1);
      // exact shape (a transposed [a, b] vs [b, a] has the same size and rank); one-element tensors ([] / [1]) are interchangeable
      const sameShape = src.shape.length === t.rank && src.shape.every((d, i) => d === t.shape[i]);
      if (!sameShape && !(size === 1 && t.size === 1)) {
        mismatched.push(`shape mismatch for '${name}': checkpoint ${shapeString(src.shape)}, model ${shapeString(t.shape)}`);
      }
    }
    if (strict) {
      for (const key of dict.keys()) if (!own.has(key) && !ignore(key)) unexpected.push(`unexpected key '${key}'`);
    }
    const total = missing.length + mismatched.length + unexpected.length;
    if (total) {
      // a wrong architecture differs in hundreds of keys: count them, list the first few of each kind
      const counts = [
        mismatched.length && `${mismatched.length} with a different shape`,
        missing.length && `${missing.length} missing`,
        unexpected.length && `${unexpected.length} unexpected`,
      ].filter(Boolean).join(', ');
      const lines = [`loadStateDict: ${total} problem(s) (${counts}; the model has ${own.size} tensors, the state dict ${dict.size}):`];
      for (const [list, kind] of [[mismatched, 'with a different shape'], [missing, 'missing'], [unexpected, 'unexpected']] as const) {
        lines.push(...list.slice(0, LISTED).map((l) => `  ${l}`));
        if (list.length > LISTED) lines.push(`  ... and ${list.length - LISTED} more ${kind}`);
      }
      throw new Error(lines.join('\n'));
    }
    for (const [name, t] of own) {
      const src = dict.get(name);
      if (!src) continue;
      const values = hostTensorToFloat32(src);
      t.assign(t.dtype === 'f32' ? values : t.dtype === 'i32' ? Int32Array.from(values) : Uint32Array.from(values));
    }
  }

  /** Reads every parameter and buffer back to the host (for saving). */
  async exportStateDict(): Promise<StateDict> {
    const out: StateDict = new Map();
    for (const [name, t] of this.stateTensors()) {
      const data = await t.toArray();
      out.set(name, makeHostTensor(t.dtype === 'f32' ? 'f32' : 'i32', [...t.shape], data as Float32Array | Int32Array));
    }
    return out;
  }
}
