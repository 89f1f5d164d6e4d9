import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundledLibvoskPath } from '@asrctl/server';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { type PackOptions, pack } from 'tar-fs';
import { type BuildProgress, importImage, inspectImage } from '../docker/images.js';
import { BASE_IMAGES, type BaseImageKind } from './base-image-names.js';
import { buildEdgeImage } from './edge-image.js';
import type { SourceTree } from './source-tree.js';

export { BASE_IMAGES, type BaseImageKind } from './base-image-names.js';

export interface BaseImageOptions {
  /** Rebuild even when the image exists. */
  force?: boolean;
  /** Debian mirror for debootstrap. */
  mirror?: string;
  onProgress?: (line: string) => void;
}

export interface BaseImageResult {
  kind: BaseImageKind;
  image: string;
  built: boolean;
  seconds: number;
}

export async function buildBaseImages(
  docker: Docker,
  source: SourceTree,
  kinds: BaseImageKind[],
  options: BaseImageOptions = {},
): Promise<BaseImageResult[]> {
  const results: BaseImageResult[] = [];
  for (const kind of kinds) {
    const image = BASE_IMAGES[kind];
    const started = performance.now();
    if (!options.force && (await inspectImage(docker, image))) {
      results.push({ kind, image, built: false, seconds: 0 });
      continue;
    }
    if (kind === 'node')
      await importRootfs(docker, image, ['CMD ["node"]', 'ENV PATH=/usr/local/bin:/usr/bin:/bin'], (dir) => nodeRootfs(dir, options));
    if (kind === 'debian') await importRootfs(docker, image, ['CMD ["/bin/bash"]'], (dir) => debianRootfs(dir, options));
    if (kind === 'edge') {
      if (!(await inspectImage(docker, BASE_IMAGES.debian)))
        throw new Error(`the edge base is built on ${BASE_IMAGES.debian}: build "debian" first`);
      const onProgress = (p: BuildProgress): void => options.onProgress?.(p.line);
      await buildEdgeImage(docker, source, { tag: image, baseImage: BASE_IMAGES.debian }, onProgress);
    }
    results.push({ kind, image, built: true, seconds: (performance.now() - started) / 1000 });
  }
  return results;
}

async function importRootfs(docker: Docker, image: string, changes: string[], populate: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'asrctl-rootfs-'));
  try {
    await populate(dir);
    const [repo, tag] = image.split(':') as [string, string];
    // Device nodes (debootstrap makes some in dev/) cannot be archived; the engine provides /dev.
    const devices = join(dir, 'dev');
    // umask 0: modes as they are on disk (tar-fs would apply ours: /tmp must stay 1777).
    const options: PackOptions & { umask: number } = { umask: 0, ignore: (name) => name.startsWith(`${devices}/`) };
    const archive = pack(dir, options);
    await importImage(docker, archive as unknown as NodeJS.ReadableStream, { repo, tag, changes });
    if (!(await inspectImage(docker, image))) throw new Error(`importing ${image} reported success but the image is missing`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** This host's node, the shared libraries node and libvosk need (as ldd lists them), NSS, users, CA roots. */
async function nodeRootfs(root: string, options: BaseImageOptions): Promise<void> {
  const say = options.onProgress ?? (() => undefined);
  const libvosk = bundledLibvoskPath();
  if (typeof libvosk !== 'string') throw new Error(`cannot make a node base image: ${libvosk.reason}`);
  await place(root, process.execPath, '/usr/local/bin/node');
  const libraries = new Set<string>();
  for (const binary of [process.execPath, libvosk]) for (const lib of await sharedLibraries(binary)) libraries.add(lib);
  const libDir = dirname([...libraries].find((l) => l.includes('/libc.so')) ?? '/lib/x86_64-linux-gnu/libc.so.6');
  for (const nss of ['libnss_files.so.2', 'libnss_dns.so.2', 'libresolv.so.2'])
    if (existsSync(join(libDir, nss))) libraries.add(join(libDir, nss));
  for (const lib of libraries) await place(root, lib, lib);
  say(`node ${process.version} and ${libraries.size} shared libraries`);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  await writeFile(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  if (existsSync('/etc/ssl/certs/ca-certificates.crt'))
    await place(root, '/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt');
  for (const d of ['tmp', 'home/node', 'root']) await mkdir(join(root, d), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await addBusybox(root, say);
}

/** `ldd`'s resolved paths, the dynamic loader included. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execa('ldd', [binary]);
  return [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/gu)].map((m) => m[1]!);
}

/** Copies the real file behind `from` to `to` inside the rootfs (symlinks resolved). */
async function place(root: string, from: string, to: string): Promise<void> {
  await mkdir(dirname(join(root, to)), { recursive: true });
  await copyFile(realpathSync(from), join(root, to));
  await chmod(join(root, to), 0o755);
}

/** A shell and wget for operators who `docker exec` in; optional (Debian's busybox-static). */
async function addBusybox(root: string, say: (line: string) => void): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'asrctl-busybox-'));
  try {
    const download = await execa('apt-get', ['download', 'busybox-static'], { cwd: work, reject: false });
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (download.exitCode !== 0 || !deb) {
      say('busybox-static not available from apt: the image has no shell (not needed to run)');
      return;
    }
    await execa('dpkg-deb', ['-x', join(work, deb), join(work, 'x')]);
    await place(root, join(work, 'x', 'bin', 'busybox'), '/bin/busybox');
    for (const applet of ['sh', 'ls', 'cat', 'wget', 'ps', 'env']) await symlink('busybox', join(root, 'bin', applet));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function debianRootfs(root: string, options: BaseImageOptions): Promise<void> {
  const mirror = options.mirror ?? 'http://deb.debian.org/debian';
  const which = await execa('debootstrap', ['--version'], { reject: false });
  if (which.failed) throw new Error('debootstrap is not installed: apt-get install -y debootstrap (it needs root)');
  options.onProgress?.(`debootstrap --variant=minbase bookworm from ${mirror} (a minute or two)`);
  const result = await execa('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], { reject: false, all: true });
  if (result.failed) throw new Error(`debootstrap failed:\n${(result.all ?? '').split('\n').slice(-15).join('\n')}`);
  // apt's downloaded packages and lists only make the image bigger.
  await execa('sh', ['-c', `rm -f ${root}/var/cache/apt/archives/*.deb ${root}/var/lib/apt/lists/*_* || true`]);
}
