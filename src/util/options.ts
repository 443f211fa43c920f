/**
 * Declared options: one typed table per program (e.g. TRAIN_OPTIONS) gives each option its
 * command-line flag, value type, default and help line. The options type is derived from the
 * table (`OptionValues`), the defaults are computed from it (`defaultsOf`), and the CLI builds
 * its parser and `--help` from it (src/cli/args.ts), so a flag is written down once.
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
