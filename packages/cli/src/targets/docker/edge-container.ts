import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type Docker from 'dockerode';
import { execIn, inspectContainer, putFile, stopAndRemove } from '../../docker/containers.js';
import { engineMessage } from '../../docker/engine.js';
import { appServerStates } from '../../edge/edge-runtime.js';
import { type Color, EDGE_CONFIG_PATH, EDGE_TLS_PATH, type EdgeSettings, renderHaproxyConfig } from '../../edge/haproxy-config.js';
import { APP_PORT, logTail, protocolPortMap } from './app-container.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { type DeploymentNames, LABELS, labelsFor } from '../../deployment/deployment-names.js';

export class EdgeStartError extends Error {
  override readonly name = 'EdgeStartError';
}

/** The edge listens here inside its container, whatever the public port. */
export const EDGE_PORT = 8765;

/** What the edge container holds: haproxy.cfg and, with TLS, the PEM (certificate, then key). */
interface EdgeFiles {
  config: string;
  pem?: string;
}

/** HAProxy's PEM with TLS: the certificate, then the key. */
export async function tlsPem(config: DeployConfig): Promise<string | undefined> {
  return config.tls
    ? `${(await readFile(config.tls.certPath, 'utf8')).trimEnd()}\n${(await readFile(config.tls.keyPath, 'utf8')).trimEnd()}\n`
    : undefined;
}

async function edgeFiles(config: DeployConfig, names: DeploymentNames, active: Color): Promise<EdgeFiles> {
  const pem = await tlsPem(config);
  const settings: EdgeSettings = {
    listenPort: EDGE_PORT,
    upstream: { kind: 'colors', hosts: { blue: names.appAlias('blue'), green: names.appAlias('green') }, active },
    appPort: APP_PORT,
    protocolPorts: Object.fromEntries(protocolPortMap(config).map((p) => [p.protocol, p.inside])),
    ...(pem !== undefined && { tls: { pemPath: EDGE_TLS_PATH, sha256: createHash('sha256').update(pem).digest('hex') } }),
    allow: config.allow,
    drainTimeoutSeconds: config.drainTimeoutSeconds,
  };
  return { config: renderHaproxyConfig(settings), ...(pem !== undefined && { pem }) };
}

/** What the deployment publishes, as its label records it: "ADDR:PORT" plus ",vosk=N,funasr=N". */
export function publishedPorts(config: DeployConfig): string {
  return [`${config.bindAddress}:${config.port}`, ...protocolPortMap(config).map((p) => `${p.protocol}=${p.host}`)].join(',');
}

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
  const files = await edgeFiles(config, names, active);
  const existing = await inspectContainer(docker, names.edge);
  const imageId = (await docker.getImage(image).inspect()).Id;
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
  const port = `${EDGE_PORT}/tcp`;
  await docker.createContainer({
    name: names.edge,
    Image: image,
    Labels: labelsFor(names.project, 'edge', { [LABELS.port]: publishedAs, [LABELS.composeNumber]: '1' }),
    ExposedPorts: Object.fromEntries([port, ...protocolPortMap(config).map((p) => `${p.inside}/tcp`)].map((p) => [p, {}])),
    StopTimeout: config.drainTimeoutSeconds + 5,
    HostConfig: {
      PortBindings: {
        [port]: [{ HostIp: config.bindAddress, HostPort: String(config.port) }],
        ...Object.fromEntries(
          protocolPortMap(config).map((p) => [`${p.inside}/tcp`, [{ HostIp: config.bindAddress, HostPort: String(p.host) }]]),
        ),
      },
      RestartPolicy: { Name: 'unless-stopped' },
      NetworkMode: names.network,
      // HAProxy starts as root to read its certificate, then drops to its own user; its master must
      // signal workers of that user on reload (KILL). Nothing else. (Its config is written into the
      // container, so the root stays writable.)
      CapDrop: ['ALL'],
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges:true'],
      PidsLimit: 64,
    },
  });
  await writeEdgeFiles(docker, names.edge, files);
  try {
    await docker.getContainer(names.edge).start();
  } catch (err) {
    await stopAndRemove(docker, names.edge, 0);
    throw new EdgeStartError(`starting the edge on ${publishedAs} failed: ${engineMessage(err)}`);
  }
  await waitForRuntimeApi(docker, names.edge);
  return {};
}

/** Puts back the config and certificate a failed deploy replaced. */
export async function restoreEdge(docker: Docker, names: DeploymentNames, before: EdgeBefore): Promise<void> {
  if (before.previous === undefined) return;
  await writeEdgeFiles(docker, names.edge, before.previous);
  await reloadEdge(docker, names.edge);
}

/** SIGUSR2 to HAProxy's master: new workers with the file's config; old ones finish their sessions. */
async function reloadEdge(docker: Docker, edge: string): Promise<void> {
  await docker.getContainer(edge).kill({ signal: 'SIGUSR2' });
  await waitForRuntimeApi(docker, edge);
}

/** Rewrites haproxy.cfg (after a switch) so that a restarted edge routes the same way; no reload. */
export async function recordActiveColor(docker: Docker, config: DeployConfig, names: DeploymentNames, active: Color): Promise<void> {
  await writeEdgeFiles(docker, names.edge, await edgeFiles(config, names, active));
}

async function writeEdgeFiles(docker: Docker, edge: string, files: EdgeFiles): Promise<void> {
  if (files.pem !== undefined) await putFile(docker, edge, EDGE_TLS_PATH, files.pem, 0o600);
  await putFile(docker, edge, EDGE_CONFIG_PATH, files.config);
}

async function waitForRuntimeApi(docker: Docker, edge: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await appServerStates(docker, edge);
      return;
    } catch (err) {
      const facts = await inspectContainer(docker, edge);
      if (facts?.state !== 'running' || Date.now() > deadline) {
        throw new EdgeStartError(
          `the edge (HAProxy) did not come up: ${(err as Error).message}\n  its last log lines:\n${await logTail(docker, edge, 15)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
