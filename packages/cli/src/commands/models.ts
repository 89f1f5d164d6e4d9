import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type ToneWord, encodeWav, firstAndLastWordsClip, parseToneWords, toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { type DeprecatedEnv, type OptionInput, type OptionValues, inputFromEnv, pickOptions, resolveOptions } from '@asrctl/server';
import { type Command, Option } from 'commander';
import { formatBytes } from '../models/disk.js';
import type { DownloadProgress } from '../models/download.js';
import { MODEL_CATALOG, catalogModel, catalogUrl } from '../models/model-catalog.js';
import { type ModelSource, ModelStore } from '../models/model-store.js';
import { readManifest } from '../models/model-manifest.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { DeployConfigError } from '../deployment/deploy-config.js';
import { checkEnv, commanderOptions } from '../options/commander-options.js';
import { countOf } from '../text/count-of.js';
import { CliError } from '../cli-error.js';
import { DEFAULT_DOCKER_SOCKET, connectEngine } from '../docker/engine.js';
import { modelDirectoryProblems } from '../operations/cleanup-plan.js';
import { askedModelDirectory } from '../operations/model-removal.js';

interface SynthOptions {
  lang: 'en' | 'cn';
  heavy?: boolean;
  words?: string;
  clip?: string;
}

/** --models-dir and --mirror as `deploy` declares and reads them. */
const STORE_OPTIONS = pickOptions(DEPLOY_OPTIONS, ['modelsDir', 'mirror']);
type StoreOptions = OptionInput<typeof STORE_OPTIONS.options>;

const storeOption = (): Option => commanderOptions(STORE_OPTIONS, ['modelsDir'])[0]!;

/** Flags, else ASRCTL_MODELS_DIR / ASRCTL_MODEL_MIRROR, else the defaults. */
function storeSettings(flags: StoreOptions): OptionValues<typeof STORE_OPTIONS.options> {
  const deprecated: DeprecatedEnv[] = [];
  const problems: string[] = [];
  const fromEnv = inputFromEnv(STORE_OPTIONS, process.env, deprecated, problems);
  problems.push(...checkEnv(DEPLOY_OPTIONS, process.env, deprecated, Object.keys(STORE_OPTIONS.options)));
  const settings = resolveOptions(STORE_OPTIONS, [fromEnv, flags], problems);
  if (problems.length > 0) throw new DeployConfigError(problems);
  return settings;
}

/** `asrctl models ...`: the catalog, downloads, checks and test models. */
export function registerModels(program: Command): void {
  const models = program.command('models').description('list, download, verify and remove recognition models');

  models
    .command('list')
    .description('known models (catalog) and the models installed')
    .addOption(storeOption())
    .action(async (options: StoreOptions) => {
      const store = new ModelStore(storeSettings(options).modelsDir);
      const installed = await store.list();
      const lines = ['catalog (asrctl models pull NAME):'];
      for (const m of MODEL_CATALOG) {
        const here = installed.find((i) => i.name === m.name);
        lines.push(
          `  ${m.name.padEnd(30)} ${m.language}  zip ${formatBytes(m.zipBytes).padStart(8)}  memory ~${formatBytes(m.memoryBytes).padStart(8)}  ${here ? 'installed' : '-'}`,
        );
        lines.push(`      ${m.description}`);
      }
      lines.push(`installed in ${store.root}:`);
      if (installed.length === 0) lines.push('  none');
      for (const i of installed)
        lines.push(
          `  ${i.name.padEnd(30)} ${formatBytes(i.bytes).padStart(8)}  ${i.manifest ? `from ${i.manifest.source}` : 'no manifest (placed by hand)'}`,
        );
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  models
    .command('pull')
    .description('download (resuming after interruptions) and install a model; nothing is fetched if it is installed')
    .argument('<name-or-url>', 'a catalog name, or an https URL of a model zip')
    .addOption(storeOption())
    .option('--from <path>', 'install from a local directory or zip instead of downloading')
    .option('--name <name>', 'directory name for a URL or --from source (default: the file name)')
    .addOption(commanderOptions(STORE_OPTIONS, ['mirror'])[0]!)
    .option('--force', 'install again even if present (the old one stays until the new one is complete)')
    .action(async (target: string, options: StoreOptions & { from?: string; name?: string; force?: boolean }) => {
      const { modelsDir, mirror } = storeSettings(options);
      const isUrl = /^https?:\/\//u.test(target);
      const name = options.name ?? (isUrl ? (target.split('/').pop() ?? target).replace(/\.zip$/u, '') : target);
      if (!isUrl && !options.from && !catalogModel(name))
        throw new Error(`"${target}" is not in the catalog (asrctl models list); give a URL, or --from PATH for a local directory or zip`);
      const source: ModelSource = options.from
        ? { kind: 'local', path: options.from }
        : isUrl
          ? { kind: 'url', url: target }
          : { kind: 'catalog' };
      const store = new ModelStore(modelsDir);
      // Replaced under a deployment, the model changes at its next start, and is never verified there.
      if (options.force && existsSync(store.modelDir(name))) await refuseIfMounted(store, name, 'replaced');
      const progress = progressPrinter();
      const outcome = await store
        .pull(
          { name, source, ...(options.force && { force: true }), ...(mirror !== undefined && { mirror }) },
          {
            onProgress: progress.update,
            onRetry: (attempt, error, resumeAt) =>
              process.stderr.write(
                `\n  attempt ${attempt} failed (${error.message}); ${resumeAt > 0 ? `resuming at ${formatBytes(resumeAt)}` : 'trying again'}\n`,
              ),
            say: (line) => {
              progress.end();
              process.stdout.write(`${line}\n`);
            },
          },
        )
        // The error starts a line of its own, not the end of the progress line.
        .finally(progress.end);
      if (outcome.downloadedBytes > 0) process.stdout.write(`downloaded ${formatBytes(outcome.downloadedBytes)}\n`);
    });

  models
    .command('verify')
    .description("recheck installed models' files against their manifests (all when none named)")
    .argument('[names...]')
    .addOption(storeOption())
    .action(async (names: string[], options: StoreOptions) => {
      const store = new ModelStore(storeSettings(options).modelsDir);
      const installed = (await store.list()).map((m) => m.name);
      const targets = names.length > 0 ? names : installed;
      if (targets.length === 0) return void process.stdout.write(`nothing is installed in ${store.root}\n`);
      // A path is bad usage before it is a model that is not there.
      for (const name of targets) store.modelDir(name);
      const missing = targets.filter((name) => !installed.includes(name));
      if (missing.length > 0)
        throw new CliError(
          'model_not_installed',
          `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed in ${store.root} (${installed.length > 0 ? `installed: ${installed.join(', ')}` : 'nothing is installed there'})`,
          { hint: 'asrctl models list shows what is installed; check --models-dir (ASRCTL_MODELS_DIR)' },
        );
      for (const name of targets) {
        const result = await store.verify(name);
        if (result.ok) process.stdout.write(`${name}: ok (${countOf(result.files, 'file')})\n`);
        else {
          process.stdout.write(
            `${name}: FAILED\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n  fix: ${await repairCommand(store, name)}\n`,
          );
          process.exitCode = 1;
        }
      }
    });

  models
    .command('rm')
    .description('remove an installed model')
    .argument('<name>')
    .addOption(storeOption())
    .action(async (name: string, options: StoreOptions) => {
      const store = new ModelStore(storeSettings(options).modelsDir);
      // What is not installed is told before the engine is asked whether a deployment mounts it.
      await store.dirToRemove(name);
      await refuseIfMounted(store, name, 'removed');
      await store.remove(name);
      process.stdout.write(`removed ${name}\n`);
    });

  models
    .command('synth')
    .description('write a generated tone model: a smoke-test model for hosts with no real model at hand')
    .argument('<dir>', 'directory to write (a tone model already there is replaced; any other content is refused)')
    .addOption(new Option('--lang <lang>', 'word set: en (low/mid/high) or cn (低/中/高)').choices(['en', 'cn']).default('en'))
    .option('--heavy', 'add a realistic-compute network (for benchmarks); same results')
    .option('--words <list>', 'custom words as word:Hz,... (e.g. yes:600,no:1800)')
    .option('--clip <file>', "also write a 16 kHz WAV saying the first and last words, for 'asrctl transcribe FILE'")
    .action(async (dir: string, options: SynthOptions) => {
      const words: readonly ToneWord[] = options.words ? parseToneWords(options.words) : toneWordsFor(options.lang);
      await writeToneModel(dir, { words, heavy: options.heavy ?? false });
      const list = words.map((w) => `${w.word}=${w.hz} Hz`).join(', ');
      process.stdout.write(`wrote ${options.heavy ? 'heavy' : 'light'} tone model to ${resolve(dir)} (${list})\n`);
      if (options.clip) {
        const clip = firstAndLastWordsClip(words);
        await mkdir(dirname(options.clip), { recursive: true });
        await writeFile(options.clip, encodeWav(clip.samples, 16000));
        process.stdout.write(`wrote ${resolve(options.clip)}: "${clip.text}" (asrctl transcribe ${options.clip})\n`);
      }
    });
}

/** The pull that installs a model again from where its manifest says it came from. */
async function repairCommand(store: ModelStore, name: string): Promise<string> {
  const source = (await readManifest(store.modelDir(name)))?.source;
  if (source === undefined) return `asrctl models pull ${name} --force`;
  if (catalogModel(name)) {
    // From the mirror it came from: on an air-gapped host the default one cannot be reached.
    const mirror = source.endsWith(`/${name}.zip`) ? source.slice(0, -`/${name}.zip`.length) : undefined;
    return `asrctl models pull ${name} --force${mirror && catalogUrl(name) !== source ? ` --mirror ${mirror}` : ''}`;
  }
  return /^https?:\/\//u.test(source)
    ? `asrctl models pull ${source} --name ${name} --force`
    : `asrctl models pull ${name} --from ${source} --force`;
}

/**
 * A model a container or Swarm service mounts stays: the deployment would fail (or run another
 * model) at its next start. Only where no engine is installed (no DOCKER_HOST, no socket at the
 * default path: a host that runs `asrctl serve` only) is it removed or replaced unchecked, and that
 * is said. An engine that is stopped, out of reach, or that this user may not use leaves the model
 * as it is: its containers start again with it.
 */
async function refuseIfMounted(store: ModelStore, name: string, what: 'removed' | 'replaced'): Promise<void> {
  const dir = store.modelDir(name);
  const docker = connectEngine();
  const unreachable = await Promise.race([
    docker.ping().then(
      () => undefined,
      (err: unknown) => err as NodeJS.ErrnoException,
    ),
    new Promise<NodeJS.ErrnoException>((resolve) => setTimeout(() => resolve(new Error('it did not answer within 10 s')), 10_000).unref()),
  ]);
  if (unreachable && process.env.DOCKER_HOST === undefined && !existsSync(DEFAULT_DOCKER_SOCKET)) {
    process.stderr.write(`asrctl: no Docker engine is installed here, so whether a deployment mounts ${dir} was not checked\n`);
    return;
  }
  if (unreachable)
    throw new CliError(
      'model_in_use',
      `${name} was not ${what}: whether a deployment mounts ${dir} cannot be checked, as the Docker engine (${process.env.DOCKER_HOST ?? DEFAULT_DOCKER_SOCKET}) cannot be reached (${unreachable.message})`,
      {
        hint:
          unreachable.code === 'EACCES'
            ? 'run this as a user who may use the Docker engine (root, or one in the docker group)'
            : `start the engine or check DOCKER_HOST, so the check can be made; if no deployment uses this store, remove ${dir} by hand`,
      },
    );
  const inUse = (await modelDirectoryProblems(docker, [await askedModelDirectory(dir, process.cwd())], store.root, process.cwd())).filter(
    (p) => p.kind === 'in use',
  );
  if (inUse.length > 0)
    throw new CliError(
      'model_in_use',
      `${name} was not ${what}:\n  - ${inUse.map((p) => p.message.replace(/^--models /u, '')).join('\n  - ')}`,
    );
}

/** One status line on stderr, rewritten in place: bytes, percentage, speed. */
function progressPrinter(): { update: (p: DownloadProgress) => void; end: () => void } {
  let shown = false;
  let last = 0;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 200 && p.transferredBytes !== p.totalBytes) return;
      last = now;
      const of = p.totalBytes ? ` / ${formatBytes(p.totalBytes)}  ${Math.floor((100 * p.transferredBytes) / p.totalBytes)}%` : '';
      process.stderr.write(`\r  ${formatBytes(p.transferredBytes)}${of}  ${formatBytes(p.bytesPerSecond)}/s   `);
      shown = true;
    },
    end() {
      if (shown) process.stderr.write('\n');
      shown = false;
    },
  };
}
