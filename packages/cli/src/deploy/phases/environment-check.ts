import { createServer } from 'node:net';
import { mkdir, statfs } from 'node:fs/promises';
import { engineFacts, EngineError } from '../../docker/engine.js';
import { ensureBaseImage } from '../../images/base-image-availability.js';
import { directorySize, formatBytes, freeBytes } from '../../models/disk.js';
import { catalogModel } from '../../models/model-catalog.js';
import { LABELS } from '../../deployment/deployment-names.js';
import { publishedPorts } from '../../targets/docker/edge-container.js';
import { checkSwarm } from '../../targets/swarm/swarm-check.js';
import { isSwarmDeployment } from '../../targets/swarm/swarm-operations.js';
import { findContainers } from '../../docker/containers.js';
import { SWARM_LABELS } from '../../docker/swarm.js';
import type Docker from 'dockerode';
import type { DeployContext, DeployPhase } from '../deploy-context.js';
import { countOf } from '../../text/count-of.js';

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** Models loaded in memory take about their size on disk; the server and recognizers add this. */
const SERVER_OVERHEAD_BYTES = 300 * 1024 ** 2;
const BIG_MODEL_BYTES = 1024 ** 3;
const MIN_FREE_DISK_BYTES = 2 * 1024 ** 3;
const DEFAULT_MEMORY_FLOOR_BYTES = 1024 ** 3;

/** Phase 1: can this engine and host run the deployment as configured? Nothing is changed. */
export const environmentCheck: DeployPhase = {
  title: 'Environment check',
  async run(ctx, say) {
    const { docker, config } = ctx;
    const engine = await engineFacts(docker);
    say(`Docker engine ${engine.version} (API ${engine.apiVersion}), ${engine.cpus} CPUs, ${formatBytes(engine.memoryBytes)}`);
    if (engine.architecture !== 'amd64' && engine.architecture !== 'x86_64')
      throw new EngineError(
        `the engine runs ${engine.os}/${engine.architecture}`,
        'libvosk from the vosk npm package exists only for linux x86-64: deploy on an x86-64 host',
      );

    const swarm = config.target === 'swarm' ? await checkSwarm(ctx, say) : undefined;
    await checkTargetUnchanged(ctx);
    await checkPorts(ctx);
    say(`ports ${publishedPorts(config)} are free or held by this deployment`);

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
        throw new EnvironmentError(
          `the models to download need about ${formatBytes(toDownload)} in ${config.modelsDir}, only ${formatBytes(free)} is free: free space or set --models-dir`,
        );
      say(`disk: ${formatBytes(free)} free in ${config.modelsDir} for ${formatBytes(toDownload)} of models to download`);
    }
    const need = modelBytes + SERVER_OVERHEAD_BYTES;
    const budget = config.memoryBytes ?? engine.memoryBytes;
    // Blue/green runs old and new side by side; a Swarm rolling update runs one extra task.
    const during = ctx.strategy.name === 'recreate' ? need : 2 * need;
    if (config.memoryBytes !== undefined && need > config.memoryBytes)
      throw new EnvironmentError(
        `the models need about ${formatBytes(need)} of memory but --memory is ${formatBytes(config.memoryBytes)}: raise --memory or choose smaller models`,
      );
    if (swarm && swarm.memoryBytes < need * (swarm.replicas + 1))
      throw new EnvironmentError(
        `the Swarm's ready nodes have ${formatBytes(swarm.memoryBytes)} of memory; ${countOf(swarm.replicas, 'replica')} and a rolling update's extra task need about ${formatBytes(need * (swarm.replicas + 1))}: fewer --replicas, smaller models, or more nodes`,
      );
    if (!swarm && during > engine.memoryBytes)
      throw new EnvironmentError(
        `the engine host has ${formatBytes(engine.memoryBytes)} of memory; this deploy needs about ${formatBytes(during)}${ctx.strategy.name === 'blue-green' ? ' (old and new app side by side)' : ''}: choose smaller models or --strategy recreate`,
      );
    if (config.memoryBytes === undefined) {
      // Without --memory, a limit with room for sessions: one session must not be able to take the host.
      const limit = Math.min(engine.memoryBytes, Math.max(DEFAULT_MEMORY_FLOOR_BYTES, 2 * need));
      ctx.config = { ...config, memoryBytes: limit };
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
        throw new EnvironmentError(
          `only ${formatBytes(free)} free under ${engine.rootDir}: an image build needs about ${formatBytes(MIN_FREE_DISK_BYTES)} (free space, or run asrctl cleanup)`,
        );
    }

    // A restart reuses the running images: no base image is needed.
    if (ctx.reusesImages) return;
    // A default base that cannot be pulled gives way to the one `asrctl base-image build` made.
    const baseImage = await ensureBaseImage(docker, config.baseImage, say);
    const edgeBaseImage =
      ctx.strategy.name === 'recreate' ? config.edgeBaseImage : await ensureBaseImage(docker, config.edgeBaseImage, say);
    const standIns = [
      [config.baseImage, baseImage],
      [config.edgeBaseImage, edgeBaseImage],
    ].flatMap(([wanted, used]) => (wanted === used ? [] : [`${used} for ${wanted}`]));
    if (standIns.length > 0)
      ctx.warnings.push(`built on ${standIns.join(' and ')}, which cannot be pulled here (asrctl base-image build made them)`);
    ctx.config = { ...ctx.config, baseImage, edgeBaseImage };
    say(`base images present: ${ctx.strategy.name === 'recreate' ? baseImage : `${baseImage}, ${edgeBaseImage}`}`);
  },
};

/** A project runs either as containers or as Swarm services: switching means stopping it first. */
async function checkTargetUnchanged(ctx: DeployContext): Promise<void> {
  const { docker, config, names } = ctx;
  const flag = names.project === 'asrctl' ? '' : ` --project ${names.project}`;
  if (config.target === 'swarm') {
    const containers = await findContainers(docker, { [LABELS.project]: names.project });
    if (containers.some((c) => c.labels[LABELS.role] !== 'lock' && c.labels[SWARM_LABELS.task] === undefined))
      throw new EnvironmentError(
        `"${names.project}" runs as containers on this engine (--target docker)\n  hint: asrctl stop${flag} first (clients see an outage), or deploy the Swarm one under another --project`,
      );
  } else if (await isSwarmDeployment(docker, names)) {
    throw new EnvironmentError(
      `"${names.project}" runs as Swarm services\n  hint: deploy with --target swarm, or asrctl stop${flag} first (clients see an outage)`,
    );
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
  const running = await ctx.docker.listContainers({});
  for (const [port, flag] of ports) await checkPort(ctx, running, port, flag);
}

async function checkPort(ctx: DeployContext, running: Docker.ContainerInfo[], port: number, flag: string): Promise<void> {
  const { config, names } = ctx;
  for (const c of running) {
    if (!c.Ports.some((p) => p.PublicPort === port && p.Type === 'tcp')) continue;
    if (c.Labels[LABELS.project] === names.project) return;
    const name = c.Names[0]?.replace(/^\//u, '') ?? c.Id.slice(0, 12);
    throw new EnvironmentError(
      `port ${port} is published by container ${name} (${c.Image}), which is not part of deployment "${names.project}"\n  hint: stop it, or deploy with ${flag} N (nothing was stopped)`,
    );
  }
  if (!engineIsLocal()) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new EnvironmentError(
              `port ${port} on ${config.bindAddress} is in use by a process on this host (not a container)\n  hint: find it with \`ss -ltnp 'sport = :${port}'\`, stop it or deploy with ${flag} N (nothing was stopped)`,
            )
          : err,
      ),
    );
    probe.listen({ port, host: config.bindAddress, exclusive: true }, () => probe.close(() => resolve()));
  });
}
