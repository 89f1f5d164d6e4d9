import { tlsPairProblems, tokensFileProblems } from '@asrctl/server';
import { readWavFile, unsupportedRate } from '../../audio/wav-file.js';
import { CliError } from '../../cli-error.js';
import { createServer } from 'node:net';
import { lstat, mkdir, readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { engineFacts } from '../../docker/engine.js';
import { ensureBaseImage } from '../../images/base-image-availability.js';
import { directorySize, formatBytes, freeBytes } from '../../models/disk.js';
import { catalogModel } from '../../models/model-catalog.js';
import { LABELS } from '../../deployment/deployment-names.js';
import { publishedPorts } from '../../deployment/ports.js';
import { type PublishingContainer, runningContainers } from '../../docker/containers.js';
import { TARGETS } from '../../targets/index.js';
import type { DeployContext, DeployPhase } from '../deploy-context.js';

/** Models loaded in memory take about their size on disk; the server and recognizers add this. */
const SERVER_OVERHEAD_BYTES = 300 * 1024 ** 2;
const BIG_MODEL_BYTES = 1024 ** 3;
const MIN_FREE_DISK_BYTES = 2 * 1024 ** 3;
const DEFAULT_MEMORY_FLOOR_BYTES = 1024 ** 3;

/**
 * Phase 1: can this engine and host run the deployment as configured? Nothing is changed; what it
 * finds (the memory limit, the base images) goes to ctx.environment.
 */
export const environmentCheck: DeployPhase = {
  title: 'Environment check',
  async run(ctx, say) {
    const { docker, config } = ctx;
    await checkFilesGiven(ctx);
    const engine = await engineFacts(docker);
    say(`Docker engine ${engine.version} (API ${engine.apiVersion}), ${engine.cpus} CPUs, ${formatBytes(engine.memoryBytes)}`);
    if (engine.architecture !== 'amd64' && engine.architecture !== 'x86_64')
      throw new CliError('engine_failed', `the engine runs ${engine.os}/${engine.architecture}`, {
        hint: 'libvosk from the vosk npm package exists only for linux x86-64: deploy on an x86-64 host',
      });

    const capacity = await ctx.deployment.checkEnvironment({ engine, warnings: ctx.warnings, say });
    await checkTargetUnchanged(ctx);
    await checkPorts(ctx);
    say(`ports ${publishedPorts(config)} are free or held by this deployment${ctx.deployment.portsCheckedHere ?? ''}`);

    let modelBytes = 0;
    let toDownload = 0;
    for (const model of config.models) {
      const known = model.catalogName ? catalogModel(model.catalogName) : undefined;
      const onDisk = await directorySize(model.hostDir).catch(() => undefined);
      if (known && onDisk === undefined) toDownload += known.zipBytes + known.diskBytes;
      const size = known?.memoryBytes ?? onDisk ?? 0;
      modelBytes += size;
      if (size > BIG_MODEL_BYTES)
        ctx.warnings.push(
          `the ${model.language} model needs about ${formatBytes(size)} of memory per app container, twice that during a blue/green swap: make sure the host has it`,
        );
    }
    if (toDownload > 0) {
      await mkdir(config.modelsDir, { recursive: true });
      const free = await freeBytes(config.modelsDir);
      if (free < toDownload)
        throw new CliError(
          'environment_unfit',
          `the models to download need about ${formatBytes(toDownload)} in ${config.modelsDir}, only ${formatBytes(free)} is free: free space or set --models-dir`,
        );
      say(`disk: ${formatBytes(free)} free in ${config.modelsDir} for ${formatBytes(toDownload)} of models to download`);
    }
    const need = modelBytes + SERVER_OVERHEAD_BYTES;
    const budget = config.memoryBytes ?? engine.memoryBytes;
    if (config.memoryBytes !== undefined && need > config.memoryBytes)
      throw new CliError(
        'environment_unfit',
        `the models need about ${formatBytes(need)} of memory but --memory is ${formatBytes(config.memoryBytes)}: raise --memory or choose smaller models`,
      );
    // Blue/green runs old and new side by side; a Swarm rolling update runs one extra task.
    capacity.checkMemory(need);
    // Without --memory, a limit with room for sessions: one session must not be able to take the host.
    const memoryBytes = config.memoryBytes ?? Math.min(engine.memoryBytes, Math.max(DEFAULT_MEMORY_FLOOR_BYTES, 2 * need));
    if (config.memoryBytes === undefined) {
      const limit = memoryBytes;
      say(
        `memory: about ${formatBytes(need)} per app container; limit ${formatBytes(limit)} (twice that, at least 1 GiB; --memory to choose)`,
      );
    } else {
      say(`memory: about ${formatBytes(need)} per app container (limit ${formatBytes(budget)})`);
    }

    if (engineIsLocal()) {
      const disk = await statfs(engine.rootDir).catch(() => undefined);
      const free = disk ? disk.bavail * disk.bsize : undefined;
      if (free !== undefined && free < MIN_FREE_DISK_BYTES)
        throw new CliError(
          'environment_unfit',
          `only ${formatBytes(free)} free under ${engine.rootDir}: an image build needs about ${formatBytes(MIN_FREE_DISK_BYTES)} (free space, or run asrctl cleanup)`,
        );
    }

    // A restart reuses the running images: no base image is needed.
    if (ctx.reusesImages) {
      ctx.environment = { memoryBytes, baseImage: config.baseImage, edgeBaseImage: config.edgeBaseImage };
      return;
    }
    // A default base that cannot be pulled gives way to the one `asrctl base-image build` made.
    const baseImage = await ensureBaseImage(docker, config.baseImage, say);
    const edgeBaseImage = ctx.deployment.edge ? await ensureBaseImage(docker, config.edgeBaseImage, say) : config.edgeBaseImage;
    const standIns = [
      [config.baseImage, baseImage],
      [config.edgeBaseImage, edgeBaseImage],
    ].flatMap(([wanted, used]) => (wanted === used ? [] : [`${used} for ${wanted}`]));
    if (standIns.length > 0)
      ctx.warnings.push(`built on ${standIns.join(' and ')}, which cannot be pulled here (asrctl base-image build made them)`);
    ctx.environment = { memoryBytes, baseImage, edgeBaseImage };
    say(`base images present: ${ctx.deployment.edge ? `${baseImage}, ${edgeBaseImage}` : baseImage}`);
  },
};

/**
 * The files the options name, checked before anything stops: found only once the new app or edge
 * starts, a missing one failed the deploy after what served had stopped (and Docker made a
 * directory where a tokens file was missing). What the app reads from the engine's host (the
 * tokens file, bind-mounted models) must be readable by its user, uid 1000, not only by the one
 * deploying; that is checked when the engine's host is this one.
 */
async function checkFilesGiven(ctx: DeployContext): Promise<void> {
  const { config } = ctx;
  const local = engineIsLocal();
  const problems: string[] = [];
  const regular = async (option: string, path: string): Promise<boolean> => {
    const file = await stat(path).catch(() => undefined);
    // A FIFO or device would block the read (and the deploy) for good.
    if (file && !file.isFile()) problems.push(`${option}: ${path} is not a regular file`);
    return !file || file.isFile();
  };
  if (config.tls && (await regular('--tls-cert', config.tls.certPath)) && (await regular('--tls-key', config.tls.keyPath)))
    problems.push(...tlsPairProblems(config.tls.certPath, config.tls.keyPath).map((p) => `--tls-cert/--tls-key: ${p}`));
  if (config.tokensFile !== undefined && local && (await regular('--tokens-file', config.tokensFile))) {
    const unreadable = tokensFileProblems(config.tokensFile);
    problems.push(...unreadable.map((p) => `--tokens-file: ${p}`));
    if (unreadable.length === 0) problems.push(...(await unreadableByApp('--tokens-file', config.tokensFile)));
  }
  const { verifyWav } = config;
  if (verifyWav !== undefined && (await regular('--verify-wav', verifyWav)))
    await readWavFile(verifyWav).then(
      (wav) => {
        const rate = unsupportedRate(verifyWav, wav);
        if (rate) problems.push(`--verify-wav: ${rate}`);
      },
      (err: unknown) => problems.push(`--verify-wav: ${(err as Error).message}`),
    );
  // Models travel inside the image with a registry (Swarm); else the app reads them where they are.
  if (local && config.registry === undefined)
    for (const model of config.models)
      if (await stat(model.hostDir).catch(() => undefined)) problems.push(...(await unreadableByApp('--model', model.hostDir)));
  if (problems.length > 0)
    throw new CliError('invalid_deploy_config', `files the deployment needs cannot be used:\n  - ${problems.join('\n  - ')}`, {
      hint: 'fix the files or the options naming them; nothing was changed',
      exitCode: 2,
    });
}

/** The app's user in its image (docker/Dockerfile: USER 1000:1000). */
const APP_UID = 1000;

/**
 * What under `path` the app's user could not read (a directory it could not list), first few
 * named: root deploying reads everything, the app does not (a 0600 tokens file, a 0700 model).
 */
async function unreadableByApp(option: string, path: string): Promise<string[]> {
  const refused: string[] = [];
  const readable = (mode: number, uid: number, gid: number, bits: number): boolean =>
    (uid === APP_UID && (mode & (bits << 6)) === bits << 6) ||
    (gid === APP_UID && (mode & (bits << 3)) === bits << 3) ||
    (mode & bits) === bits;
  // The path itself may be a link; links inside are not followed (no loops; the app reads them in
  // the container, where a link out of the directory leads nowhere anyway).
  const walk = async (p: string, top: boolean): Promise<void> => {
    if (refused.length >= 3) return;
    const s = await (top ? stat(p) : lstat(p)).catch(() => undefined);
    if (!s || s.isSymbolicLink()) return;
    if (s.isDirectory()) {
      if (!readable(s.mode, s.uid, s.gid, 5)) refused.push(p);
      else for (const entry of await readdir(p).catch(() => [])) await walk(join(p, entry), false);
    } else if (!readable(s.mode, s.uid, s.gid, 4)) refused.push(p);
  };
  await walk(path, true);
  return refused.map(
    (p) =>
      `${option}: ${p} cannot be read by the app, which runs as uid ${APP_UID} (make it readable: chown -R ${APP_UID} ${path}, or chmod -R a+rX ${path})`,
  );
}

/** A project runs on one target at a time: switching means stopping it first. */
async function checkTargetUnchanged(ctx: DeployContext): Promise<void> {
  const { docker, names } = ctx;
  const flag = names.project === 'asrctl' ? '' : ` --project ${names.project}`;
  for (const other of TARGETS) {
    if (other === ctx.target || !(await other.isDeployed(docker, names))) continue;
    throw new CliError('environment_unfit', `"${names.project}" runs as ${other.runsAs}`, {
      hint: `deploy with --target ${other.name}, or asrctl stop${flag} first (clients see an outage), or deploy this one under another --project`,
    });
  }
}

function engineIsLocal(): boolean {
  const host = process.env.DOCKER_HOST;
  return !host || host.startsWith('unix://');
}

/** Every port the deployment publishes is free, or published by this deployment already. */
async function checkPorts(ctx: DeployContext): Promise<void> {
  const { config } = ctx;
  const ports: Array<[port: number, flag: string]> = [
    [config.port, '--port'],
    ...(Object.entries(config.protocolPorts) as Array<[string, number]>).map(([protocol, port]): [number, string] => [
      port,
      `--${protocol}-port`,
    ]),
  ];
  const running = await runningContainers(ctx.docker);
  for (const [port, flag] of ports) await checkPort(ctx, running, port, flag);
}

async function checkPort(ctx: DeployContext, running: PublishingContainer[], port: number, flag: string): Promise<void> {
  const { config, names } = ctx;
  for (const c of running) {
    if (!c.tcpHostPorts.includes(port)) continue;
    if (c.labels[LABELS.project] === names.project) return;
    throw new CliError(
      'environment_unfit',
      `port ${port} is published by container ${c.name} (${c.image}), which is not part of deployment "${names.project}"`,
      { hint: `stop it, or deploy with ${flag} N (nothing was stopped)` },
    );
  }
  if (!engineIsLocal()) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new CliError(
              'environment_unfit',
              `port ${port} on ${config.bindAddress} is in use by a process on this host (not a container)`,
              { hint: `find it with \`ss -ltnp 'sport = :${port}'\`, stop it or deploy with ${flag} N (nothing was stopped)` },
            )
          : err,
      ),
    );
    probe.listen({ port, host: config.bindAddress, exclusive: true }, () => probe.close(() => resolve()));
  });
}
