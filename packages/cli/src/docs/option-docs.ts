import { readdirSync } from 'node:fs';
import { type OptionSpec, type OptionTable, SERVER_OPTIONS, envOf, flagOf } from '@asrctl/server';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';

/**
 * The docs' option tables, generated between `<!-- options:PROGRAM:start -->` and
 * `<!-- options:PROGRAM:end -->` (`pnpm docs:options`), and every default the prose states,
 * generated between `<!--default:PROGRAM:FLAG-->` and `<!--/default-->`, so neither can drift
 * from the tables the programs parse.
 */
/** Which document (from the repository root) shows which table. */
export const DOCUMENTED_TABLES: ReadonlyArray<{ file: string; table: OptionTable }> = [
  { file: 'README.md', table: SERVER_OPTIONS },
  { file: 'docs/deploy.md', table: DEPLOY_OPTIONS },
];

/** The documents (from the repository root `root`) whose marked defaults are generated: README.md and docs/*.md. */
export function documentFiles(root: URL): string[] {
  return [
    'README.md',
    ...readdirSync(new URL('docs/', root))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
}

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

/** An option's default as prose gives it: `64 KiB`, `10 s`, `512`, or the table's shown default. */
export function proseDefault(table: OptionTable, key: string): string {
  const spec = table.options[key]!;
  if (spec.shownDefault !== undefined) return spec.shownDefault;
  if (spec.default === undefined) throw new Error(`--${flagOf(key)} (${table.program}) has no default to show`);
  if (typeof spec.default !== 'number') return String(spec.default);
  if (spec.arg === 'S') return `${spec.default} s`;
  if (spec.arg === 'MS') return `${spec.default} ms`;
  if (/bytes/u.test(spec.label ?? flagOf(key))) return binarySize(spec.default);
  return String(spec.default);
}

const BINARY_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];
function binarySize(bytes: number): string {
  const [unit, size] = BINARY_UNITS.find(([, s]) => bytes % s === 0) ?? ['bytes', 1];
  return `${bytes / size} ${unit}`;
}

/** `<!--default:server:max-connections-->512<!--/default-->` on one line: the program, the flag and the text it holds. */
export const DEFAULT_MARKER = /<!--default:([a-z]+):([a-z][a-z0-9-]*)-->(.*?)<!--\/default-->/gu;

export interface StatedDefault {
  /** `FILE:LINE: <!--default:PROGRAM:FLAG-->`. */
  marker: string;
  /** What the document says. */
  stated: string;
  /** What the option table gives. */
  actual: string;
}

/**
 * Every default marked in a document (`file` for errors), with what the document says and what
 * the table gives; an error for a marker that is malformed, unclosed, or names no option.
 */
export function statedDefaults(doc: string, file: string): StatedDefault[] {
  const stated = [...doc.matchAll(DEFAULT_MARKER)].map(({ 1: program, 2: flag, 3: text, index }) => ({
    marker: `${file}:${doc.slice(0, index).split('\n').length}: <!--default:${program}:${flag}-->`,
    stated: text!,
    actual: tableDefault(program!, flag!, file),
  }));
  const opened = doc.split('<!--default').length - 1;
  const closed = doc.split('<!--/default-->').length - 1;
  if (opened !== stated.length || closed !== stated.length)
    throw new Error(
      `${file}: ${opened} <!--default:PROGRAM:FLAG--> and ${closed} <!--/default--> but ${stated.length} well-formed pairs; write <!--default:server:max-connections-->512<!--/default--> on one line`,
    );
  return stated;
}

/** The document with every marked default rewritten from the option tables. */
export function withOptionDefaults(doc: string, file: string): string {
  statedDefaults(doc, file);
  return doc.replace(
    DEFAULT_MARKER,
    (_, program: string, flag: string) => `<!--default:${program}:${flag}-->${tableDefault(program, flag, file)}<!--/default-->`,
  );
}

function tableDefault(program: string, flag: string, file: string): string {
  const marker = `${file}: <!--default:${program}:${flag}-->`;
  const table = DOCUMENTED_TABLES.find((d) => d.table.program === program)?.table;
  const programs = DOCUMENTED_TABLES.map((d) => d.table.program).join(', ');
  if (!table) throw new Error(`${marker}: no option table "${program}" (there are: ${programs})`);
  const key = Object.keys(table.options).find((k) => flagOf(k) === flag);
  if (!key) throw new Error(`${marker}: the ${program} table has no --${flag}`);
  return proseDefault(table, key);
}
