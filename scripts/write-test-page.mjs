// Writes packages/server/page/index.html, the browser test page, from its template and its bundled
// script (`pnpm build` runs this after tsc); packages/server/src/page/page-build.test.ts fails when
// the file in git differs from its sources.
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { TEST_PAGE, renderTestPage } from '../packages/server/dist/page/page-build.js';

const before = readFileSync(TEST_PAGE, 'utf8');
const after = await renderTestPage();
if (after !== before) writeFileSync(TEST_PAGE, after);
process.stdout.write(`packages/server/page/index.html: ${before === after ? 'unchanged' : 'updated'}\n`);
