import { type OptionSpec, type OptionTable, SERVER_OPTIONS, envOf, flagOf } from '@asrctl/server';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';

/**
 * The docs' option tables, generated between `<!-- options:PROGRAM:start -->` and
 * `<!-- options:PROGRAM:end -->` (`pnpm docs:options`), so they cannot drift from the tables
 * the programs parse.
 */
/** Which document (from the repository root) shows which table. */
export const DOCUMENTED_TABLES: ReadonlyArray<{ file: string; table: OptionTable }> = [
  { file: 'README.md', table: SERVER_OPTIONS },
  { file: 'docs/deploy.md', table: DEPLOY_OPTIONS },
];

const HEADER = ['flag', 'environment', 'default', 'meaning'];

const code = (text: string): string => `\`${text}\``;
const cell = (text: string): string => text.replaceAll('|', '\\|');

function row(table: OptionTable, key: string, spec: OptionSpec): string[] {
  const variable = envOf(table, key);
  const env = [
    spec.multiple && !spec.customEnv ? code(`${variable}=a,b`) : code(variable),
    ...(spec.oldEnv ?? []).map((old) => `(was ${code(old)})`),
    ...(spec.aliasEnv ?? []).map((alias) => `or ${code(alias)}`),
  ].join(' ');
  const shown = spec.shownDefault ?? (spec.default === undefined ? 'none' : code(String(spec.default)));
  return [
    spec.envOnly ? '(environment only)' : `${code(`--${flagOf(key)} ${spec.arg}`)}${spec.multiple ? ' (repeatable)' : ''}`,
    env,
    shown,
    spec.doc ?? spec.help,
  ];
}

export function optionsMarkdown(table: OptionTable): string {
  const lines = [HEADER, HEADER.map(() => '---'), ...Object.entries(table.options).map(([key, spec]) => row(table, key, spec))];
  return lines.map((cells) => `| ${cells.map(cell).join(' | ')} |`).join('\n');
}

export const markers = (program: string): [string, string] => [`<!-- options:${program}:start -->`, `<!-- options:${program}:end -->`];

/** The document with the program's table replaced; an error if the document has no markers for it. */
export function withOptionTable(doc: string, table: OptionTable): string {
  const [start, end] = markers(table.program);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${start} ... ${end} markers`);
  return `${doc.slice(0, from + start.length)}\n\n${optionsMarkdown(table)}\n\n${doc.slice(to)}`;
}
