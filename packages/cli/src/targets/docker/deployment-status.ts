import type Docker from 'dockerode';
import { APP_PORT } from '../../deployment/ports.js';
import { type DeploymentNames, LABELS } from '../../deployment/deployment-names.js';
import { assessDeployment } from './deployment-state.js';
import { inspectImage } from '../../docker/images.js';
import { appServerStates } from '../../edge/edge-runtime.js';

export interface ContainerStatus {
  name: string;
  role: string;
  color?: string;
  state: string;
  health: string;
  restarts: number;
  startedAt: string;
  image: string;
  labels: { version?: string; gitCommit?: string; configHash?: string; models?: string };
  /** From the app's /metrics; undefined when it does not answer. */
  openSessions?: number;
  /** From the edge: whether it sends new connections here, and its open sessions there. */
  edge?: { status: string; weight: number; sessions: number };
}

export interface DeploymentStatus {
  project: string;
  kind: 'fresh' | 'update' | 'broken';
  shape?: string;
  active?: string;
  publishedAs?: string;
  problems: string[];
  /** Containers beside a serving deployment that do not serve (see DeploymentState). */
  notes: string[];
  containers: ContainerStatus[];
}

/** Everything `asrctl status` shows, read from the engine, the edge and each app's /metrics. */
export async function deploymentStatus(docker: Docker, names: DeploymentNames): Promise<DeploymentStatus> {
  const state = await assessDeployment(docker, names);
  const edgeStates = state.edge?.state === 'running' ? await appServerStates(docker, state.edge.id).catch(() => undefined) : undefined;
  const containers: ContainerStatus[] = [];
  for (const c of [...(state.edge ? [state.edge] : []), ...state.apps]) {
    const image = await inspectImage(docker, c.imageId);
    const color = c.labels[LABELS.color];
    const labels = image?.labels ?? {};
    const metricsPort = c.ports[`${APP_PORT}/tcp`];
    containers.push({
      name: c.name,
      role: c.labels[LABELS.role] ?? '?',
      ...(color && { color }),
      state: c.state,
      health: c.health,
      restarts: c.restartCount,
      startedAt: c.startedAt,
      image: c.image,
      labels: {
        version: labels[LABELS.version],
        gitCommit: labels[LABELS.gitCommit],
        configHash: labels[LABELS.configHash],
        // The container's own: a restart may mount other models than its image was built with.
        models: c.labels[LABELS.models] ?? labels[LABELS.models],
      },
      ...(c.labels[LABELS.role] === 'app' &&
        c.state === 'running' &&
        metricsPort !== undefined && { openSessions: await openSessions(metricsPort) }),
      ...(edgeStates && (color === 'blue' || color === 'green') && { edge: edgeStates[color] }),
    });
  }
  return {
    project: names.project,
    kind: state.kind,
    ...(state.shape && { shape: state.shape }),
    ...(state.active && { active: state.active }),
    ...(state.edge?.labels[LABELS.port] && { publishedAs: state.edge.labels[LABELS.port] }),
    problems: state.problems,
    notes: state.notes,
    containers,
  };
}

async function openSessions(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    const m = /^asr_sessions_open (\d+)/mu.exec(await res.text());
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
