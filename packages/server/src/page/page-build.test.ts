import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { TEST_PAGE, renderTestPage } from './page-build.js';

describe('the browser test page', () => {
  it('in git is what its template and script build to (pnpm build writes it)', async () => {
    expect(await readFile(TEST_PAGE, 'utf8')).toBe(await renderTestPage());
  });

  it('holds the protocol client inline and no hand-written protocol of its own', async () => {
    // AsrctlSession's own error text, bundled in; the page's script reads and writes no JSON itself.
    expect(await renderTestPage()).toContain('the server sent something that is not JSON');
    expect(await renderTestPage()).not.toMatch(/<script[^>]*\ssrc=/u);
    expect(await readFile(new URL('test-page.ts', import.meta.url), 'utf8')).not.toMatch(/JSON\./u);
  });
});
