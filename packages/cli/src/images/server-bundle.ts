import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { CliError } from '../cli-error.js';

/**
 * The server as two files, so the image needs no package manager and no node_modules but the
 * native parts (native-parts.ts):
 * - dist/main.cjs: main.cts with thread-pool.cts, CommonJS, so libuv's pool is sized before any ES
 *   module loads; it then imports
 * - dist/server-main.js: the program and its JavaScript dependencies (pino, prom-client, ws) in one
 *   ES module. koffi stays outside: it finds its native binary relative to its own files.
 * - dist/engine/decode-thread.js: the decode threads' script, where the server looks for it in
 *   tsc's output too (see decode-threads.ts).
 * Built from the TypeScript sources, so a deploy never runs a stale tsc output.
 */
export function serverBundleBuilds(serverDir: string, distDir: string): BuildOptions[] {
  const common: BuildOptions = {
    absWorkingDir: serverDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
  };
  const esm: BuildOptions = {
    ...common,
    format: 'esm',
    external: ['koffi'],
    // The CommonJS dependencies, bundled into an ES module, still require() Node's built-ins.
    banner: {
      js: "import { createRequire as createRequireForBundle } from 'node:module';\nconst require = createRequireForBundle(import.meta.url);",
    },
  };
  return [
    {
      ...common,
      entryPoints: [join(serverDir, 'src', 'main.cts')],
      outfile: join(distDir, 'main.cjs'),
      format: 'cjs',
      external: ['./server-main.js'],
    },
    { ...esm, entryPoints: [join(serverDir, 'src', 'server-main.ts')], outfile: join(distDir, 'server-main.js') },
    { ...esm, entryPoints: [join(serverDir, 'src', 'engine', 'decode-thread.ts')], outfile: join(distDir, 'engine', 'decode-thread.js') },
  ];
}

/** Writes the bundle into distDir; a source that does not build becomes a CliError. */
export async function bundleServer(serverDir: string, distDir: string): Promise<void> {
  for (const options of serverBundleBuilds(serverDir, distDir)) {
    try {
      await build(options);
    } catch (err) {
      throw new CliError(
        'image_failed',
        `asrctl could not bundle the server (${String((options.entryPoints as string[])[0])}) for the app image with esbuild: ${(err as Error).message}`,
        {
          hint: 'the server source does not build: `pnpm typecheck` shows the error in context; if a module cannot be resolved, run `pnpm install --frozen-lockfile`. Nothing was deployed.',
          cause: err,
        },
      );
    }
  }
}
