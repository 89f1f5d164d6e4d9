import { type DeprecatedEnv, type OptionTable, envOf, ignoredEnv, type ValueType, flagOf, helpText } from '@asrctl/server';
import { InvalidArgumentError, Option } from 'commander';

/** A repeatable flag's values, in order. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The table's flags as commander options. Their camel-cased names are the table's keys, so the
 * parsed flags are the table's input. The environment is read by the table itself (with its old
 * names), so help names the variable and the default without commander applying either.
 */
export function commanderOptions(
  table: OptionTable,
  keys: readonly string[] = Object.keys(table.options),
  /** The command starts from what runs (deploy, restart): an omitted flag keeps that, not the default. */
  options: { asDeployed?: boolean } = {},
): Option[] {
  return keys
    .map((key) => [key, table.options[key]!] as const)
    .filter(([, spec]) => !spec.envOnly)
    .map(([key, spec]) => {
      const help = options.asDeployed
        ? helpText(table, key).replace(/; default ([^)]*)\)$/u, '; default: as deployed, else $1)')
        : helpText(table, key);
      const option = new Option(`--${flagOf(key)} <${spec.arg.toLowerCase()}>`, help);
      if (spec.type?.choices) option.choices(spec.type.choices);
      return spec.multiple ? option.argParser(collect) : option;
    });
}

/**
 * A commander parser for a flag or argument of one of the shared value types: bad text is a usage
 * error (exit 2) naming the text and what is expected, e.g. `replicas "abc": expected a whole
 * number from 1 to 63`.
 */
export function parsedAs<T>(type: ValueType<T>, label: string): (text: string) => T {
  return (text) => {
    const problems: string[] = [];
    const value = type.parse(text, label, problems);
    if (value === undefined) throw new InvalidArgumentError(problems.join('; '));
    return value;
  };
}

/**
 * Says on stderr what reading the table's variables found: one line per old name read, per name
 * ignored beside the one that wins, and per near-miss of a setting the command does not read.
 * Returns a near-miss of a setting it reads as a problem, not a warning: ASRCTL_PROJEKT would have
 * the command act on the default project.
 */
export function checkEnv(
  table: OptionTable,
  env: NodeJS.ProcessEnv,
  deprecated: readonly DeprecatedEnv[],
  reads: readonly string[] = Object.keys(table.options),
): string[] {
  const say = (line: string): void => void process.stderr.write(`asrctl: ${line}\n`);
  for (const { name, use } of deprecated) say(`${name} is deprecated, set ${use} instead`);
  const read = new Set(reads.map((key) => envOf(table, key)));
  const problems: string[] = [];
  for (const { name, use, why } of ignoredEnv(table, env))
    if (why === 'superseded') say(`${name} is ignored: ${use} is set`);
    else if (read.has(use)) problems.push(`${name} is not a setting: did you mean ${use}? (rename or unset it)`);
    else say(`${name} is not a setting and is ignored: did you mean ${use}?`);
  return problems;
}
