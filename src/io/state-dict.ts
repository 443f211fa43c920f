/**
 * State dicts out of loaded checkpoints: finding the flat `name -> tensor` map inside a nested
 * checkpoint value, renaming keys between the torchvision and MultiGrain layouts, and matching
 * the result against the names and shapes a model expects (with errors that name every key).
 */
import { formatShape, isHostTensor, shapeNumel, type HostTensor, type StateDict } from './host-tensor.js';

function entriesOf(v: unknown): Array<[unknown, unknown]> | undefined {
  if (v instanceof Map) return [...v.entries()];
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !isHostTensor(v)
    && Object.getPrototypeOf(v) === Object.prototype) return Object.entries(v);
  return undefined;
}

function lookup(v: unknown, key: string | number): unknown {
  if (v instanceof Map) {
    if (v.has(key)) return v.get(key);
    // Python int keys come back as numbers; accept their string form too.
    if (typeof key === 'string' && /^-?\d+$/.test(key) && v.has(Number(key))) return v.get(Number(key));
    return undefined;
  }
  if (Array.isArray(v)) return typeof key === 'number' || /^\d+$/.test(key) ? v[Number(key)] : undefined;
  if (typeof v === 'object' && v !== null) return (v as Record<string, unknown>)[String(key)];
  return undefined;
}

/**
 * Follows a path of keys through nested Maps, plain objects and arrays of a loaded checkpoint,
 * e.g. `checkpointGet(value, 'extra.beta')` or `checkpointGet(value, ['optimizer_state', 'state', 0])`.
 * Returns undefined where the path does not exist.
 */
export function checkpointGet(value: unknown, path: string | ReadonlyArray<string | number>): unknown {
  const keys = typeof path === 'string' ? path.split('.') : path;
  let v = value;
  for (const k of keys) {
    v = lookup(v, k);
    if (v === undefined) return undefined;
  }
  return v;
}

/** True where `v` is a non-empty Map (or plain object) whose keys are strings and values all HostTensors. */
export function isTensorMap(v: unknown): boolean {
  const entries = entriesOf(v);
  return !!entries && entries.length > 0 && entries.every(([k, t]) => typeof k === 'string' && isHostTensor(t));
}

/** Options of `extractStateDict`. */
export interface ExtractStateDictOptions {
  /** Keys to look under, in order, when the value itself is not a state dict. */
  prefer?: string[];
  /** Drop a `module.` prefix shared by every key (nn.DataParallel checkpoints); default true. */
  stripModulePrefix?: boolean;
}

const DEFAULT_PREFER = ['model_state', 'state_dict', 'model', 'model_state_dict', 'net'];

/**
 * Finds the flat state dict in a loaded checkpoint: the value itself when it is a map of
 * tensors, else the first of `prefer` (default `model_state`, `state_dict`, `model`,
 * `model_state_dict`, `net`) that holds one, searched recursively. Throws naming the keys seen.
 */
export function extractStateDict(value: unknown, options: ExtractStateDictOptions = {}): StateDict {
  const prefer = options.prefer ?? DEFAULT_PREFER;
  const find = (v: unknown, depth: number): StateDict | undefined => {
    if (isTensorMap(v)) return new Map(entriesOf(v) as Array<[string, HostTensor]>);
    if (depth > 4) return undefined;
    for (const k of prefer) {
      const child = lookup(v, k);
      if (child !== undefined) {
        const found = find(child, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };
  const sd = find(value, 0);
  if (!sd) {
    const keys = entriesOf(value)?.map(([k]) => String(k));
    throw new Error(`no state dict found in the checkpoint: looked for a map of tensors at the top level and under ${prefer.map((k) => `'${k}'`).join(', ')}`
      + (keys ? `; top-level keys are: ${keys.join(', ')}` : `; the checkpoint is a ${Array.isArray(value) ? 'list' : typeof value}`));
  }
  const keys = [...sd.keys()];
  if (options.stripModulePrefix !== false && keys.every((k) => k.startsWith('module.'))) {
    return new Map(keys.map((k) => [k.slice('module.'.length), sd.get(k)!]));
  }
  return sd;
}

/**
 * Every tensor of a nested checkpoint value, keyed by its path (keys joined with `sep`,
 * default '/'), e.g. `model_state/features.conv1.weight`, `optimizer_state/state/0/momentum_buffer`.
 */
export function flattenCheckpointTensors(value: unknown, sep = '/'): StateDict {
  const out: StateDict = new Map();
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string): void => {
    if (isHostTensor(v)) { out.set(path, v); return; }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    const join = (k: unknown): string => (path ? `${path}${sep}${String(k)}` : String(k));
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, join(i)));
    else for (const [k, x] of entriesOf(v) ?? []) walk(x, join(k));
  };
  walk(value, '');
  return out;
}

/** Ordered prefix renaming rules `[from, to]`; the longest matching `from` wins, '' matches every key. */
export type KeyRemap = ReadonlyArray<readonly [from: string, to: string]>;

/** Applies prefix renaming rules to one key (unchanged when no rule matches). */
export function remapKey(key: string, remap: KeyRemap): string {
  let best: readonly [string, string] | undefined;
  for (const rule of remap) if (key.startsWith(rule[0]) && (!best || rule[0].length > best[0].length)) best = rule;
  return best ? best[1] + key.slice(best[0].length) : key;
}

/** Renames the keys of a state dict; throws if two keys end up with the same name. */
export function remapStateDictKeys(dict: StateDict, remap: KeyRemap): StateDict {
  const out: StateDict = new Map();
  const from = new Map<string, string>();
  for (const [k, t] of dict) {
    const nk = remapKey(k, remap);
    if (out.has(nk)) throw new Error(`key remap sends both '${from.get(nk)}' and '${k}' to '${nk}'`);
    out.set(nk, t);
    from.set(nk, k);
  }
  return out;
}

/** Where a ResNet's parts sit in a state dict: key prefixes of the trunk and of the classifier. */
export interface ResNetKeyLayout {
  trunk: string;
  classifier: string;
}

/** torchvision's ResNet: `conv1.weight`, `layer1.0.bn1.running_mean`, ..., `fc.weight`. */
export const TORCHVISION_RESNET_LAYOUT: Readonly<ResNetKeyLayout> = { trunk: '', classifier: 'fc.' };
/** The original MultiGrain release: `features.conv1.weight`, ..., `pool.p`, `classifier.weight`, `whitening.pca.*`. */
export const MULTIGRAIN_RESNET_LAYOUT: Readonly<ResNetKeyLayout> = { trunk: 'features.', classifier: 'classifier.' };

/**
 * Rules that rename a state dict from one ResNet layout to another, e.g.
 * `resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT)` = fc. -> classifier.,
 * everything else -> features.*. Keys outside both prefixes (`pool.p`, `whitening.*`) keep their
 * names unless the source trunk prefix is ''.
 */
export function resnetKeyRemap(from: ResNetKeyLayout, to: ResNetKeyLayout): KeyRemap {
  return [[from.classifier, to.classifier], [from.trunk, to.trunk]];
}

/** Options of `matchStateDict`. */
export interface MatchStateDictOptions {
  /** Prefix renaming applied to the source keys before matching. */
  remap?: KeyRemap;
  /** Source keys (exact strings or patterns, tested on the source and the renamed key) dropped silently.
   *  Default: `num_batches_tracked` buffers. */
  ignoreUnexpected?: ReadonlyArray<string | RegExp>;
  /** Expected keys that may be absent from the source. Default: `num_batches_tracked` buffers. */
  allowMissing?: ReadonlyArray<string | RegExp>;
  /** When false, missing and unexpected keys are reported in the result, not thrown; shape mismatches always throw. */
  strict?: boolean;
  /** Treat shapes with one element (`[]`, `[1]`, `[1, 1]`) as equal and reshape to the expected one; default true. */
  looseScalars?: boolean;
}

/** A key whose tensor has the wrong shape. */
export interface ShapeMismatch {
  key: string;
  sourceKey: string;
  expected: number[];
  actual: number[];
}

/** What `matchStateDict` returns. */
export interface MatchStateDictResult {
  /** Matched tensors, in the order of the expected map, under the expected names. */
  tensors: StateDict;
  /** Expected keys the source lacks (only non-empty with `strict: false` or `allowMissing`). */
  missing: string[];
  /** Source keys (renamed) the model does not expect (only non-empty with `strict: false`). */
  unexpected: string[];
  /** Source keys dropped by `ignoreUnexpected`. */
  ignored: string[];
}

/** Keys of each kind a mismatch message lists; the rest are counted (a wrong architecture differs in hundreds). */
export const MISMATCH_KEYS_LISTED = 5;

/**
 * Thrown by `matchStateDict`. The message counts the missing, unexpected and wrongly shaped
 * keys, how many tensors the model expects and the file holds, and lists the first
 * `MISMATCH_KEYS_LISTED` of each kind (both shapes for a mismatch); the full lists are the
 * error's fields.
 */
export class StateDictMismatchError extends Error {
  override name = 'StateDictMismatchError';
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly shapeMismatches: ShapeMismatch[],
    expected: ReadonlyMap<string, readonly number[]>,
    source: ReadonlyMap<string, { shape: number[]; sourceKey: string }>,
  ) {
    const counts = [
      missing.length && `${missing.length} missing`,
      unexpected.length && `${unexpected.length} unexpected`,
      shapeMismatches.length && `${shapeMismatches.length} with a different shape`,
    ].filter(Boolean).join(', ');
    const lines = [`state dict does not match the model (${counts}; the model has ${expected.size} tensors, the file ${source.size}):`];
    const listed = <T>(items: T[], kind: string, line: (item: T) => string): void => {
      for (const item of items.slice(0, MISMATCH_KEYS_LISTED)) lines.push(line(item));
      if (items.length > MISMATCH_KEYS_LISTED) lines.push(`  ... and ${items.length - MISMATCH_KEYS_LISTED} more ${kind}`);
    };
    listed(shapeMismatches, 'with a different shape', (m) => `  shape mismatch: '${m.key}': model expects ${formatShape(m.expected)}, checkpoint has ${formatShape(m.actual)}`
      + (m.sourceKey !== m.key ? ` (checkpoint key '${m.sourceKey}')` : ''));
    listed(missing, 'missing', (k) => `  missing: '${k}' (model expects ${formatShape(expected.get(k)!)})`);
    listed(unexpected, 'unexpected', (k) => {
      const s = source.get(k)!;
      return `  unexpected: '${k}' ${formatShape(s.shape)}${s.sourceKey !== k ? ` (checkpoint key '${s.sourceKey}')` : ''}`;
    });
    if (unexpected.some((k) => k.includes('whitening.'))) {
      lines.push('  hint: the checkpoint is PCA-whitened (whitening.pca.*, classifier with d+1 columns); build the model with whitening');
    }
    super(lines.join('\n'));
  }
}

const NUM_BATCHES = /(^|\.)num_batches_tracked$/;

function matches(patterns: ReadonlyArray<string | RegExp>, ...keys: string[]): boolean {
  return patterns.some((p) => keys.some((k) => (typeof p === 'string' ? p === k : p.test(k))));
}

/**
 * Matches a state dict against the names and shapes a model expects. Returns the tensors under
 * the expected names; throws StateDictMismatchError naming each missing or unexpected key and,
 * for a shape mismatch, the key with both shapes.
 */
export function matchStateDict(
  source: StateDict,
  expected: ReadonlyMap<string, readonly number[]>,
  options: MatchStateDictOptions = {},
): MatchStateDictResult {
  const ignore = options.ignoreUnexpected ?? [NUM_BATCHES];
  const allowMissing = options.allowMissing ?? [NUM_BATCHES];
  const loose = options.looseScalars !== false;
  const renamed = new Map<string, { tensor: HostTensor; sourceKey: string }>();
  const ignored: string[] = [];
  for (const [k, t] of source) {
    const nk = options.remap ? remapKey(k, options.remap) : k;
    const prev = renamed.get(nk);
    if (prev) throw new Error(`key remap sends both '${prev.sourceKey}' and '${k}' to '${nk}'`);
    renamed.set(nk, { tensor: t, sourceKey: k });
  }
  const tensors: StateDict = new Map();
  const missing: string[] = [];
  const mismatches: ShapeMismatch[] = [];
  for (const [key, shape] of expected) {
    const s = renamed.get(key);
    if (!s) {
      if (!matches(allowMissing, key)) missing.push(key);
      continue;
    }
    const actual = s.tensor.shape;
    const same = actual.length === shape.length && actual.every((d, i) => d === shape[i]);
    if (same) tensors.set(key, s.tensor);
    else if (loose && shapeNumel(actual) === 1 && shapeNumel(shape) === 1) tensors.set(key, { ...s.tensor, shape: [...shape] });
    else mismatches.push({ key, sourceKey: s.sourceKey, expected: [...shape], actual: [...actual] });
  }
  const unexpected: string[] = [];
  for (const [k, s] of renamed) {
    if (expected.has(k)) continue;
    if (matches(ignore, k, s.sourceKey)) ignored.push(s.sourceKey);
    else unexpected.push(k);
  }
  const strict = options.strict !== false;
  if (mismatches.length || (strict && (missing.length || unexpected.length))) {
    const src = new Map([...renamed].map(([k, s]) => [k, { shape: s.tensor.shape, sourceKey: s.sourceKey }]));
    throw new StateDictMismatchError(strict ? missing : [], strict ? unexpected : [], mismatches, expected, src);
  }
  return { tensors, missing, unexpected, ignored };
}

/** What `describeResNetStateDict` finds out about a ResNet-style state dict. */
export interface ResNetStateDictInfo {
  /** Which naming the keys follow. */
  layout: 'multigrain' | 'torchvision' | 'unknown';
  /** Residual blocks per stage (layer1..layer4). */
  blocks: number[];
  /** Bottleneck blocks (conv3 present) or basic blocks. */
  bottleneck: boolean;
  /** torchvision architecture name where blocks/bottleneck match one. */
  arch: 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101' | 'resnet152' | undefined;
  /** Rows of the classifier (fc/classifier) weight. */
  numClasses: number | undefined;
  /** Columns of the classifier weight (d, or d + 1 when whitened). */
  classifierInputs: number | undefined;
  /** Whether `whitening.pca.*` tensors are present. */
  whitened: boolean;
  /** Value of `pool.p` (GeM exponent), when present. */
  poolP: number | undefined;
}

const ARCHS: Record<string, ResNetStateDictInfo['arch']> = {
  'basic:2,2,2,2': 'resnet18', 'basic:3,4,6,3': 'resnet34',
  'bottleneck:3,4,6,3': 'resnet50', 'bottleneck:3,4,23,3': 'resnet101', 'bottleneck:3,8,36,3': 'resnet152',
};

/** Inspects a ResNet/MultiGrain state dict: layout, depth, classes, whitening, GeM exponent. */
export function describeResNetStateDict(dict: StateDict): ResNetStateDictInfo {
  const keys = [...dict.keys()];
  const layout = keys.some((k) => k.startsWith('features.conv1.')) ? 'multigrain'
    : keys.some((k) => k.startsWith('conv1.')) ? 'torchvision' : 'unknown';
  const l = layout === 'multigrain' ? MULTIGRAIN_RESNET_LAYOUT : TORCHVISION_RESNET_LAYOUT;
  const blocks = [1, 2, 3, 4].map((s) => {
    const re = new RegExp(`^${l.trunk.replace(/\./g, '\\.')}layer${s}\\.(\\d+)\\.`);
    let n = 0;
    for (const k of keys) { const m = re.exec(k); if (m) n = Math.max(n, Number(m[1]) + 1); }
    return n;
  });
  const bottleneck = keys.some((k) => k.startsWith(`${l.trunk}layer1.0.conv3.`));
  const w = dict.get(`${l.classifier}weight`);
  const p = dict.get('pool.p');
  return {
    layout,
    blocks,
    bottleneck,
    arch: ARCHS[`${bottleneck ? 'bottleneck' : 'basic'}:${blocks.join(',')}`],
    numClasses: w?.shape[0],
    classifierInputs: w?.shape[1],
    whitened: keys.some((k) => k.startsWith('whitening.pca.')),
    poolP: p && p.data.length === 1 ? Number(p.data[0]) : undefined,
  };
}

/** How many NaN and infinite values a float tensor holds (0, 0 for integer dtypes). */
export function countNonFinite(t: HostTensor): { nan: number; infinite: number } {
  let nan = 0;
  let infinite = 0;
  if (t.dtype === 'f32' || t.dtype === 'f64') {
    const d = t.data as Float32Array | Float64Array;
    for (let i = 0; i < d.length; i++) {
      const v = d[i]!;
      if (v - v !== 0) { if (v !== v) nan++; else infinite++; } // v - v is NaN exactly for NaN and ±Infinity
    }
  } else if (t.dtype === 'f16' || t.dtype === 'bf16') {
    // the raw bit patterns: exponent all ones = infinity (mantissa 0) or NaN
    const [exp, man] = t.dtype === 'f16' ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
    const d = t.data as Uint16Array;
    for (let i = 0; i < d.length; i++) {
      const h = d[i]!;
      if ((h & exp) === exp) { if (h & man) nan++; else infinite++; }
    }
  }
  return { nan, infinite };
}

/**
 * Refuses tensors holding NaN or infinite values, naming the first such tensor with its counts
 * (e.g. `conv1.weight holds 12 NaN values`) and how many others do. `where`: the file, put in
 * front of the message. A NaN weight otherwise loads silently and can even evaluate to a finite
 * accuracy (a ReLU maps NaN to 0 on some GPUs).
 */
export function checkFiniteTensors(dict: Iterable<[string, HostTensor]>, where?: string): void {
  const bad: Array<[string, { nan: number; infinite: number }]> = [];
  for (const [name, t] of dict) {
    const c = countNonFinite(t);
    if (c.nan || c.infinite) bad.push([name, c]);
  }
  if (bad.length === 0) return;
  const [name, c] = bad[0]!;
  const counts = [c.nan && `${c.nan} NaN`, c.infinite && `${c.infinite} infinite`].filter(Boolean).join(' and ');
  const others = bad.slice(1).map(([n]) => n);
  const more = others.length
    ? `; ${others.length} more tensor(s) too: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', ...' : ''}`
    : '';
  throw new Error(`${where ? `${where}: ` : ''}${name} holds ${counts} value${c.nan + c.infinite === 1 ? '' : 's'}${more}; refusing to load non-finite weights`);
}
