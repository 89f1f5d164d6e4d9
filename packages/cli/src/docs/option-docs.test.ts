import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { envOf, flagOf, ignoredEnv } from '@asrctl/server';
import { describe, expect, it } from 'vitest';
import { K8S_SETTINGS } from '../k8s/k8s-manifests.js';
import { DEFAULT_MARKER, DOCUMENTED_TABLES, documentFiles, markers, statedDefaults, withOptionTable } from './option-docs.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ASRCTL = `${ROOT}packages/cli/dist/main.cjs`;
const SERVER = `${ROOT}packages/server/dist/main.cjs`;
const run = promisify(execFile);
const read = (file: string): string => readFileSync(`${ROOT}${file}`, 'utf8');
const DOCUMENTS = documentFiles(pathToFileURL(ROOT));

/** A document less what is generated: its option tables and its marked defaults. */
function prose(file: string): string {
  let doc = read(file).replace(DEFAULT_MARKER, '(generated)');
  for (const { table } of DOCUMENTED_TABLES) {
    const [start, end] = markers(table.program);
    if (doc.includes(start)) doc = doc.slice(0, doc.indexOf(start)) + doc.slice(doc.indexOf(end));
  }
  return doc;
}

/** The cells of the markdown table between a program's markers, whatever its alignment. */
function tableCells(doc: string, program: string): string[][] {
  const [start, end] = markers(program);
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) return [];
  return doc
    .slice(from + start.length, to)
    .split('\n')
    .filter((line) => line.trim().startsWith('|') && !/^\|[\s:|-]+\|$/u.test(line.trim()))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split(/(?<!\\)\|/u)
        .map((c) => c.trim()),
    );
}

const helps = new Map<string, Promise<string>>();
/** The built program's own --help (asrctl COMMAND..., or the image's server entry). */
function help(program: string, ...command: string[]): Promise<string> {
  const key = [program, ...command].join(' ');
  if (!helps.has(key))
    helps.set(
      key,
      run(process.execPath, [program, ...command, '--help']).then((r) => r.stdout),
    );
  return helps.get(key)!;
}
const flagsIn = (text: string): string[] => [...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/gu)].map((m) => m[0]);
const listed = (helpText: string, flag: string): boolean => new RegExp(`(^|[\\s,])${flag}(?=[\\s,=<]|$)`, 'mu').test(helpText);

/** Which programs read each documented table: all of its options, or only `keys`. */
const READERS: Record<string, Array<{ help: () => Promise<string>; keys?: readonly string[] }>> = {
  server: [{ help: () => help(SERVER) }, { help: () => help(ASRCTL, 'serve') }],
  deploy: [
    { help: () => help(ASRCTL, 'deploy') },
    { help: () => help(ASRCTL, 'restart') },
    { help: () => help(ASRCTL, 'render', 'k8s'), keys: K8S_SETTINGS },
  ],
};

describe('the docs option tables', () => {
  it.each(DOCUMENTED_TABLES.map((d) => [d.file, d.table.program, d] as const))(
    '%s shows the %s options exactly (pnpm docs:options)',
    (file, program, { table }) => {
      const doc = read(file);
      const shown = tableCells(doc, program);
      expect(shown.length, `${file} has a ${program} table between its markers`).toBeGreaterThan(1);
      expect(shown).toEqual(tableCells(withOptionTable(doc, table), program));
    },
  );

  it.each(DOCUMENTED_TABLES.map((d) => [d.file, d.table.program] as const))(
    'every flag of %s (%s), and its variable, is in the help of the built programs',
    async (file, program) => {
      const rows = tableCells(read(file), program)
        .slice(1)
        .filter((cells) => cells[0]!.startsWith('`--'));
      expect(rows.length).toBeGreaterThan(10);
      for (const reader of READERS[program]!) {
        const text = await reader.help();
        const takes = (flag: string): boolean => !reader.keys || reader.keys.some((key) => `--${flagOf(key)}` === flag);
        const missing = rows.flatMap(([flagCell = '', envCell = '']) => {
          const flag = flagsIn(flagCell)[0]!;
          // A flag the command does not take is not offered (prose may still name it).
          if (!takes(flag)) return new RegExp(`^ +${flag}[ <]`, 'mu').test(text) ? [`${flag} (not taken)`] : [];
          const variable = /^`([A-Z][A-Z0-9_<>]+)/u.exec(envCell)?.[1] ?? '(none)';
          return [...(listed(text, flag) ? [] : [flag]), ...(text.includes(variable) ? [] : [variable])];
        });
        expect(missing).toEqual([]);
      }
    },
  );
});

describe('the docs', () => {
  it('name only flags that the command they are given to accepts', async () => {
    const commands =
      flagsIn(await help(ASRCTL)).length >= 0 ? (await help(ASRCTL)).match(/^ {2}([a-z][a-z-]*)/gmu)!.map((c) => c.trim()) : [];
    const unknown: string[] = [];
    let checked = 0;
    for (const file of DOCUMENTS) {
      const text = read(file).replace(/\\\n\s*/gu, ' ');
      for (const m of text.matchAll(/asrctl ([a-z][a-z0-9-]*)(?: ([a-z][a-z0-9-]*))?([^`|\n#]*)/gu)) {
        const [, first, second = '', rest = ''] = m;
        if (!commands.includes(first!)) continue;
        const sub = second && (await help(ASRCTL, first!)).match(new RegExp(`^ {2}${second}\\b`, 'mu')) ? [second] : [];
        const args = sub.length > 0 ? rest : `${second} ${rest}`;
        const commandHelp = await help(ASRCTL, first!, ...sub);
        for (const flag of flagsIn(args)) {
          checked++;
          if (!listed(commandHelp, flag)) unknown.push(`${file}: asrctl ${[first, ...sub].join(' ')} ${flag}`);
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });
});

describe('the defaults the docs state', () => {
  it("are the option tables' wherever marked <!--default:PROGRAM:FLAG--> (pnpm docs:options)", () => {
    const stated = DOCUMENTS.flatMap((file) => statedDefaults(read(file), file));
    expect(stated.filter((d) => d.stated !== d.actual)).toEqual([]);
    expect(stated.length).toBeGreaterThan(15);
  });

  it('are marked inside lines of prose: a line that starts with <!-- begins an HTML block, shown raw', () => {
    const lineStarts = DOCUMENTS.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, i) => (/^[\s>*+-]*<!--default:/u.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(lineStarts).toEqual([]);
  });

  it('are never written by hand beside an option, nor a value called the default by hand', () => {
    const names = DOCUMENTED_TABLES.flatMap(({ table }) =>
      Object.keys(table.options).flatMap((key) => [`--${flagOf(key)}`, envOf(table, key)]),
    );
    // `--flag` (20 s), (`--flag`, 512), `--flag` (default 64 KiB), `VARIABLE`, default `cn`
    const value = String.raw`default\s+[\w\x60]|\d[\d,.]*(?:\s*(?:[KMG]iB|bytes|ms|s))?\s*[);]`;
    const besideOption = new RegExp(String.raw`\x60(?:${names.join('|')})\x60[(,\s]+(?:${value})[^\n]*`, 'gu');
    // `host` (default), **blue-green** (the default)
    const calledDefault = /\S+ \((?:the )?default\)/gu;
    const handWritten = DOCUMENTS.flatMap((file) => {
      const doc = prose(file);
      return [...doc.matchAll(besideOption), ...doc.matchAll(calledDefault)].map((m) => `${file}: ${m[0]}`);
    });
    expect(handWritten).toEqual([]);
  });
});

describe('the variables the docs name', () => {
  it("are the option tables' current names, or named in the help of a command that reads them", async () => {
    const current = DOCUMENTED_TABLES.flatMap(({ table }) =>
      Object.keys(table.options).map((key) => {
        const name = envOf(table, key);
        // A pattern such as ASR_MODEL_<LANG> stands for ASR_MODEL_CN, ASR_MODEL_EN, ...
        return new RegExp(`^${name.replace(/<[A-Z]+>/gu, '(?:[A-Z]+|<[A-Z]+>)')}$`, 'u');
      }),
    );
    const commands = (await help(ASRCTL)).match(/^ {2}([a-z][a-z-]*)/gmu)!.map((c) => c.trim());
    const helpTexts = await Promise.all([help(ASRCTL), ...commands.map((c) => help(ASRCTL, c))]);
    const named = DOCUMENTS.flatMap((file) =>
      [...prose(file).matchAll(/\b(?:ASR|ASRCTL)_(?:[A-Z0-9_]*<[A-Z]+>|[A-Z0-9][A-Z0-9_]*)/gu)].map((m) => ({ file, name: m[0] })),
    );
    expect(named.length).toBeGreaterThan(10);
    // The docs' examples of a misspelt variable, which the programs must tell as such.
    const typos = ['ASR_IDLE_TIMOUT', 'ASR_MODLE_EN', 'ASRCTL_PROJEKT'];
    for (const name of typos)
      expect(
        DOCUMENTED_TABLES.flatMap(({ table }) => ignoredEnv(table, { [name]: 'x' })).map((i) => i.why),
        name,
      ).toEqual(['misspelt']);
    const unknown = named.filter(
      ({ name }) =>
        !typos.includes(name) &&
        !current.some((r) => r.test(name)) &&
        !helpTexts.some((t) => new RegExp(`(?<!\\w)${name}(?!\\w)`, 'u').test(t)),
    );
    expect(unknown).toEqual([]);
  });
});
