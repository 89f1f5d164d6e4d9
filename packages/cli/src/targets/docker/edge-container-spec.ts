import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { type DeploymentNames, LABELS, labelsFor } from '../../deployment/deployment-names.js';
import { APP_PORT, EDGE_PORT, protocolPortMap, publishedPorts } from '../../deployment/ports.js';
import { type Color, EDGE_TLS_PATH, type EdgeSettings, renderHaproxyConfig } from '../../edge/haproxy-config.js';

/** What the edge container holds: haproxy.cfg and, with TLS, the PEM (certificate, then key). */
export interface EdgeFiles {
  config: string;
  pem?: string;
}

/** haproxy.cfg routing new connections to `active`, and the PEM it reads (see tlsPem). */
export function edgeFiles(config: DeployConfig, names: DeploymentNames, active: Color, pem: string | undefined): EdgeFiles {
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

/**
 * The edge container (HAProxy holding the public ports) as the engine creates it. Plain data;
 * ensureEdge runs it and writes its files in.
 */
export function edgeContainerSpec(config: DeployConfig, names: DeploymentNames, image: string): Docker.ContainerCreateOptions {
  const port = `${EDGE_PORT}/tcp`;
  return {
    name: names.edge,
    Image: image,
    Labels: labelsFor(names.project, 'edge', { [LABELS.port]: publishedPorts(config), [LABELS.composeNumber]: '1' }),
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
  };
}
