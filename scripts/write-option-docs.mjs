// Writes the option tables into the docs from the programs' own tables (`pnpm docs:options`);
// packages/cli/src/docs/option-docs.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { format } from 'prettier';
import { DOCUMENTED_TABLES, withOptionTable } from '../packages/cli/dist/docs/option-docs.js';

const prettierOptions = JSON.parse(readFileSync(new URL('../.prettierrc.json', import.meta.url), 'utf8'));
for (const { file, table } of DOCUMENTED_TABLES) {
  const path = new URL(`../${file}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = await format(withOptionTable(before, table), { ...prettierOptions, parser: 'markdown' });
  writeFileSync(path, after);
  process.stdout.write(`${file}: ${before === after ? 'unchanged' : 'updated'} (${table.program} options)\n`);
}
