import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { type BuildProgress, buildImage } from '../docker/images.js';
import type { SourceTree } from './source-tree.js';

export interface AppImageRequest {
  tag: string;
  baseImage: string;
  labels: Record<string, string>;
  noCache?: boolean;
}

/**
 * Builds the server image: the server compiled, its production dependencies staged by `pnpm
 * deploy` from the local store (no network), then docker/Dockerfile on that context.
 */
export async function buildAppImage(
  docker: Docker,
  source: SourceTree,
  request: AppImageRequest,
  onProgress?: (p: BuildProgress) => void,
): Promise<string> {
  const stage = await mkdtemp(join(tmpdir(), 'asrctl-app-context-'));
  try {
    await stageAppContext(source, stage, (line) => onProgress?.({ step: 'staging the build context', line }));
    return await buildImage(
      docker,
      {
        contextDir: stage,
        entries: ['Dockerfile', 'package.json', 'node_modules', 'dist', 'page'],
        tag: request.tag,
        buildArgs: { BASE_IMAGE: request.baseImage },
        labels: request.labels,
        noCache: request.noCache ?? false,
      },
      onProgress,
    );
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function stageAppContext(source: SourceTree, stage: string, say: (line: string) => void): Promise<void> {
  say('compiling the server');
  await run('pnpm', ['exec', 'tsc', '-b', 'packages/server'], source.root);
  say('staging production dependencies (pnpm deploy --prod --offline)');
  const app = join(stage, 'app');
  await run('pnpm', ['--filter', '@asrctl/server', 'deploy', '--prod', '--offline', '--legacy', app], source.root);
  for (const entry of ['package.json', 'node_modules', 'dist', 'page'])
    await cp(join(app, entry), join(stage, entry), { recursive: true, verbatimSymlinks: true });
  await rm(app, { recursive: true, force: true });
  await pruneForeignLibvosk(stage);
  await removeVolatileFiles(join(stage, 'node_modules'));
  await cp(join(source.dockerDir, 'Dockerfile'), join(stage, 'Dockerfile'));
}

/** The vosk package ships libvosk for Windows and macOS too (about 60 MB); the image is Linux x86-64. */
async function pruneForeignLibvosk(stage: string): Promise<void> {
  const store = join(stage, 'node_modules', '.pnpm');
  for (const dir of await readdir(store)) {
    if (!dir.startsWith('vosk@')) continue;
    const libs = join(store, dir, 'node_modules', 'vosk', 'lib');
    for (const platform of await readdir(libs))
      if (platform !== 'linux-x86_64') await rm(join(libs, platform), { recursive: true, force: true });
  }
}

/**
 * pnpm's bin shims name the staging directory and .modules.yaml holds timestamps: they would change
 * the dependency layer's checksum at every build (and the server runs no bins).
 */
async function removeVolatileFiles(dir: string): Promise<void> {
  await rm(join(dir, '.modules.yaml'), { force: true });
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (entry.name === '.bin') await rm(join(dir, entry.name), { recursive: true, force: true });
    else await removeVolatileFiles(join(dir, entry.name));
  }
}

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const result = await execa(command, args, { cwd, reject: false, all: true });
  if (result.failed) {
    const hint = (result as { code?: string }).code === 'ENOENT' ? ` (is ${command} installed? npm i -g pnpm@10)` : '';
    throw new Error(`${command} ${args.join(' ')} failed${hint}:\n${(result.all ?? '').split('\n').slice(-20).join('\n')}`);
  }
}
