import { PassThrough } from 'node:stream';
import { SERVER_OPTIONS, envAssignments } from '@asrctl/server';
import type Docker from 'dockerode';
import { type ContainerFacts, inspectContainer, stopAndRemove } from '../../docker/containers.js';
import { engineMessage } from '../../docker/engine.js';
import { copyLogs } from '../../docker/logs.js';
import type { Color } from '../../edge/haproxy-config.js';
import { type DeployConfig, modelPath } from '../../deployment/deploy-config.js';
import { type DeploymentNames, LABELS, labelsFor } from '../../deployment/deployment-names.js';
import { countOf } from '../../text/count-of.js';

export const APP_PORT = 8765;
/** Where the tokens file appears in the app container. */
const TOKENS_PATH = '/run/asrctl/tokens';

/** Inside the containers, each foreign protocol listens on its customary port. */
export const PROTOCOL_PORTS = { vosk: 2700, funasr: 10095 } as const;

/** The deployment's enabled protocol ports: container port to host port. */
export function protocolPortMap(config: DeployConfig): Array<{ protocol: 'vosk' | 'funasr'; inside: number; host: number }> {
  return (Object.entries(config.protocolPorts) as Array<['vosk' | 'funasr', number]>).map(([protocol, host]) => ({
    protocol,
    inside: PROTOCOL_PORTS[protocol],
    host,
  }));
}
/** The app server's settings, as environment variables (names from the server's option table). */
export function appEnvironment(
  config: DeployConfig,
  options: {
    behindEdge: boolean;
    tokensPath: string;
    sessionDrainSeconds?: number;
    /** Client ranges the app itself admits (recreate: no edge to apply `--allow`). */
    allowIps?: readonly string[];
  },
): string[] {
  const ports = Object.fromEntries(protocolPortMap(config).map((p) => [`${p.protocol}Port`, String(p.inside)]));
  return [
    // A language's models in order, comma-separated (the first is its default).
    ...[...new Set(config.models.map((m) => m.language))].map(
      (language) =>
        `ASR_MODEL_${language.toUpperCase()}=${config.models
          .filter((m) => m.language === language)
          .map(modelPath)
          .join(',')}`,
    ),
    ...envAssignments(SERVER_OPTIONS, {
      defaultLanguage: config.defaultLanguage,
      shutdownTimeout: String(SERVER_SHUTDOWN_MS),
      ...(options.sessionDrainSeconds && { sessionDrain: String(options.sessionDrainSeconds * 1000) }),
      ...ports,
      ...(config.tokensFile !== undefined && { tokensFile: options.tokensPath }),
      ...(options.allowIps?.length && { allowIp: [...options.allowIps] }),
      // Behind the edge every connection comes from it; its X-Forwarded-For names the client.
      trustProxy: String(options.behindEdge),
    }),
  ];
}

/** The server's own shutdown budget after SIGTERM: flush finals, close sessions with 1012. */
const SERVER_SHUTDOWN_MS = 10_000;
/** docker stop waits this long after SIGTERM before SIGKILL. */
export const APP_STOP_GRACE_SECONDS = SERVER_SHUTDOWN_MS / 1000 + 5;

export class AppStartError extends Error {
  override readonly name = 'AppStartError';
}

export interface AppContainerRequest {
  color: Color;
  image: string;
  labels: Record<string, string>;
  /** recreate: the app itself holds the public port. blue-green: only a loopback port for probes. */
  publishPublicPort: boolean;
}

/**
 * Creates and starts one app container of a colour (replacing a leftover of that colour), and
 * waits until Docker's health check (GET /readyz) passes: every model loaded.
 */
export async function startAppContainer(
  docker: Docker,
  config: DeployConfig,
  names: DeploymentNames,
  request: AppContainerRequest,
  timeoutMs = 300_000,
): Promise<ContainerFacts> {
  const name = names.app(request.color);
  await stopAndRemove(docker, name, 0);
  const port = `${APP_PORT}/tcp`;
  const container = await docker.createContainer({
    name,
    Image: request.image,
    // Without an edge the app applies --allow itself: Docker's published ports keep the client's address.
    Env: appEnvironment(config, {
      behindEdge: !request.publishPublicPort,
      tokensPath: TOKENS_PATH,
      ...(request.publishPublicPort && { allowIps: config.allow }),
    }),
    Labels: labelsFor(names.project, 'app', {
      ...request.labels,
      [LABELS.color]: request.color,
      [LABELS.composeNumber]: request.color === 'blue' ? '1' : '2',
    }),
    ExposedPorts: Object.fromEntries([port, ...protocolPortMap(config).map((p) => `${p.inside}/tcp`)].map((p) => [p, {}])),
    StopTimeout: APP_STOP_GRACE_SECONDS,
    HostConfig: {
      Binds: [
        ...config.models.map((m) => `${m.hostDir}:${modelPath(m)}:ro`),
        ...(config.tokensFile !== undefined ? [`${config.tokensFile}:${TOKENS_PATH}:ro`] : []),
      ],
      PortBindings: {
        [port]: [
          request.publishPublicPort ? { HostIp: config.bindAddress, HostPort: String(config.port) } : { HostIp: '127.0.0.1', HostPort: '' },
        ],
        // Without an edge (recreate), the app publishes the protocol ports itself.
        ...(request.publishPublicPort &&
          Object.fromEntries(
            protocolPortMap(config).map((p) => [`${p.inside}/tcp`, [{ HostIp: config.bindAddress, HostPort: String(p.host) }]]),
          )),
      },
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: names.network,
      // Hardened: nothing in the image can change (the server's only writes, libvosk's start-up log
      // capture, go to a tmpfs), no capabilities, no privilege gain, a bounded number of processes.
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,noexec,size=64m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      PidsLimit: 256,
      ...(config.memoryBytes !== undefined && { Memory: config.memoryBytes }),
      ...(config.cpus !== undefined && { NanoCpus: Math.round(config.cpus * 1e9) }),
      ...(config.gpus !== undefined && { DeviceRequests: [gpuRequest(config.gpus)] }),
    },
    NetworkingConfig: { EndpointsConfig: { [names.network]: { Aliases: [names.appAlias(request.color)] } } },
  });
  try {
    await container.start();
  } catch (err) {
    await stopAndRemove(docker, name, 0);
    const message = engineMessage(err);
    if (config.gpus !== undefined && /device driver|gpu/iu.test(message))
      throw new AppStartError(
        `the engine cannot give ${name} a GPU (--gpus ${config.gpus}): ${message}\n  hint: install the NVIDIA container toolkit on this host, or deploy without --gpus (the container was removed)`,
      );
    if (/executable file not found|no such file or directory/iu.test(message))
      throw new AppStartError(
        `starting ${name} failed: the image cannot run node (${message})\n  hint: build on a base image with Node.js 20 or later on glibc: --base-image node:20-bookworm-slim, or asrctl/node-base:<version> from asrctl base-image build`,
      );
    throw new AppStartError(
      `starting ${name} failed: ${message}\n  hint: asrctl logs shows what the container said; asrctl status what runs`,
    );
  }
  return waitUntilHealthy(docker, name, timeoutMs);
}

function gpuRequest(gpus: string): Docker.DeviceRequest {
  if (gpus === 'all') return { Driver: '', Count: -1, Capabilities: [['gpu']] };
  if (/^\d+$/u.test(gpus)) return { Driver: '', Count: Number(gpus), Capabilities: [['gpu']] };
  return { Driver: '', DeviceIDs: gpus.replace(/^device=/u, '').split(','), Capabilities: [['gpu']] };
}

/** Polls Docker's health status; an exit, a restart or "unhealthy" fails with the app's last log lines. */
export async function waitUntilHealthy(docker: Docker, name: string, timeoutMs: number): Promise<ContainerFacts> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const facts = await inspectContainer(docker, name);
    if (!facts) throw new AppStartError(`${name} disappeared while starting`);
    if (facts.state === 'running' && facts.health === 'healthy') return facts;
    const failed = facts.state === 'exited' || facts.state === 'dead' || facts.restartCount > 0 || facts.health === 'unhealthy';
    if (failed || Date.now() > deadline) {
      const why = failed
        ? `${name} failed to start (${facts.state}${facts.restartCount > 0 ? `, restarted ${countOf(facts.restartCount, 'time')}` : ''}${facts.exitCode ? `, exit code ${facts.exitCode}` : ''}, health ${facts.health}${facts.healthLog ? `: ${facts.healthLog}` : ''})`
        : `${name} was not ready within ${Math.round(timeoutMs / 1000)} s (health ${facts.health})`;
      throw new AppStartError(`${why}\n  its last log lines:\n${await logTail(docker, name, 15)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function logTail(docker: Docker, name: string, lines: number): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (b: Buffer) => chunks.push(b));
  await copyLogs(docker, name, { follow: false, tail: lines }, sink, sink).catch(() => undefined);
  return Buffer.concat(chunks)
    .toString('utf8')
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
