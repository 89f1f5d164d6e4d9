import { createHash } from 'node:crypto';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { MAX_REPLICAS } from './max-replicas.js';
import { type DeploymentNames, LABELS, labelsFor } from '../../deployment/deployment-names.js';
import { APP_PORT, EDGE_PORT, protocolPortMap, publishedPorts } from '../../deployment/ports.js';
import type { ServiceSpec } from '../../docker/swarm.js';
import { EDGE_CONFIG_PATH, renderHaproxyConfig } from '../../edge/haproxy-config.js';

const SECOND_NS = 1e9;
/** Where the TLS secret appears in an edge task (HAProxy reads it at start). */
const TLS_SECRET_FILE = 'asrctl-tls.pem';

/** haproxy.cfg for the Swarm edge: server slots filled from the app's healthy tasks. */
export function swarmEdgeConfig(config: DeployConfig, names: DeploymentNames, pemSha256?: string): string {
  return renderHaproxyConfig({
    listenPort: EDGE_PORT,
    // One slot more than the most replicas: a rolling update runs one extra task.
    upstream: { kind: 'tasks', dnsName: `tasks.${names.appService}`, slots: MAX_REPLICAS + 1 },
    appPort: APP_PORT,
    protocolPorts: Object.fromEntries(protocolPortMap(config).map((p) => [p.protocol, p.inside])),
    ...(pemSha256 !== undefined && { tls: { pemPath: `/run/secrets/${TLS_SECRET_FILE}`, sha256: pemSha256 } }),
    allow: config.allow,
    drainTimeoutSeconds: config.drainTimeoutSeconds,
  });
}

export interface EdgeServiceRequest {
  image: string;
  haproxyConfig: { id: string; name: string };
  tlsSecret?: { id: string; name: string };
}

/**
 * The edge proxy as a Swarm service holding the public ports.
 * - host mode (default; works without IPVS): one edge per node (global), each on its node's own
 *   ports. Two tasks cannot hold a node's port at once, so an edge update stops the old task
 *   first: a few seconds without the edge on that node. Deploys update the edge only when its
 *   image or settings change; app updates never touch it.
 * - ingress mode (clusters with IPVS): two replicas behind Swarm's routing mesh on every node,
 *   updated start-first.
 */
export function edgeServiceSpec(config: DeployConfig, names: DeploymentNames, request: EdgeServiceRequest): ServiceSpec {
  const host = config.publishMode === 'host';
  const ports = [
    { target: EDGE_PORT, published: config.port },
    ...protocolPortMap(config).map((p) => ({ target: p.inside, published: p.host })),
  ];
  const base = {
    Image: request.image,
    Configs: [
      {
        ConfigID: request.haproxyConfig.id,
        ConfigName: request.haproxyConfig.name,
        File: { Name: EDGE_CONFIG_PATH, UID: '0', GID: '0', Mode: 0o444 },
      },
    ],
    Secrets: request.tlsSecret
      ? [
          {
            SecretID: request.tlsSecret.id,
            SecretName: request.tlsSecret.name,
            File: { Name: TLS_SECRET_FILE, UID: '0', GID: '0', Mode: 0o400 },
          },
        ]
      : [],
    Ports: ports,
    host,
  };
  const specHash = createHash('sha256').update(JSON.stringify(base)).digest('hex').slice(0, 12);
  const labels = labelsFor(names.project, 'edge', {
    [LABELS.stackNamespace]: names.project,
    [LABELS.port]: publishedPorts(config),
    [LABELS.specHash]: specHash,
  });
  return {
    Name: names.edgeService,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: request.image,
        Labels: labels,
        Configs: base.Configs,
        Secrets: base.Secrets,
        CapabilityDrop: ['ALL'],
        // HAProxy starts as root to bind and drop to its user; KILL lets its master stop old workers.
        CapabilityAdd: ['SETUID', 'SETGID', 'KILL'],
        StopGracePeriod: Math.round((config.drainTimeoutSeconds + 5) * SECOND_NS),
      },
      RestartPolicy: { Condition: 'any', Delay: SECOND_NS, MaxAttempts: 0 },
      Networks: [{ Target: names.overlay }],
    },
    Mode: host ? { Global: {} } : { Replicated: { Replicas: 2 } },
    UpdateConfig: {
      Parallelism: 1,
      Delay: 0,
      FailureAction: 'rollback',
      Monitor: 5 * SECOND_NS,
      Order: host ? 'stop-first' : 'start-first',
    },
    EndpointSpec: {
      Mode: host ? 'dnsrr' : 'vip',
      Ports: ports.map((p) => ({
        Protocol: 'tcp',
        TargetPort: p.target,
        PublishedPort: p.published,
        PublishMode: host ? 'host' : 'ingress',
      })),
    },
  };
}
