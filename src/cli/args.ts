/**
 * Command-line flags: a small typed layer over node:util's parseArgs, so that every flag
 * has a type, a default and a help line, and a bad value names the flag. A command's flags
 * come from its declared option table (src/util/options.ts): `parseOptions` gives typed
 * option values, `optionsHelp` the help text.
 */
import { parseArgs } from 'node:util';
import { checkOption, flagText, rangeText, type OptionSpec, type OptionTable, type OptionValues } from '../util/options.js';

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'numbers';

export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: string | number | boolean | number[];
  /** Allowed values for a string flag. */
  choices?: readonly string[];
  /** Allowed range of a number flag, as the help shows it (`>= 1`, `[0, 1)`). */
  range?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | number | boolean | number[] | undefined>;

/** A flag name as its camelCased option key (`--base-width` → `baseWidth`). */
export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function convert(flag: string, spec: FlagSpec, raw: string | boolean): string | number | boolean | number[] {
  if (spec.type === 'boolean') return raw as boolean;
  const text = String(raw);
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(text)) throw new Error(`--${flag}: '${text}' is not one of ${spec.choices.join(', ')}`);
    return text;
  }
  if (spec.type === 'numbers') {
    const values = text.split(',').filter((s) => s.trim() !== '').map(Number);
    if (values.some((v) => !Number.isFinite(v))) throw new Error(`--${flag}: '${text}' is not a comma-separated list of numbers`);
    return values;
  }
  const value = Number(text);
  if (!Number.isFinite(value) || (spec.type === 'int' && !Number.isInteger(value))) {
    throw new Error(`--${flag}: '${text}' is not ${spec.type === 'int' ? 'an integer' : 'a number'}`);
  }
  return value;
}

/** Parses argv against the specs; returns camelCased values with defaults filled in. */
export function parseFlags(argv: string[], specs: FlagSpecs): FlagValues {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [flag, spec] of Object.entries(specs)) options[flag] = { type: spec.type === 'boolean' ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new Error(`${(err as Error).message.replace(/^TypeError.*?: /, '')} (see --help)`);
  }
  const out: FlagValues = {};
  for (const [flag, spec] of Object.entries(specs)) {
    const raw = parsed.values[flag] as string | boolean | undefined;
    out[camel(flag)] = raw === undefined ? spec.default : convert(flag, spec, raw);
  }
  return out;
}

/** The help text of a command. */
export function helpText(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`Usage: multigrain ${command} [flags]`, '', summary, '', 'Flags:'];
  for (const [flag, spec] of Object.entries(specs)) {
    const value = spec.type === 'boolean' ? '' : ` <${spec.choices ? spec.choices.join('|') : spec.type}>`;
    const def = spec.default === undefined || spec.default === false ? '' : ` (default ${Array.isArray(spec.default) ? spec.default.join(',') : spec.default})`;
    const range = spec.range ? `, range ${spec.range}` : '';
    const name = `  --${flag}${value}`;
    // A long name (many choices) gets its help on the next line, aligned with the others.
    lines.push(name.length < 40 ? name.padEnd(40) + spec.help + def + range : `${name}\n${' '.repeat(40)}${spec.help}${def}${range}`);
  }
  return lines.join('\n');
}

/** The flags that have a value (given or defaulted), for recording a run's settings. */
export function definedFlags(values: FlagValues): FlagValues {
  return Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== undefined && k !== 'help'));
}

/** Which options of a table take their declared default when their flag is absent (default: all). */
export type FillDefaults = (key: string, spec: OptionSpec) => boolean;

const HELP_FLAG: FlagSpec = { type: 'boolean', help: 'show this help' };

/**
 * The flags of an option table (flag name → spec, plus --help). A flag shows and takes its
 * option's default where `fill` says so; booleans never have one (absent = not given).
 */
export function optionFlags(table: OptionTable, fill: FillDefaults = () => true): FlagSpecs {
  const specs: FlagSpecs = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.flag === undefined) continue;
    const flag: FlagSpec = { type: spec.type, help: spec.help };
    if (spec.choices) flag.choices = spec.choices;
    const range = rangeText(spec).replace(/^in /, '');
    if (range) flag.range = range;
    if (spec.type !== 'boolean' && spec.default !== undefined && fill(key, spec)) {
      flag.default = spec.toFlag ? flagText(spec, spec.default) : Array.isArray(spec.default) ? [...spec.default] : (spec.default as string | number);
    }
    specs[spec.flag] = flag;
  }
  specs.help = HELP_FLAG;
  return specs;
}

/**
 * Parses argv against an option table: the options whose flag was given (converted to the
 * option's type, checked against its declared range) and the defaults `fill` selects; null for --help.
 */
export function parseOptions<T extends OptionTable>(argv: string[], table: T, fill: FillDefaults = () => true): Partial<OptionValues<T>> | null {
  const flags = parseFlags(argv, optionFlags(table, () => false));
  if (flags.help) return null;
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    if (spec.flag === undefined) continue;
    const raw = flags[camel(spec.flag)];
    if (raw === undefined || (spec.type === 'boolean' && raw === false)) {
      if (spec.type !== 'boolean' && spec.default !== undefined && fill(key, spec)) out[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      continue;
    }
    if (spec.negated) out[key] = false;
    else out[key] = spec.fromFlag ? (spec.fromFlag as (v: unknown, flag: string) => unknown)(raw, spec.flag) : raw;
    // the declared range, checked here so that a bad flag stops the command before any work
    checkOption(key, spec, out[key]);
  }
  return out as Partial<OptionValues<T>>;
}

/** The help text of a command with a declared option table; `note` may add to an option's help line. */
export function optionsHelp(
  command: string, summary: string, table: OptionTable, fill: FillDefaults = () => true, note: (key: string, spec: OptionSpec) => string = () => '',
): string {
  const specs = optionFlags(table, fill);
  for (const [key, spec] of Object.entries(table)) {
    if (spec.flag !== undefined) specs[spec.flag] = { ...specs[spec.flag]!, help: spec.help + note(key, spec) };
  }
  return helpText(command, summary, specs);
}

/**
 * Splits a command line into its flags and its positional arguments (e.g. the images of
 * `classify`): an argument is positional unless it is a flag or the value of a flag that takes
 * one (`--top 5`; `--top=5` is one argument).
 */
export function splitPositionals(argv: readonly string[], table: OptionTable): { flags: string[]; positionals: string[] } {
  const specs = optionFlags(table);
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    const spec = specs[arg.replace(/^--?/, '')];
    if (spec && spec.type !== 'boolean' && !arg.includes('=') && i + 1 < argv.length) flags.push(argv[++i]!);
  }
  return { flags, positionals };
}
