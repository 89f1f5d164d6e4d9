// Writes the option tables, and the defaults the prose states, into the docs from the programs'
// own tables (`pnpm docs:options`); packages/cli/src/docs/option-docs.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { format } from 'prettier';
import { DOCUMENTED_TABLES, documentFiles, withOptionDefaults, withOptionTable } from '../packages/cli/dist/docs/option-docs.js';

const root = new URL('../', import.meta.url);
const prettierOptions = JSON.parse(readFileSync(new URL('.prettierrc.json', root), 'utf8'));
for (const file of documentFiles(root)) {
  const path = new URL(file, root);
  const before = readFileSync(path, 'utf8');
  const tables = DOCUMENTED_TABLES.filter((d) => d.file === file).map((d) => d.table);
  const generated = tables.reduce((doc, table) => withOptionTable(doc, table), withOptionDefaults(before, file));
  const after = await format(generated, { ...prettierOptions, parser: 'markdown' });
  writeFileSync(path, after);
  const what = [...tables.map((t) => `${t.program} options`), 'defaults'].join(', ');
  process.stdout.write(`${file}: ${before === after ? 'unchanged' : 'updated'} (${what})\n`);
}
