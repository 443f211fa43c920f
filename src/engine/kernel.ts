/**
 * A kernel declared once: its WGSL body (`shaders/<family>/<name>.wgsl`), its uniforms by name
 * and type, its storage bindings with their access mode, and its workgroup size. The WGSL
 * header (uniform struct, bindings, index helpers, shared snippets) is generated from the
 * declaration (wgsl-header.ts), and a dispatch gives uniforms and buffers by name, so a shader
 * and its launcher cannot disagree on a field's order or a binding's number.
 *
 *   const fill = defineKernel({
 *     name: 'example/fill', source: 'fn main(...) { out[i] = params.value; }',
 *     uniforms: { n: 'u32', value: 'f32' },
 *     bindings: [{ name: 'out', type: 'f32', access: 'read_write' }],
 *     workgroupSize: 256,
 *   });
 *   fill.dispatch({ uniforms: { n, value: 1 }, bindings: { out }, workgroups: runtime().grid(n / 256) });
 */
import { runtime } from './runtime.js';
import type { Defines } from './pipelines.js';
import { uniformLayout, packUniforms, type UniformLayout, type UniformTypes, type UniformValues } from './uniform-layout.js';
import { generateHeader, type Snippet } from './wgsl-header.js';
import { Tensor } from './tensor.js';

export interface BindingSpec {
  name: string;
  /** Element type of the storage array: a WGSL type, or `${NAME}` filled from the defines. */
  type: string;
  access: 'read' | 'read_write';
  /** Present only when this define is truthy (optional operands, variant-specific outputs). */
  when?: string;
  /** Present only when this define is falsy. */
  unless?: string;
}

export interface KernelSpec<U extends UniformTypes> {
  /** `<family>/<name>`, the path of the WGSL body under shaders/ (also the profiler's label). */
  name: string;
  /** The WGSL body, with `${NAME}` placeholders and `#if` blocks (wgsl-preprocessor). */
  source: string;
  uniforms: U;
  bindings: readonly BindingSpec[];
  /**
   * Threads per workgroup along x (`WORKGROUP_SIZE` in WGSL), fixed or chosen from the defines
   * and the adapter's limits (SwiftShader allows 256 invocations, desktop GPUs 1024).
   */
  workgroupSize?: number | ((defines: Defines, limits: GPUSupportedLimits) => number);
  /** Shared WGSL helpers prepended to the body (see wgsl-header.ts). */
  snippets?: readonly Snippet[];
  /** WGSL extensions the body needs (`enable subgroups;`), by define: on when that define is truthy. */
  enables?: Readonly<Record<string, string>>;
}

/** A binding's buffer: a tensor (its storage) or a raw GPU buffer (engine internals). */
export type BindingValue = Tensor | GPUBuffer;

export interface KernelDispatch<U extends UniformTypes> {
  defines?: Defines;
  uniforms: UniformValues<U>;
  bindings: Record<string, BindingValue>;
  /** Workgroup counts; `runtime().grid(n)` folds a 1-D count above the per-dimension limit. */
  workgroups: readonly [number, number?, number?];
  /** The problem's shape for the profiler, called only while it groups by shape. */
  shape?: () => string;
}

export class Kernel<U extends UniformTypes = UniformTypes> {
  readonly layout: UniformLayout;

  constructor(readonly spec: KernelSpec<U>) {
    this.layout = uniformLayout(spec.name, spec.uniforms);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The complete WGSL for one variant (header + snippets + body), before preprocessing. */
  code(defines: Defines = {}, limits: GPUSupportedLimits = runtime().gpu.limits): string {
    return generateHeader(this.spec, this.layout, defines, this.workgroupSize(defines, limits)) + this.spec.source;
  }

  /** The workgroup size of a variant on this adapter, refused when above its limits. */
  workgroupSize(defines: Defines, limits: GPUSupportedLimits): number | undefined {
    const size = typeof this.spec.workgroupSize === 'function' ? this.spec.workgroupSize(defines, limits) : this.spec.workgroupSize;
    if (size !== undefined && (size > limits.maxComputeInvocationsPerWorkgroup || size > limits.maxComputeWorkgroupSizeX)) {
      throw new Error(
        `kernel ${this.name}: a workgroup of ${size} threads is above this adapter's limit ` +
          `(${Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX)})`,
      );
    }
    return size;
  }

  /** The bindings active under `defines`, in binding order (1, 2, ...). */
  activeBindings(defines: Defines = {}): BindingSpec[] {
    return this.spec.bindings.filter((b) => (b.when === undefined || !!defines[b.when]) && (b.unless === undefined || !defines[b.unless]));
  }

  /** Records one dispatch into the runtime's command stream. */
  dispatch(args: KernelDispatch<U>): void {
    const defines = args.defines ?? {};
    const buffers = this.activeBindings(defines).map((b) => {
      const value = args.bindings[b.name];
      if (!value) throw new Error(`kernel ${this.name}: no buffer given for binding '${b.name}'`);
      return value instanceof Tensor ? value.buffer : value;
    });
    runtime().dispatch(
      { name: this.name, defines, code: () => this.code(defines) },
      { uniforms: packUniforms(this.layout, args.uniforms), buffers, workgroups: args.workgroups, shape: args.shape },
    );
  }
}

/** Declares a kernel (see the module comment). */
export function defineKernel<U extends UniformTypes>(spec: KernelSpec<U>): Kernel<U> {
  return new Kernel(spec);
}
