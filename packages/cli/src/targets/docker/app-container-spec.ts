import type Docker from 'dockerode';
import { APP_STOP_GRACE_SECONDS, appEnvironment } from '../../deployment/app-environment.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { modelPath } from '../../deployment/model-mount.js';
import { type DeploymentNames, LABELS, labelsFor } from '../../deployment/deployment-names.js';
import { APP_PORT, protocolPortMap } from '../../deployment/ports.js';
import type { Color } from '../../edge/haproxy-config.js';

/** Where the tokens file appears in the app container. */
const TOKENS_PATH = '/run/asrctl/tokens';

export interface AppContainerRequest {
  color: Color;
  image: string;
  labels: Record<string, string>;
  /** recreate: the app itself holds the public port. blue-green: only a loopback port for probes. */
  publishPublicPort: boolean;
}

/**
 * The app container of one colour as the engine creates it: image, environment, labels, model
 * mounts, ports, limits and hardening. Plain data; startAppContainer runs it.
 */
export function appContainerSpec(
  config: DeployConfig,
  names: DeploymentNames,
  request: AppContainerRequest,
): Docker.ContainerCreateOptions {
  const port = `${APP_PORT}/tcp`;
  return {
    name: names.app(request.color),
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
  };
}

function gpuRequest(gpus: string): Docker.DeviceRequest {
  if (gpus === 'all') return { Driver: '', Count: -1, Capabilities: [['gpu']] };
  if (/^\d+$/u.test(gpus)) return { Driver: '', Count: Number(gpus), Capabilities: [['gpu']] };
  return { Driver: '', DeviceIDs: gpus.replace(/^device=/u, '').split(','), Capabilities: [['gpu']] };
}
