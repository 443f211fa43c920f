/**
 * WGSL preprocessing and the compute-pipeline cache.
 *
 * Kernel WGSL (a generated header plus the body in `shaders/`) has `${NAME}` placeholders, fed to
 * `wgsl-preprocessor` (which gives `#if ${FLAG}` / `#elif` / `#else` / `#endif`); other
 * placeholders are replaced by their value (workgroup sizes, tile sizes). A pipeline is
 * compiled once per (shader, defines): shapes travel as uniforms, never as defines.
 */
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

export type Defines = Record<string, string | number | boolean>;

/** One variant of a kernel to compile: its name, its defines and its WGSL (made on a cache miss). */
export interface PipelineRequest {
  /** Kernel name, used in error messages and as the cache key's stem. */
  name: string;
  defines?: Defines;
  /** The WGSL text with `${NAME}` placeholders, before preprocessing. */
  code: () => string;
}

/** Fills `${NAME}` placeholders from `defines` and resolves `#if` blocks. */
export function preprocess(name: string, source: string, defines: Defines = {}): string {
  const strings: string[] = [];
  const values: unknown[] = [];
  let last = 0;
  for (const match of source.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const key = match[1];
    if (!(key in defines)) throw new Error(`shader '${name}': no value given for \${${key}}`);
    strings.push(source.slice(last, match.index));
    values.push(defines[key]);
    last = match.index! + match[0].length;
  }
  strings.push(source.slice(last));
  const raw = Object.assign([...strings], { raw: strings }) as unknown as TemplateStringsArray;
  return wgsl(raw, ...values);
}

function cacheKey(kernel: PipelineRequest): string {
  const defines = kernel.defines ?? {};
  const parts = Object.keys(defines).sort().map((k) => `${k}=${defines[k]}`);
  return `${kernel.name}|${parts.join(',')}`;
}

export class PipelineCache {
  private pipelines = new Map<string, GPUComputePipeline>();
  /** Kernels whose compilation failed, with the message (later uses throw it at once). */
  private broken = new Map<string, string>();
  private pendingChecks = new Set<Promise<void>>();

  constructor(private device: GPUDevice) {}

  /** Waits until every compilation started so far has been checked for errors. */
  async settled(): Promise<void> {
    await Promise.all([...this.pendingChecks]);
  }

  get size(): number {
    return this.pipelines.size;
  }

  /**
   * The pipeline for a kernel, compiled on first use. Compilation is synchronous so that ops
   * stay synchronous; a compile error reaches `onError` (with shader name and line) when the
   * device reports it, and the runtime throws it at the next dispatch or readback.
   */
  getSync(kernel: PipelineRequest, onError: (message: string) => void): GPUComputePipeline {
    const key = cacheKey(kernel);
    const failure = this.broken.get(key);
    if (failure) throw new Error(failure);
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const code = preprocess(kernel.name, kernel.code(), kernel.defines);
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code, label: kernel.name });
    const pipeline = device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
      label: kernel.name,
    });
    const check = device.popErrorScope().then(async (error) => {
      if (!error) return;
      const message = await describeCompileError(kernel, code, module, error.message);
      this.broken.set(key, message);
      onError(message);
    });
    this.pendingChecks.add(check);
    void check.finally(() => this.pendingChecks.delete(check));
    this.pipelines.set(key, pipeline);
    return pipeline;
  }
}

async function describeCompileError(kernel: PipelineRequest, code: string, module: GPUShaderModule, fallback: string): Promise<string> {
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  const lines = code.split('\n');
  // Line numbers count the generated header too, so the line itself is quoted.
  const where = errors.map((m) => `  ${kernel.name}:${m.lineNum}:${m.linePos}: ${m.message}\n    | ${lines[m.lineNum - 1]?.trim() ?? ''}`).join('\n');
  const defines = JSON.stringify(kernel.defines ?? {});
  return `shader '${kernel.name}' (defines ${defines}) failed to compile:\n${where || '  ' + fallback}`;
}
