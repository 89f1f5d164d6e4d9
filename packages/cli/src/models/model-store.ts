import { chmod, cp, mkdir, mkdtemp, readFile, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { describeModelProblems, inspectModelDirectory } from '@asrctl/server';
import extractZip from 'extract-zip';
import { directorySize, formatBytes, freeBytes } from './disk.js';
import { DownloadError, type DownloadProgress, downloadFile } from './download.js';
import {
  MODEL_MARKERS,
  type ModelManifest,
  holdsAModel,
  notPlainFiles,
  readManifest,
  specialFileKind,
  verifyAgainstManifest,
  writeManifest,
} from './model-manifest.js';
import { catalogModel, catalogUrl } from './model-catalog.js';
import { offlineWaysIn } from './offline-ways.js';
import { CliError } from '../cli-error.js';
import { processAlive } from '../os/process-alive.js';

export type ModelSource = { kind: 'catalog' } | { kind: 'url'; url: string } | { kind: 'local'; path: string };

export interface PullRequest {
  /** Directory name under the store (a catalog name, or any name for other sources). */
  name: string;
  source: ModelSource;
  /** Replace an installed model (the new one must install fully first). */
  force?: boolean;
  mirror?: string;
}

export interface PullEvents {
  onProgress?: (p: DownloadProgress) => void;
  onRetry?: (attempt: number, error: Error, resumeAt: number) => void;
  say?: (line: string) => void;
  /** Stops a download (the partial file stays, to resume from). */
  signal?: AbortSignal;
}

export interface PullOutcome {
  name: string;
  dir: string;
  action: 'present' | 'installed' | 'replaced';
  downloadedBytes: number;
}

export interface InstalledModel {
  name: string;
  dir: string;
  bytes: number;
  manifest?: ModelManifest;
}

const DOWNLOADS = '.downloads';
/** A pull's staging directory: `.staging-PID-NAME-XXXXXX`, its process id telling whether it is abandoned. */
const STAGING = '.staging-';

/**
 * The models directory: one directory per model, installed only whole. Downloads and extraction
 * happen in dot-directories on the same filesystem, and a model appears (or replaces another) by
 * rename only after its structure was checked and its manifest written.
 */
export class ModelStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  dir(name: string): string {
    return join(this.root, name);
  }

  /**
   * The directory of a model a user named. A name, never a path: `models rm ..` removed the
   * directory holding the store, and `rm .` the store itself.
   */
  modelDir(name: string): string {
    if (!/^[\w.-]+$/u.test(name) || name.startsWith('.'))
      throw new CliError('invalid_model_name', `model name "${name}": use letters, digits, . - _ (a model in ${this.root}, not a path)`, {
        exitCode: 2,
      });
    return this.dir(name);
  }

  async list(): Promise<InstalledModel[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const models: InstalledModel[] = [];
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dir = this.dir(e.name);
      const manifest = await readManifest(dir);
      models.push({ name: e.name, dir, bytes: await directorySize(dir), ...(manifest && { manifest }) });
    }
    return models;
  }

  /** Installs a model unless a complete one is there (then no network is used at all). */
  async pull(request: PullRequest, events: PullEvents = {}): Promise<PullOutcome> {
    const { name } = request;
    const dir = this.modelDir(name);
    const say = events.say ?? (() => undefined);
    const existing = await this.presentAndComplete(dir);
    if (existing && !request.force) {
      say(`${name} is installed${existing === 'unmanaged' ? ' (no manifest: placed by hand)' : ' and matches its manifest'}`);
      return { name, dir, action: 'present', downloadedBytes: 0 };
    }
    await mkdir(join(this.root, DOWNLOADS), { recursive: true });
    const release = await this.lockPull(name);
    try {
      return await this.install(request, events, dir);
    } finally {
      await release();
    }
  }

  /** Downloads or copies, checks and renames a model into place; the caller holds the pull's lock. */
  private async install(request: PullRequest, events: PullEvents, dir: string): Promise<PullOutcome> {
    const { name } = request;
    const say = events.say ?? (() => undefined);
    await this.removeAbandonedStaging();
    const staging = await mkdtemp(join(this.root, `${STAGING}${process.pid}-${name}-`));
    let downloadedBytes = 0;
    let unpackedSpecial: SpecialEntry[] = [];
    try {
      let source: string;
      if (request.source.kind === 'local') {
        const path = request.source.path;
        // A source that is itself a link (to a model directory or zip) is read where it leads.
        source = await realpath(isAbsolute(path) ? path : resolve(path)).catch((err: Error) => {
          throw new CliError('model_install_failed', `--from ${path}: ${err.message.replace(/, realpath .*$/u, '')}`);
        });
        if ((await stat(source)).isDirectory()) {
          // Checked before copying too: cp cannot copy a FIFO or a socket, and would say only that.
          await refuseNotPlainFiles(source, source);
          await cp(source, join(staging, 'model'), { recursive: true });
        } else unpackedSpecial = await this.extract(source, staging);
      } else {
        const url = request.source.kind === 'url' ? request.source.url : catalogUrl(name, request.mirror);
        source = url;
        await this.checkFreeDisk(name);
        const zip = join(this.root, DOWNLOADS, `${name}.zip`);
        // The URL a complete download came from: one kept because the disk filled while unpacking.
        const keptFrom = `${zip}.source`;
        const kept = (await readFile(keptFrom, 'utf8').catch(() => undefined)) === url && (await stat(zip).then((z) => z.isFile(), () => false));
        if (kept) say(`unpacking ${zip}, downloaded before from ${url}`);
        else {
          await rm(keptFrom, { force: true });
          say(`downloading ${url}`);
          const result = await downloadFile(url, zip, {
            ...(events.onProgress && { onProgress: events.onProgress }),
            ...(events.onRetry && { onRetry: events.onRetry }),
            ...(events.signal && { signal: events.signal }),
          }).catch((err: unknown) => {
            const full = err instanceof DownloadError && (err.cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOSPC';
            throw full ? new CliError('model_install_failed', `${err.message}\n${offlineWaysIn(name, this.root)}`, { cause: err }) : err;
          });
          downloadedBytes = result.bytes;
          // Before unpacking, which may fill the disk; without it, the zip would only be fetched again.
          await writeFile(keptFrom, url).catch(() => undefined);
        }
        try {
          unpackedSpecial = await this.extract(zip, staging);
        } catch (err) {
          // Only the disk was short: the complete download is kept, so running again unpacks it without fetching it again.
          if (err instanceof CliError && err.code === 'disk_full')
            throw new CliError('disk_full', `${err.message}; the download is kept (${zip}) and not fetched again`);
          await rm(zip, { force: true }); // a bad zip must be downloaded again
          await rm(keptFrom, { force: true });
          throw err;
        }
        await rm(zip, { force: true });
        await rm(keptFrom, { force: true });
      }
      const modelDir = await findModelRoot(staging);
      await refuseNotPlainFiles(modelDir, source, unpackedSpecial);
      const problems = await inspectModelDirectory(modelDir);
      if (problems === 'not_a_directory' || problems.length > 0)
        throw new CliError('model_install_failed', `${source} does not hold a usable Vosk model: ${describeModelProblems(name, problems)}`);
      // mkdtemp made the staging directory private; the app container's user must read the model.
      await chmod(modelDir, 0o755);
      await writeManifest(modelDir, name, source);
      const replaced = await this.swapIn(modelDir, dir);
      say(`${name} ${replaced ? 'replaced' : 'installed'} in ${dir}`);
      return { name, dir, action: replaced ? 'replaced' : 'installed', downloadedBytes };
    } catch (err) {
      // A disk that fills while copying or writing the manifest, as much as while unpacking.
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
        throw new CliError('disk_full', `no space left in ${this.root} while installing ${name}: free some space and run the same command again; the installed model, if any, is unchanged`, { cause: err });
      throw err;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async verify(name: string): Promise<Awaited<ReturnType<typeof verifyAgainstManifest>>> {
    return verifyAgainstManifest(this.modelDir(name));
  }

  /**
   * The directory of the installed model `name`, to remove. Nothing there is told, with what is
   * installed; a directory that holds no model (--models-dir pointing at the wrong place) stays.
   */
  async dirToRemove(name: string): Promise<string> {
    const dir = this.modelDir(name);
    if (!(await stat(dir).then(() => true, () => false))) {
      const installed = (await this.list()).map((m) => m.name);
      throw new CliError(
        'model_not_installed',
        `${name} is not installed in ${this.root} (${installed.length > 0 ? `installed: ${installed.join(', ')}` : 'nothing is installed there'}): nothing removed`,
        { hint: 'asrctl models list shows what is installed; check --models-dir (ASRCTL_MODELS_DIR)' },
      );
    }
    if (!(await holdsAModel(dir)))
      throw new CliError('not_a_model', `${dir} is not a model (it holds none of ${MODEL_MARKERS.join(', ')}): not removed`, {
        hint: 'check --models-dir (ASRCTL_MODELS_DIR); remove the directory yourself if it should go',
      });
    return dir;
  }

  async remove(name: string): Promise<void> {
    await rm(await this.dirToRemove(name), { recursive: true, force: true });
  }

  /** 'managed' when the manifest's files are all there with their sizes; 'unmanaged' for a complete hand-placed model. */
  private async presentAndComplete(dir: string): Promise<'managed' | 'unmanaged' | undefined> {
    const manifest = await readManifest(dir);
    if (manifest) {
      for (const [path, { bytes }] of Object.entries(manifest.files)) {
        const size = await stat(join(dir, path)).then((s) => s.size, () => -1);
        if (size !== bytes) return undefined;
      }
      return 'managed';
    }
    const problems = await inspectModelDirectory(dir);
    return problems !== 'not_a_directory' && problems.length === 0 ? 'unmanaged' : undefined;
  }

  private async checkFreeDisk(name: string): Promise<void> {
    const known = catalogModel(name);
    if (!known) return;
    const need = known.zipBytes + known.diskBytes;
    const free = await freeBytes(this.root);
    if (free < need)
      throw new CliError('model_install_failed', `${name} needs about ${formatBytes(need)} free in ${this.root} (zip and unpacked), only ${formatBytes(free)} is: free some space or use another --models-dir`);
  }

  /**
   * Unpacks `zip` into `into`. extract-zip writes an entry of a FIFO, a device or a socket as a
   * plain file: those entries are returned, to be refused.
   */
  private async extract(zip: string, into: string): Promise<SpecialEntry[]> {
    const special: SpecialEntry[] = [];
    const onEntry = (entry: { fileName: string; externalFileAttributes: number }): void => {
      const kind = specialFileKind((entry.externalFileAttributes >>> 16) & 0xffff);
      if (kind) special.push({ path: join(into, entry.fileName), kind });
    };
    try {
      await extractZip(zip, { dir: into, onEntry });
      return special;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC')
        throw new CliError(
          'disk_full',
          `no space left in ${this.root} to unpack ${zip}: free some space and run the same command again; the installed model, if any, is unchanged`,
        );
      throw new CliError('model_install_failed', `${zip} is not a valid zip archive (${(err as Error).message}); the installed model, if any, is unchanged`);
    }
  }

  /**
   * One pull of a model at a time (a `models pull` beside a deploy's prefetch): two would write one
   * download file at once and splice it. A lock whose process is gone is taken over.
   */
  private async lockPull(name: string): Promise<() => Promise<void>> {
    const lock = join(this.root, DOWNLOADS, `${name}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      const created = await writeFile(lock, String(process.pid), { flag: 'wx' }).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        },
      );
      if (created) return () => rm(lock, { force: true });
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      if (holder && processAlive(holder))
        throw new CliError('model_install_failed', `another pull of ${name} is running (pid ${holder}): wait for it to finish, then run this again`);
      await rm(lock, { force: true });
    }
    throw new CliError('model_install_failed', `could not take the lock ${lock} of a pull of ${name}`);
  }

  /**
   * Staging directories of pulls whose process is gone (Ctrl-C, a kill, a crash): each can hold a
   * model's worth of space. A running pull's own is left alone.
   */
  private async removeAbandonedStaging(): Promise<void> {
    for (const entry of await readdir(this.root)) {
      const pid = Number(/^\.staging-(\d+)-/u.exec(entry)?.[1]);
      if (pid && !processAlive(pid)) await rm(join(this.root, entry), { recursive: true, force: true });
    }
  }

  /** Renames the new model into place; an old one is moved aside first and removed after. */
  private async swapIn(modelDir: string, dir: string): Promise<boolean> {
    const exists = await stat(dir).then(() => true, () => false);
    if (!exists) {
      await rename(modelDir, dir);
      return false;
    }
    const aside = `${dir}.old-${Date.now().toString(36)}`;
    await rename(dir, aside);
    await rename(modelDir, dir);
    await rm(aside, { recursive: true, force: true });
    return true;
  }
}

/** A zip entry that was no plain file, unpacked as one: its path and what it was (`a FIFO`). */
interface SpecialEntry {
  path: string;
  kind: string;
}

/**
 * A model is plain files: a link would have the server read a host file, and cp cannot copy a
 * FIFO. `unpacked`: what a zip held besides, now plain files in `dir`.
 */
async function refuseNotPlainFiles(dir: string, source: string, unpacked: SpecialEntry[] = []): Promise<void> {
  const others = [...unpacked.map((e) => `${relative(dir, e.path)} (${e.kind})`), ...(await notPlainFiles(dir))];
  if (others.length > 0)
    throw new CliError(
      'model_install_failed',
      `${source} holds what a model never does: ${others.join(', ')}; only plain files are installed. The installed model, if any, is unchanged`,
    );
}


/** Vosk zips hold one top-level directory (vosk-model-small-cn-0.22/...); some hold the files directly. */
async function findModelRoot(staging: string): Promise<string> {
  const entries = (await readdir(staging, { withFileTypes: true })).filter((e) => !e.name.startsWith('__MACOSX'));
  const only = entries[0];
  if (entries.length === 1 && only?.isDirectory()) return join(staging, only.name);
  return staging;
}
