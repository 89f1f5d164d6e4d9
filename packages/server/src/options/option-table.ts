import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';
import type { ValueType } from './value-types.js';

/**
 * One option, declared once: its flag is the key in kebab-case, its environment variable the
 * table's prefix and the key in upper snake case (`idleTimeout`: `--idle-timeout`,
 * `ASR_IDLE_TIMEOUT`). Flags, environment, `--help` and the docs' tables all derive from it.
 */
export interface OptionSpec {
  /** The value's placeholder in help: `--port N`. */
  arg: string;
  help: string;
  /** The docs table's longer meaning; `help` when absent. */
  doc?: string;
  /** The option in problems: `idle timeout (seconds) "x": ...`; the flag's words when absent. */
  label?: string;
  /** Text when absent. */
  type?: ValueType<unknown>;
  default?: unknown;
  /** The default as help and docs show it, when it is not the value itself (`off`, `everyone`). */
  shownDefault?: string;
  /** A repeatable flag; in the environment, a comma-separated list. */
  multiple?: boolean;
  /** The variable, when it cannot follow the naming rule (a pattern, an established name). */
  env?: string;
  /** Earlier names of the variable: still read, with a deprecation warning. */
  oldEnv?: readonly string[];
  /** Other programs' names for the same setting (vosk-server's VOSK_*): read as they are, no warning. */
  aliasEnv?: readonly string[];
  /** Set only through the environment (secrets stay out of process listings). */
  envOnly?: boolean;
  /** Given only together with that option (both or neither), else the problem. */
  pairedWith?: { option: string; problem: string };
  /** Read by the program itself rather than from the environment table (e.g. ASR_MODEL_<LANG>). */
  customEnv?: boolean;
}

export interface OptionTable<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** The program, for docs markers and messages. */
  program: string;
  envPrefix: string;
  options: O;
}

export function defineOptions<const O extends Record<string, OptionSpec>>(table: OptionTable<O>): OptionTable<O> {
  return table;
}

/** Some of a table's options, for a command that takes only those. */
export function pickOptions<O extends Record<string, OptionSpec>, K extends keyof O & string>(
  table: OptionTable<O>,
  keys: readonly K[],
): OptionTable<Pick<O, K>> {
  return { ...table, options: Object.fromEntries(keys.map((k) => [k, table.options[k]])) as Pick<O, K> };
}

/** What a user typed, by option key: text, or a list of texts for a repeatable option. */
export type OptionInput<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K] extends { multiple: true } ? string[] : string;
};

type ValueOf<S> = S extends { type: ValueType<infer T> } ? T : string;
/** The parsed values: lists for repeatable options, defaults filled in, undefined where neither. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K] extends { multiple: true }
    ? Array<ValueOf<O[K]>>
    : O[K] extends { default: unknown }
      ? ValueOf<O[K]>
      : ValueOf<O[K]> | undefined;
};

export interface DeprecatedEnv {
  name: string;
  use: string;
}

export const flagOf = (key: string): string => key.replace(/[A-Z]/gu, (c) => `-${c.toLowerCase()}`);
const labelOf = (key: string, spec: OptionSpec): string => spec.label ?? flagOf(key).replaceAll('-', ' ');

export function envOf(table: OptionTable, key: string): string {
  return table.options[key]!.env ?? `${table.envPrefix}${flagOf(key).replaceAll('-', '_').toUpperCase()}`;
}

/**
 * Every variable the table reads; a deprecated name is used only when the current one is unset.
 * With `problems`, a value its type refuses is left out and told there, naming the variable.
 */
export function inputFromEnv<O extends Record<string, OptionSpec>>(
  table: OptionTable<O>,
  env: NodeJS.ProcessEnv,
  deprecated: DeprecatedEnv[] = [],
  problems?: string[],
): OptionInput<O> {
  const input: Record<string, string | string[]> = {};
  for (const [key, spec] of Object.entries(table.options)) {
    if (spec.customEnv) continue;
    const from = envNamesOf(table, key).find((name) => env[name]);
    if (from === undefined) continue;
    if (spec.oldEnv?.includes(from)) deprecated.push({ name: from, use: envOf(table, key) });
    const given = spec.multiple ? splitList(env[from]!) : env[from]!;
    if (problems && !valuesParse(table, key, given, problems, from)) continue;
    input[key] = given;
  }
  return input as OptionInput<O>;
}

/** Every variable an option is read from, in the order that wins: its name, its old names, other programs' names for it. */
export function envNamesOf(table: OptionTable, key: string): string[] {
  const spec = table.options[key]!;
  return [envOf(table, key), ...(spec.oldEnv ?? []), ...(spec.aliasEnv ?? [])];
}

/** A variable set for the program that it does not read, and the one it reads instead. */
export interface IgnoredEnv {
  name: string;
  use: string;
  /** `superseded`: another name of the setting is set too and wins; `misspelt`: it nearly names a variable. */
  why: 'superseded' | 'misspelt';
}

/**
 * Variables the table ignores though they were surely meant for it: an old or other name set
 * beside the one that wins, and near-misses of a name with the table's prefix (a typo such as
 * ASRCTL_PROJEKT, or ASR_MODLE_EN for the pattern ASR_MODEL_<LANG>). A variable further from every
 * name is someone else's.
 */
export function ignoredEnv(table: OptionTable, env: NodeJS.ProcessEnv): IgnoredEnv[] {
  const specs = Object.entries(table.options);
  const superseded = specs.flatMap(([key]) => {
    const set = envNamesOf(table, key).filter((name) => env[name]);
    return set.slice(1).map((name) => ({ name, use: set[0]!, why: 'superseded' as const }));
  });
  const names = specs.filter(([, spec]) => !spec.customEnv).map(([key]) => envOf(table, key));
  const read = new Set(specs.flatMap(([key]) => envNamesOf(table, key)));
  // A pattern such as ASR_MODEL_<LANG>: its stem; the placeholder stands for a code of 2 or 3 letters.
  const stems = specs.filter(([, spec]) => spec.customEnv).map(([key]) => envOf(table, key).replace(/<[A-Z]+>$/u, ''));
  const misspelt = Object.keys(env)
    .filter(
      (name) =>
        name.startsWith(table.envPrefix) &&
        !read.has(name) &&
        !stems.some((stem) => /^[A-Z]{2,3}$/u.test(name.slice(stem.length)) && name.startsWith(stem)),
    )
    .map((name) => {
      const code = name.slice(name.lastIndexOf('_') + 1).toUpperCase();
      const candidates = [...names, ...(/^[A-Z]{2,3}$/u.test(code) ? stems.map((stem) => `${stem}${code}`) : [])];
      return { name, use: closest(name, candidates), why: 'misspelt' as const };
    })
    .filter(({ name, use }) => distance(name, use) <= 2);
  return [...superseded, ...misspelt];
}

/** Whether every value given for an option parses; each refusal is a problem beginning with `where` (a variable, a file). */
export function valuesParse(table: OptionTable, key: string, given: string | string[], problems: string[], where: string): boolean {
  const refused: string[] = [];
  for (const text of [given].flat()) parseValue(table, key, text, refused);
  problems.push(...refused.map((problem) => `${where}: ${problem}`));
  return refused.length === 0;
}

function parseValue(table: OptionTable, key: string, text: string, problems: string[]): unknown {
  const spec = table.options[key]!;
  return spec.type ? spec.type.parse(text, labelOf(key, spec), problems) : text;
}

/** A comma-separated list's items, trimmed, without empty ones. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Settings as `NAME=value` environment entries (a container's environment), lists comma-separated. */
export function envAssignments<O extends Record<string, OptionSpec>>(table: OptionTable<O>, input: OptionInput<O>): string[] {
  return Object.entries(input)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${envOf(table, key)}=${[value as string | string[]].flat().join(',')}`);
}

/** The table's flags in `argv` (node:util parseArgs; every flag takes a value) by option key, and `-h`/`--help`. */
export function inputFromArgs<O extends Record<string, OptionSpec>>(
  table: OptionTable<O>,
  argv: string[],
): OptionInput<O> & { help?: true } {
  const flags = Object.entries(table.options)
    .filter(([, spec]) => !spec.envOnly)
    .map(([key, spec]) => [key, flagOf(key), { type: 'string' as const, multiple: spec.multiple ?? false }] as const);
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [, flag, option] of flags) options[flag] = option;
  const { values } = parseArgs({ args: argv, strict: true, options });
  const input: Record<string, unknown> = values.help === true ? { help: true } : {};
  for (const [key, flag] of flags) if (values[flag] !== undefined) input[key] = values[flag];
  return input as OptionInput<O> & { help?: true };
}

/**
 * Parses every option: later inputs override earlier ones, empty text counts as unset, defaults
 * fill the rest. Problems are added in table order; a bad value falls back to its default.
 */
export function resolveOptions<O extends Record<string, OptionSpec>>(
  table: OptionTable<O>,
  inputs: Array<OptionInput<O>>,
  problems: string[],
): OptionValues<O> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table.options)) {
    const given = givenValue(inputs, key);
    if (spec.pairedWith && (given === undefined) !== (givenValue(inputs, spec.pairedWith.option) === undefined))
      problems.push(spec.pairedWith.problem);
    const parse = (t: string): unknown => parseValue(table, key, t, problems);
    if (spec.multiple) {
      values[key] = (given === undefined ? ((spec.default as unknown[] | undefined) ?? []) : [given].flat().map(parse)).filter(
        (v) => v !== undefined,
      );
    } else {
      values[key] = (given === undefined ? undefined : parse(String(given))) ?? spec.default;
    }
  }
  return values as OptionValues<O>;
}

/** The last input's value of an option; empty text counts as unset. */
export function givenValue(inputs: ReadonlyArray<Record<string, unknown>>, key: string): string | string[] | undefined {
  return inputs.map((i) => i[key] as string | string[] | undefined).findLast((v) => v !== undefined && v !== '');
}

/** Help for one flag: what it does, then whether it repeats, its variable and its default. */
export function helpText(table: OptionTable, key: string): string {
  const spec = table.options[key]!;
  const shown = spec.shownDefault ?? (spec.default === undefined ? undefined : String(spec.default));
  const variable = spec.multiple && !spec.customEnv ? `${envOf(table, key)}=a,b` : envOf(table, key);
  return `${spec.help} (${[spec.multiple && 'repeatable', variable, shown !== undefined && `default ${shown}`].filter(Boolean).join('; ')})`;
}

/** `--help` text: a line per flag. */
export function usageLines(table: OptionTable, extra: Array<readonly [string, string]> = []): string {
  const rows: Array<readonly [string, string]> = Object.entries(table.options)
    .filter(([, spec]) => !spec.envOnly)
    .map(([key, spec]) => [`--${flagOf(key)} ${spec.arg}`, helpText(table, key)]);
  rows.push(...extra);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}\n`).join('');
}
