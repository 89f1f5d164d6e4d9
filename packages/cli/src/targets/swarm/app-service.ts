import type { DeployConfig } from '../../deployment/deploy-config.js';
import { modelPath } from '../../deployment/model-mount.js';
import { APP_STOP_GRACE_SECONDS, TOKENS_SECRET_FILE, appEnvironment } from '../../deployment/app-environment.js';
import { APP_PORT } from '../../deployment/ports.js';
import { type DeploymentNames, LABELS, labelsFor } from '../../deployment/deployment-names.js';
import type { ServiceSpec } from '../../docker/swarm.js';

const SECOND_NS = 1e9;
/** The image's own health check (GET /readyz), repeated so the spec can set its start period. */
const READINESS_TEST = [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:${APP_PORT}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
];
/** How long the orchestrator watches each updated task for a failure before going on. */
const UPDATE_MONITOR_SECONDS = 5;

export interface AppServiceRequest {
  image: string;
  /** Image labels (version, commit, models), repeated on the service and its tasks. */
  labels: Record<string, string>;
  replicas: number;
  /** A task failing readiness for longer than this after its start is unhealthy. */
  startPeriodSeconds: number;
  /** The swarm secret holding --tokens-file, if any. */
  tokensSecret?: { id: string; name: string };
  /** The image carries the models (model-images.ts): nothing is mounted from the node for them. */
  modelsInImage?: boolean;
  /** Bumped to replace every task with the same spec (restart). */
  forceUpdate?: number;
}

/**
 * The ASR app as a replicated Swarm service. Rolling updates start each new task before its old
 * one stops (start-first) and roll back by themselves if a new task fails. Docker's DNS lists a
 * task under `tasks.<service>` only once it is healthy and removes it before stopping it; the
 * stopped task keeps its sessions for the drain timeout, then sends their finals and closes 1012,
 * within the stop grace period. dnsrr: no virtual IP, so no IPVS is needed.
 */
export function appServiceSpec(config: DeployConfig, names: DeploymentNames, request: AppServiceRequest): ServiceSpec {
  const labels = labelsFor(names.project, 'app', { ...request.labels, [LABELS.stackNamespace]: names.project });
  const seconds = (s: number): number => Math.round(s * SECOND_NS);
  return {
    Name: names.appService,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: request.image,
        Labels: labels,
        Env: appEnvironment(config, {
          behindEdge: true,
          tokensPath: `/run/secrets/${TOKENS_SECRET_FILE}`,
          sessionDrainSeconds: config.drainTimeoutSeconds,
        }),
        Mounts: [
          ...(request.modelsInImage ? [] : config.models).map((m) => ({
            Type: 'bind' as const,
            Source: m.hostDir,
            Target: modelPath(m),
            ReadOnly: true,
          })),
          { Type: 'tmpfs' as const, Source: '', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * 1024 ** 2, Mode: 0o1777 } },
        ],
        ...(request.tokensSecret && {
          Secrets: [
            {
              SecretID: request.tokensSecret.id,
              SecretName: request.tokensSecret.name,
              File: { Name: TOKENS_SECRET_FILE, UID: '1000', GID: '1000', Mode: 0o400 },
            },
          ],
        }),
        HealthCheck: {
          Test: READINESS_TEST,
          Interval: seconds(2),
          Timeout: seconds(5),
          Retries: 5,
          StartPeriod: seconds(request.startPeriodSeconds),
        },
        ReadOnly: true,
        CapabilityDrop: ['ALL'],
        StopSignal: 'SIGTERM',
        StopGracePeriod: seconds(config.drainTimeoutSeconds + APP_STOP_GRACE_SECONDS),
      },
      Resources: {
        // The engine's API 1.41 takes a pids limit here; the type does not know it yet.
        Limits: {
          ...(config.memoryBytes !== undefined && { MemoryBytes: config.memoryBytes }),
          ...(config.cpus !== undefined && { NanoCPUs: Math.round(config.cpus * SECOND_NS) }),
          Pids: 256,
        } as Record<string, number>,
        // The default limit is twice the models' need: reserve the need, so the scheduler places by it.
        ...(config.memoryBytes !== undefined && { Reservations: { MemoryBytes: Math.round(config.memoryBytes / 2) } }),
      },
      RestartPolicy: { Condition: 'any', Delay: seconds(2), MaxAttempts: 0 },
      ...(config.constraints.length > 0 && { Placement: { Constraints: config.constraints } }),
      Networks: [{ Target: names.overlay }],
      ...(request.forceUpdate !== undefined && { ForceUpdate: request.forceUpdate }),
    },
    Mode: { Replicated: { Replicas: request.replicas } },
    UpdateConfig: {
      Parallelism: 1,
      Delay: 0,
      FailureAction: 'rollback',
      Monitor: seconds(UPDATE_MONITOR_SECONDS),
      MaxFailureRatio: 0,
      Order: 'start-first',
    },
    RollbackConfig: { Parallelism: 1, Delay: 0, FailureAction: 'pause', Monitor: seconds(UPDATE_MONITOR_SECONDS), Order: 'start-first' },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}
