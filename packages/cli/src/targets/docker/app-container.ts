import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { type ContainerFacts, createContainer, inspectContainer, startContainer, stopAndRemove } from '../../docker/containers.js';
import { engineMessage } from '../../docker/engine.js';
import { copyLogs } from '../../docker/logs.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import type { DeploymentNames } from '../../deployment/deployment-names.js';
import { type AppContainerRequest, appContainerSpec } from './app-container-spec.js';
import { countOf } from '../../text/count-of.js';

export class AppStartError extends Error {
  override readonly name = 'AppStartError';
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
  await createContainer(docker, appContainerSpec(config, names, request));
  try {
    await startContainer(docker, name);
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
