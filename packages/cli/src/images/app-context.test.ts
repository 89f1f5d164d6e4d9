import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowHighClip } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../client/transcription-client.js';
import { type TestModels, freePort, toneModelsForDeploy } from '../testing/docker-fixture.js';
import { APP_CONTEXT_ENTRIES, stageAppContext } from './app-context.js';
import { bundleServer } from './server-bundle.js';
import { type SourceTree, locateSourceTree } from './source-tree.js';
import { pollUntil } from '@asrctl/server';

/** Every file under dir, relative, sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/**
 * The app image's context, staged and then run with this host's node from a folder with no
 * node_modules above it: what the image runs, without Docker.
 */
describe('the app image build context', () => {
  let source: SourceTree;
  let stage: string;
  let models: TestModels;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    source = await locateSourceTree();
    stage = await mkdtemp(join(tmpdir(), 'asrctl-app-context-test-'));
    models = await toneModelsForDeploy();
    await stageAppContext(source, stage, () => undefined);
  }, 120_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await rm(stage, { recursive: true, force: true });
    await models?.remove();
  });

  it('holds the bundle, the page and only the native parts: koffi for linux x64 and libvosk.so', async () => {
    expect((await readdir(stage)).sort()).toEqual([...APP_CONTEXT_ENTRIES].sort());
    expect(await readdir(join(stage, 'dist'))).toEqual(expect.arrayContaining(['main.cjs', 'server-main.js']));
    expect((await readdir(join(stage, 'node_modules'))).sort()).toEqual(['koffi', 'vosk']);
    const native = (await filesUnder(join(stage, 'node_modules'))).filter((f) => /\.(node|so)$/u.test(f));
    expect(native).toEqual(['koffi/build/koffi/linux_x64/koffi.node', 'vosk/lib/linux-x86_64/libvosk.so']);
    expect((await filesUnder(join(stage, 'node_modules', 'koffi'))).some((f) => f.startsWith('vendor/') || f.endsWith('.cc'))).toBe(false);
    expect(JSON.parse(await readFile(join(stage, 'package.json'), 'utf8'))).toMatchObject({ version: source.version, type: 'module' });
  });

  it('runs with only what it holds: sizes the thread pool first, serves the page, recognizes on the real libvosk', async () => {
    const port = await freePort();
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    delete env.ASR_LIBVOSK;
    const child = spawn(
      process.execPath,
      [
        join(stage, 'dist', 'main.cjs'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--model',
        `cn=${models.cn}`,
        '--model',
        `en=${models.en}`,
      ],
      { cwd: stage, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server = child;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit');
    await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`the bundled server exited (${child.exitCode}): ${out}`);
        return out;
      },
      (log) => log.includes('"event":"ready"'),
      { what: 'the bundled server to be ready', timeoutMs: 30_000, intervalMs: 50 },
    );
    expect(out).toContain('"event":"ready"');
    expect(out).toContain(`"decode_threads":${Math.max(2, availableParallelism())}`);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(await readFile(join(source.serverDir, 'page', 'index.html'), 'utf8'));
    const finals = await transcribe({ url: `ws://127.0.0.1:${port}/`, samples: lowHighClip(16000), sampleRate: 16000, language: 'en' });
    expect(finals.map((f) => f.text)).toEqual(['low high']);

    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    server = undefined;
  }, 60_000);

  it('says what failed and what to do when the server source does not bundle', async () => {
    const broken = join(stage, 'broken-server');
    await mkdir(join(broken, 'src'), { recursive: true });
    await writeFile(join(broken, 'src', 'main.cts'), "import missing = require('./no-such-module.cjs');\nmissing();\n");
    const attempt = bundleServer(broken, join(broken, 'dist'));
    await expect(attempt).rejects.toThrow(expect.objectContaining({ code: 'image_failed' }));
    await expect(attempt).rejects.toThrow(
      /could not bundle the server .*main\.cts.* with esbuild: [\s\S]*no-such-module[\s\S]*hint: the server source does not build/u,
    );
    await expect(stat(join(broken, 'dist', 'main.cjs'))).rejects.toThrow(/ENOENT/u);
  });
});
