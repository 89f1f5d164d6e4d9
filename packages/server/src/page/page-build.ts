import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PACKAGE_DIR = new URL('../../', import.meta.url);
/** The page the server serves (routes.ts) and the image ships (the CLI's app-context.ts). */
export const TEST_PAGE = new URL('page/index.html', PACKAGE_DIR);
const TEMPLATE = new URL('src/page/test-page.html', PACKAGE_DIR);
const SCRIPT = new URL('src/page/test-page.ts', PACKAGE_DIR);
/** Where the template takes the script. */
const SCRIPT_SLOT = '      /* test-page.ts */\n';

/**
 * The browser test page as one self-contained file: the template with the page's script and the
 * protocol client it uses (client/asrctl-session.ts) bundled inline, as the server's CSP allows
 * only inline script and a page saved to disk has nothing beside it. page/index.html is this,
 * kept in git so the server and the image read it as a plain file; `pnpm build` writes it and
 * page-build.test.ts fails when it differs from its sources.
 */
export async function renderTestPage(): Promise<string> {
  const [template, bundle] = await Promise.all([
    readFile(TEMPLATE, 'utf8'),
    build({
      // The package root, whatever the caller's: esbuild's comments name the sources from it.
      absWorkingDir: fileURLToPath(PACKAGE_DIR),
      entryPoints: [fileURLToPath(SCRIPT)],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2022',
      platform: 'browser',
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
    }),
  ]);
  if (!template.includes(SCRIPT_SLOT))
    throw new Error(`the page template ${fileURLToPath(TEMPLATE)} has no script slot (${SCRIPT_SLOT.trim()})`);
  const script = bundle.outputFiles[0]!.text;
  // Inline, the script ends at the first `</script`; esbuild's output has none unless a string does.
  if (/<\/script/iu.test(script))
    throw new Error(`the bundled page script ${fileURLToPath(SCRIPT)} contains "</script", which would end it early`);
  // As esbuild wrote it ("use strict" included): indenting it would change the worklet's source, a template literal.
  return template.replace(SCRIPT_SLOT, () => script);
}
