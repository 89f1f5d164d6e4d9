import { PassThrough } from 'node:stream';
import { pollUntil } from '@asrctl/server';
import type Docker from 'dockerode';
import { CliError } from '../../cli-error.js';
import { type ContainerFacts, createContainer, inspectContainer, startContainer, stopAndRemove } from '../../docker/containers.js';
import { engineMessage } from '../../docker/engine.js';
import { copyLogs } from '../../docker/logs.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import type { DeploymentNames } from '../../deployment/deployment-names.js';
import { type AppContainerRequest, appContainerSpec } from './app-container-spec.js';
import { countOf } from '../../text/count-of.js';

/**
 * Creates and starts one app container of a colour (replacing a leftover of that colour), and
 * waits until Docker's health check (GET /readyz) passes: every model loaded. An aborted `signal`
 * ends the wait with its reason; the container is left for the caller to remove.
 */
export async function startAppContainer(
  docker: Docker,
  config: DeployConfig,
  names: DeploymentNames,
  request: AppContainerRequest,
  { timeoutMs = 300_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ContainerFacts> {
  const name = names.app(request.color);
  await stopAndRemove(docker, name, 0);
  await createContainer(docker, appContainerSpec(config, names, request));
  try {
    await startContainer(docker, name);
  } catch (err) {
    await stopAndRemove(docker, name, 0);
    const message = engineMessage(err);
    if (config.gpus !== undefined && /device driver|gpu/iu.test(message))
      throw new CliError('app_start_failed', `the engine cannot give ${name} a GPU (--gpus ${config.gpus}): ${message}`, {
        hint: `install the NVIDIA container toolkit on this host, or deploy without --gpus (the container was removed)`,
      });
    if (/executable file not found|no such file or directory/iu.test(message))
      throw new CliError('app_start_failed', `starting ${name} failed: the image cannot run node (${message})`, {
        hint: `build on a base image with Node.js 20 or later on glibc: --base-image node:20-bookworm-slim, or asrctl/node-base:<version> from asrctl base-image build`,
      });
    throw new CliError('app_start_failed', `starting ${name} failed: ${message}`, {
      hint: `asrctl logs shows what the container said; asrctl status what runs`,
    });
  }
  return waitUntilHealthy(docker, name, timeoutMs, signal);
}

/**
 * Starts again what a swap stopped (kept) to let the new version take the public port. When it
 * cannot (another process took the port while it was free, say), nothing serves: the error says
 * so, naming what to start once the cause is gone. `before`: what the deploy did first.
 */
export async function startWhatServedAgain(
  config: DeployConfig,
  containers: readonly string[],
  start: () => Promise<void>,
  before: string,
): Promise<void> {
  try {
    await start();
  } catch (err) {
    const why = err instanceof CliError ? err.message : engineMessage(err);
    const portTaken = /address already in use|port is already allocated/iu.test(why);
    const docker = `docker start ${containers.join(' ')}`;
    throw new CliError(
      'restore_failed',
      `${before}, but ${containers.join(' and ')} could not start again, so nothing serves ${config.bindAddress}:${config.port}: ${why}`,
      {
        hint: portTaken
          ? `another process took the port while it was free: find it with \`ss -ltnp 'sport = :${config.port}'\`, stop it, then: ${docker}`
          : `asrctl logs shows what they said; start them with ${docker}, or deploy again`,
        cause: err,
      },
    );
  }
}

/** Starts an app container a swap stopped (kept) and waits until it is healthy again: its models reload. */
export async function startStoppedApp(docker: Docker, name: string): Promise<void> {
  await startContainer(docker, name);
  await waitUntilHealthy(docker, name, 300_000);
}

const isHealthy = (facts: ContainerFacts): boolean => facts.state === 'running' && facts.health === 'healthy';

/** Polls Docker's health status; an exit, a restart or "unhealthy" fails with the app's last log lines. */
async function waitUntilHealthy(docker: Docker, name: string, timeoutMs: number, signal?: AbortSignal): Promise<ContainerFacts> {
  const failure = async (why: string): Promise<Error> =>
    new CliError('app_start_failed', `${why}\n  its last log lines:\n${await logTail(docker, name, 15)}`);
  return pollUntil(
    async () => {
      const facts = await inspectContainer(docker, name);
      if (!facts) throw new CliError('app_start_failed', `${name} disappeared while starting`);
      if (isHealthy(facts)) return facts;
      if (facts.state === 'exited' || facts.state === 'dead' || facts.restartCount > 0 || facts.health === 'unhealthy') {
        throw await failure(
          `${name} failed to start (${facts.state}${facts.restartCount > 0 ? `, restarted ${countOf(facts.restartCount, 'time')}` : ''}${facts.exitCode ? `, exit code ${facts.exitCode}` : ''}, health ${facts.health}${facts.healthLog ? `: ${facts.healthLog}` : ''})`,
        );
      }
      return facts;
    },
    isHealthy,
    {
      what: `${name} to be healthy`,
      timeoutMs,
      intervalMs: 500,
      ...(signal && { signal }),
      timeoutError: (_message, facts) => failure(`${name} was not ready within ${Math.round(timeoutMs / 1000)} s (health ${facts.health})`),
    },
  );
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
