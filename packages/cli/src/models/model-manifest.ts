import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Written into a model directory after a verified install; `models verify` rechecks it. */
export const MANIFEST_FILE = 'asrctl-manifest.json';

export interface ModelManifest {
  name: string;
  source: string;
  installedAt: string;
  /** Relative path to sha256 (hex) and size of every file but the manifest. */
  files: Record<string, { sha256: string; bytes: number }>;
}

export async function writeManifest(dir: string, name: string, source: string): Promise<ModelManifest> {
  const manifest: ModelManifest = { name, source, installedAt: new Date().toISOString(), files: await hashTree(dir) };
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** What marks a directory as a model: asrctl's manifest, or a file of Vosk's layout. */
export const MODEL_MARKERS = [MANIFEST_FILE, 'am/final.mdl', 'conf/model.conf'] as const;

/**
 * Whether `dir` holds a model (one of MODEL_MARKERS; it may be broken). A removal takes nothing
 * else: `--models-dir docs`, or `cleanup --models /etc`, would otherwise delete any directory.
 */
export async function holdsAModel(dir: string): Promise<boolean> {
  const found = await Promise.all(MODEL_MARKERS.map((m) => lstat(join(dir, m)).then((s) => s.isFile(), () => false)));
  return found.includes(true);
}

export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  } catch {
    return undefined;
  }
}

export type VerifyResult = { ok: true; files: number } | { ok: false; problems: string[] };

/** Rehashes every file; reports missing, changed and unexpected files. */
export async function verifyAgainstManifest(dir: string): Promise<VerifyResult> {
  const manifest = await readManifest(dir);
  if (!manifest) return { ok: false, problems: [`no ${MANIFEST_FILE}: not installed by asrctl (or the install did not finish)`] };
  const actual = await hashTree(dir).catch(() => ({}) as ModelManifest['files']);
  const others = await notPlainFiles(dir);
  // A file replaced by a link is told once, as the link.
  const problems = [
    ...manifestMismatches(manifest, actual).filter((p) => !others.some((o) => p === `${o.slice(0, o.indexOf(' ('))} is missing`)),
    ...others.map((entry) => `${entry}: not a plain file`),
  ];
  return problems.length === 0 ? { ok: true, files: Object.keys(manifest.files).length } : { ok: false, problems };
}

/** How the files found (`actual`, from hashTree) differ from the manifest: missing, changed and unexpected files. */
export function manifestMismatches(manifest: ModelManifest, actual: ModelManifest['files']): string[] {
  const problems: string[] = [];
  for (const [path, expected] of Object.entries(manifest.files)) {
    const found = actual[path];
    if (!found) problems.push(`${path} is missing`);
    else if (found.sha256 !== expected.sha256) problems.push(`${path} changed (${found.bytes} bytes, expected ${expected.bytes})`);
  }
  for (const path of Object.keys(actual)) if (!manifest.files[path]) problems.push(`${path} is not part of the model`);
  return problems;
}

export async function hashTree(root: string): Promise<Record<string, { sha256: string; bytes: number }>> {
  const files: Record<string, { sha256: string; bytes: number }> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && !(dir === root && entry.name === MANIFEST_FILE)) files[relative(root, path)] = await hashFile(path);
    }
  };
  await walk(root);
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * What a model directory holds besides plain files and directories, e.g. `graph/words.txt (a
 * symbolic link to /etc/passwd)` or `conf/pipe (a FIFO)`. A model never holds one: a link in a zip
 * would have the server read a host file (and log its first line), hashTree would pass it by, and
 * reading a FIFO waits for a writer.
 */
export async function notPlainFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isSymbolicLink()) found.push(`${relative(root, path)} (a symbolic link to ${await readlink(path)})`);
      else if (!entry.isFile()) found.push(`${relative(root, path)} (${specialFileKind((await lstat(path)).mode) ?? 'not a file'})`);
    }
  };
  await walk(root);
  return found;
}

const SPECIAL_FILES = new Map([
  [constants.S_IFIFO, 'a FIFO'],
  [constants.S_IFCHR, 'a character device'],
  [constants.S_IFBLK, 'a block device'],
  [constants.S_IFSOCK, 'a socket'],
]);

/**
 * What a file of this mode (lstat's, or a zip entry's from its external attributes) is when it is
 * no plain file, directory or symbolic link: `a FIFO`. Undefined for those, and for a mode without
 * a file type (zips made on Windows, whose entries are plain files).
 */
export function specialFileKind(mode: number): string | undefined {
  const type = mode & constants.S_IFMT;
  if ([0, constants.S_IFREG, constants.S_IFDIR, constants.S_IFLNK].includes(type)) return undefined;
  return SPECIAL_FILES.get(type) ?? 'not a file';
}

async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
