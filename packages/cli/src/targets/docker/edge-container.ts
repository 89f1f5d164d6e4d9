import { pollUntil } from '@asrctl/server';
import type Docker from 'dockerode';
import { CliError } from '../../cli-error.js';
import {
  createContainer,
  execIn,
  inspectContainer,
  putFile,
  signalContainer,
  startContainer,
  stopAndRemove,
} from '../../docker/containers.js';
import { engineMessage } from '../../docker/engine.js';
import { inspectImage } from '../../docker/images.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { type DeploymentNames, LABELS } from '../../deployment/deployment-names.js';
import { tlsPem } from '../../deployment/edge-tls.js';
import { publishedPorts } from '../../deployment/ports.js';
import { appServerStates, waitUntilEdgeSeesUp } from '../../edge/edge-runtime.js';
import { type Color, EDGE_CONFIG_PATH, EDGE_TLS_PATH } from '../../edge/haproxy-config.js';
import { logTail } from './app-container.js';
import { type EdgeFiles, edgeContainerSpec, edgeFiles } from './edge-container-spec.js';

/** The edge as a deploy found it, so a failed deploy can put its settings back. */
export interface EdgeBefore {
  /** haproxy.cfg and the TLS PEM before this deploy changed them; undefined when the edge was (re)created. */
  previous?: EdgeFiles;
}

/**
 * Makes sure the edge runs with the current settings and `active` colour: created and started if
 * missing, its config rewritten and reloaded (old workers keep their sessions) if it changed.
 */
export async function ensureEdge(
  docker: Docker,
  config: DeployConfig,
  names: DeploymentNames,
  image: string,
  active: Color,
  say: (line: string) => void,
): Promise<EdgeBefore> {
  const files = edgeFiles(config, names, active, await tlsPem(config));
  const existing = await inspectContainer(docker, names.edge);
  const imageId = (await inspectImage(docker, image))?.id;
  if (!imageId) throw new CliError('edge_start_failed', `the edge image ${image} is not on this engine`);
  const publishedAs = publishedPorts(config);
  if (existing && existing.state === 'running' && existing.imageId === imageId && existing.labels[LABELS.port] === publishedAs) {
    const current = await execIn(docker, names.edge, ['cat', EDGE_CONFIG_PATH]);
    if (current.stdout !== files.config) {
      say('edge settings changed: reloading HAProxy (open sessions stay on the old workers)');
      const pem = await execIn(docker, names.edge, ['cat', EDGE_TLS_PATH]);
      await writeEdgeFiles(docker, names.edge, files);
      await reloadEdge(docker, names.edge);
      return { previous: { config: current.stdout, ...(pem.exitCode === 0 && { pem: pem.stdout }) } };
    }
    return {};
  }
  if (existing) {
    say(`replacing the edge container (${existing.state}, or its image or port changed)`);
    await stopAndRemove(docker, names.edge, config.drainTimeoutSeconds);
  }
  await createContainer(docker, edgeContainerSpec(config, names, image));
  await writeEdgeFiles(docker, names.edge, files);
  try {
    await startContainer(docker, names.edge);
  } catch (err) {
    await stopAndRemove(docker, names.edge, 0);
    throw new CliError('edge_start_failed', `starting the edge on ${publishedAs} failed: ${engineMessage(err)}`);
  }
  await waitForRuntimeApi(docker, names.edge);
  return {};
}

/**
 * Starts an edge a switch to recreate stopped (kept), once its app runs again: it routes as its
 * haproxy.cfg says (`active`), and is back when it sees that app up.
 */
export async function startStoppedEdge(docker: Docker, names: DeploymentNames, active: Color): Promise<void> {
  await startContainer(docker, names.edge);
  await waitForRuntimeApi(docker, names.edge);
  await waitUntilEdgeSeesUp(docker, names.edge, active, 30_000);
}

/** Puts back the config and certificate a failed deploy replaced. */
export async function restoreEdge(docker: Docker, names: DeploymentNames, before: EdgeBefore): Promise<void> {
  if (before.previous === undefined) return;
  await writeEdgeFiles(docker, names.edge, before.previous);
  await reloadEdge(docker, names.edge);
}

/** SIGUSR2 to HAProxy's master: new workers with the file's config; old ones finish their sessions. */
async function reloadEdge(docker: Docker, edge: string): Promise<void> {
  await signalContainer(docker, edge, 'SIGUSR2');
  await waitForRuntimeApi(docker, edge);
}

/** Rewrites haproxy.cfg (after a switch) so that a restarted edge routes the same way; no reload. */
export async function recordActiveColor(docker: Docker, config: DeployConfig, names: DeploymentNames, active: Color): Promise<void> {
  await writeEdgeFiles(docker, names.edge, edgeFiles(config, names, active, await tlsPem(config)));
}

async function writeEdgeFiles(docker: Docker, edge: string, files: EdgeFiles): Promise<void> {
  if (files.pem !== undefined) await putFile(docker, edge, EDGE_TLS_PATH, files.pem, 0o600);
  await putFile(docker, edge, EDGE_CONFIG_PATH, files.config);
}

async function waitForRuntimeApi(docker: Docker, edge: string, timeoutMs = 15_000): Promise<void> {
  // An edge that stopped running will not come up: say so at once, with its last log lines.
  const failure = async (err: unknown): Promise<Error> =>
    new CliError(
      'edge_start_failed',
      `the edge (HAProxy) did not come up: ${(err as Error).message}\n  its last log lines:\n${await logTail(docker, edge, 15)}`,
    );
  await pollUntil(
    async () => {
      try {
        await appServerStates(docker, edge);
        return undefined;
      } catch (err) {
        if ((await inspectContainer(docker, edge))?.state !== 'running') throw await failure(err);
        return err;
      }
    },
    (err) => err === undefined,
    { what: "the edge's runtime API", timeoutMs, intervalMs: 250, timeoutError: (_message, err) => failure(err) },
  );
}
