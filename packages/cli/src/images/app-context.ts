import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateNativeParts, stageNativeParts } from './native-parts.js';
import { bundleServer } from './server-bundle.js';
import type { SourceTree } from './source-tree.js';

/** The top-level entries of the app image's build context, in the order docker/Dockerfile copies them. */
export const APP_CONTEXT_ENTRIES = ['Dockerfile', 'node_modules', 'package.json', 'page', 'dist'] as const;

/**
 * Stages the app image's build context from the checkout alone (no package manager, no network):
 *   node_modules/  koffi (JavaScript and its linux x64 binary) and vosk (package.json, libvosk.so)
 *   package.json   name, version, "type": "module"
 *   page/          the browser test page, which the server reads from its package root
 *   dist/          main.cjs, server-main.js and engine/decode-thread.js (esbuild), beside page/ as in the server package
 */
export async function stageAppContext(source: SourceTree, stage: string, say: (line: string) => void): Promise<void> {
  const native = locateNativeParts(source.serverDir);
  say('staging the native parts: koffi (linux x64) and libvosk.so from the npm package vosk');
  await stageNativeParts(native, join(stage, 'node_modules'));
  say('bundling the server with esbuild');
  await bundleServer(source.serverDir, join(stage, 'dist'));
  await writeFile(
    join(stage, 'package.json'),
    `${JSON.stringify({ name: '@asrctl/server', version: source.version, private: true, type: 'module' }, null, 2)}\n`,
  );
  await mkdir(join(stage, 'page'));
  await cp(join(source.serverDir, 'page', 'index.html'), join(stage, 'page', 'index.html'));
  await cp(join(source.dockerDir, 'Dockerfile'), join(stage, 'Dockerfile'));
}
