import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execa } from 'execa';

/** Where the images' sources are: the asrctl checkout this CLI runs from. */
export interface SourceTree {
  root: string;
  serverDir: string;
  dockerDir: string;
  version: string;
  /** HEAD's commit, with "-dirty" when the work tree has changes; "unknown" outside git. */
  gitCommit: string;
}

export async function locateSourceTree(): Promise<SourceTree> {
  const require = createRequire(import.meta.url);
  const serverPackage = realpathSync(require.resolve('@asrctl/server/package.json'));
  const serverDir = dirname(serverPackage);
  const root = dirname(dirname(serverDir));
  if (!existsSync(join(root, 'pnpm-workspace.yaml')) || !existsSync(join(root, 'docker', 'Dockerfile'))) {
    throw new Error(
      `asrctl builds its images from its own checkout, but ${root} does not look like one (no pnpm-workspace.yaml or docker/Dockerfile)`,
    );
  }
  const { version } = require(serverPackage) as { version: string };
  return { root, serverDir, dockerDir: join(root, 'docker'), version, gitCommit: await gitCommit(root) };
}

async function gitCommit(root: string): Promise<string> {
  const head = await execa('git', ['rev-parse', 'HEAD'], { cwd: root, reject: false });
  if (head.exitCode !== 0) return 'unknown';
  const status = await execa('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, reject: false });
  return `${head.stdout.trim()}${status.stdout.trim() ? '-dirty' : ''}`;
}
