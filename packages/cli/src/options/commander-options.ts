import { type OptionTable, flagOf, helpText } from '@asrctl/server';
import { Option } from 'commander';

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/**
 * The table's flags as commander options. Their camel-cased names are the table's keys, so the
 * parsed flags are the table's input. The environment is read by the table itself (with its old
 * names), so help names the variable and the default without commander applying either.
 */
export function commanderOptions(table: OptionTable): Option[] {
  return Object.entries(table.options)
    .filter(([, spec]) => !spec.envOnly)
    .map(([key, spec]) => {
      const option = new Option(`--${flagOf(key)} <${spec.arg.toLowerCase()}>`, helpText(table, key));
      return spec.multiple ? option.argParser(collect) : option;
    });
}
