/**
 * Declared options: one typed table per program (e.g. TRAIN_OPTIONS) gives each option its
 * command-line flag, value type, default and help line. The options type is derived from the
 * table (`OptionValues`), the defaults are computed from it (`defaultsOf`), and the CLI builds
 * its parser and `--help` from it (src/cli/args.ts), so a flag is written down once. A number
 * option also declares its allowed range (`min`, `max`), which both the CLI parser and the
 * library's validation enforce (`checkOption`, `validateOptions`), with one message.
 * Pure TypeScript: no Node imports, usable from every layer.
 */

export type OptionType = 'string' | 'number' | 'int' | 'boolean' | 'numbers';

export interface OptionSpec {
  /** Command-line name without the dashes; omitted: a library-only option (no flag). */
  readonly flag?: string;
  /** Value type on the command line (and of the option, unless `fromFlag` converts it). */
  readonly type: OptionType;
  readonly help: string;
  /** Default value; an option without one is optional (`?`) in the options type. */
  readonly default?: string | number | boolean | readonly number[];
  /** Allowed values of a string flag. */
  readonly choices?: readonly string[];
  /** A boolean flag that sets the option to false when given (`--no-validate-first`). */
  readonly negated?: boolean;
  /** The flag's parsed value as the option's (e.g. 'resnet50' → 50); throws naming `--flag` on a bad value. */
  readonly fromFlag?: (value: never, flag: string) => unknown;
  /** The option's value as the flag is written (defaults in the help). */
  readonly toFlag?: (value: never) => string;
  /** Smallest allowed value of a number option (of each value of a list); allowed itself unless `exclusiveMin`. */
  readonly min?: number;
  readonly exclusiveMin?: boolean;
  /** Largest allowed value; allowed itself unless `exclusiveMax`. */
  readonly max?: number;
  readonly exclusiveMax?: boolean;
  /** Why the range, added to a refusal (e.g. 'ResNet downsamples by 32'). */
  readonly rangeNote?: string;
  /** A check beyond the range (e.g. a list's length and order); throws a message naming `name`. */
  readonly check?: (value: never, name: string) => void;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The value type of one declared option. */
export type OptionValue<S extends OptionSpec> = S extends { fromFlag: (...args: never[]) => infer R }
  ? R
  : S['type'] extends 'boolean'
    ? boolean
    : S['type'] extends 'number' | 'int'
      ? number
      : S['type'] extends 'numbers'
        ? number[]
        : S extends { choices: readonly (infer C)[] }
          ? C
          : string;

type Simplify<T> = { -readonly [K in keyof T]: T[K] } & {};

/** The options object a table declares: options with a default are required, the others optional. */
export type OptionValues<T extends OptionTable> = Simplify<
  { -readonly [K in keyof T as T[K] extends { default: unknown } ? K : never]: OptionValue<T[K]> } & {
    -readonly [K in keyof T as T[K] extends { default: unknown } ? never : K]?: OptionValue<T[K]>;
  }
>;

/** The defaults of a table (options without a default are left out; arrays are fresh copies). */
export function defaultsOf<T extends OptionTable>(table: T): OptionValues<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.default !== undefined) out[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out as OptionValues<T>;
}

/** A value as its flag writes it: `toFlag`, else lists comma-separated. */
export function flagText(spec: OptionSpec, value: unknown): string {
  if (spec.toFlag) return (spec.toFlag as (v: unknown) => string)(value);
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** How an option is named in messages: its flag (`--batch-size`), else its key. */
export function optionName(key: string, spec: OptionSpec): string {
  return spec.flag !== undefined ? `--${spec.flag}` : key;
}

/** The declared range as text (`> 0`, `>= 1`, `in [0, 1)`), or '' when the option has none. */
export function rangeText(spec: OptionSpec): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `in ${spec.exclusiveMin ? '(' : '['}${min}, ${max}${spec.exclusiveMax ? ')' : ']'}`;
  if (min !== undefined) return `${spec.exclusiveMin ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${spec.exclusiveMax ? '<' : '<='} ${max}`;
  return '';
}

function inRange(spec: OptionSpec, v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (spec.min !== undefined && (spec.exclusiveMin ? v <= spec.min : v < spec.min)) return false;
  if (spec.max !== undefined && (spec.exclusiveMax ? v >= spec.max : v > spec.max)) return false;
  return true;
}

/**
 * Checks one option's value against its declaration: a finite number (an integer for 'int')
 * within the declared range, each value of a list likewise, a declared choice, then the
 * option's own `check`. Throws naming the flag, the value and what is allowed, e.g.
 * `--momentum must be a number in [0, 1), got 5`. An absent value (undefined) passes.
 */
export function checkOption(key: string, spec: OptionSpec, value: unknown): void {
  if (value === undefined) return;
  const name = optionName(key, spec);
  const range = rangeText(spec);
  const note = spec.rangeNote ? ` (${spec.rangeNote})` : '';
  if (spec.type === 'number' || spec.type === 'int') {
    const kind = spec.type === 'int' ? 'an integer' : 'a finite number';
    const ok = typeof value === 'number' && inRange(spec, value) && (spec.type === 'number' || Number.isInteger(value));
    if (!ok) throw new Error(`${name} must be ${kind}${range ? ' ' + range : ''}${note}, got ${String(value)}`);
  } else if (spec.type === 'numbers') {
    const ok = Array.isArray(value) && value.every((v) => typeof v === 'number' && inRange(spec, v));
    if (!ok) throw new Error(`${name} must be finite numbers${range ? ' ' + range : ''}${note}, got ${Array.isArray(value) ? value.join(',') : String(value)}`);
  } else if (spec.type === 'string' && spec.choices && !spec.fromFlag && !spec.choices.includes(value as string)) {
    throw new Error(`${name}: '${String(value)}' is not one of ${spec.choices.join(', ')}`);
  }
  if (spec.check) (spec.check as (v: unknown, n: string) => void)(value, name);
}

/** Checks every option of `values` that the table declares (see `checkOption`); the first bad one throws. */
export function validateOptions(table: OptionTable, values: object): void {
  for (const [key, spec] of Object.entries(table)) checkOption(key, spec, (values as Record<string, unknown>)[key]);
}
