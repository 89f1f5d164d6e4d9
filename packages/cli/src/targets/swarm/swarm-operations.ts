import { pollUntil } from '@asrctl/server';
import type Docker from 'dockerode';
import { MAX_REPLICAS } from './max-replicas.js';
import { type DeploymentNames, LABELS } from '../../deployment/deployment-names.js';
import { containerLabels, findContainers } from '../../docker/containers.js';
import { removeNetwork } from '../../docker/networks.js';
import { engineMessage, engineStatus } from '../../docker/engine.js';
import { copyServiceLogs, copyTaskLogs } from '../../docker/logs.js';
import type { LogsRequest } from '../deployment-target.js';
import { brief } from '../../text/brief.js';
import {
  SWARM_LABELS,
  type ServiceFacts,
  type SwarmNode,
  type TaskFacts,
  containerTemplate,
  inspectService,
  removeService,
  removeUnusedSwarmObjects,
  serviceTasks,
  specImage,
  swarmFacts,
  updateService,
} from '../../docker/swarm.js';
import { type TaskServerState, taskServerStates, waitUntilEdgeSeesTasks } from '../../edge/edge-runtime.js';
import { countOf } from '../../text/count-of.js';
import { type SwarmNodeStatus, nodeName, nodeProblems, swarmNodeStatus } from './node-status.js';
import { scaleProgress } from './scale-progress.js';
import { assessSwarmDeployment, edgeNodeProblems, explainTaskError } from './swarm-state.js';
import { swarmOwnerLabels } from './swarm-rollout.js';
import { CliError } from '../../cli-error.js';

/** Whether a project is deployed as Swarm services on this engine (commands then act on those). */
export async function isSwarmDeployment(docker: Docker, names: DeploymentNames): Promise<boolean> {
  try {
    return (
      (await inspectService(docker, names.appService)) !== undefined || (await inspectService(docker, names.edgeService)) !== undefined
    );
  } catch (err) {
    if (engineStatus(err) === 503) return false; // not a Swarm manager
    throw err;
  }
}

/**
 * On a Swarm worker the services cannot be seen (the engine answers 503), and what runs here of a
 * Swarm deployment are task containers carrying the project's labels: the commands refuse, as
 * deploy does, rather than take them for a plain deployment (or for nothing).
 */
export async function swarmWorkerRefusal(docker: Docker, names: DeploymentNames): Promise<CliError | undefined> {
  const swarm = await swarmFacts(docker);
  if (swarm.state !== 'active' || swarm.isManager) return undefined;
  const tasksHere = (await containerLabels(docker, { [LABELS.project]: names.project })).filter(
    (l) => l[SWARM_LABELS.task] !== undefined,
  ).length;
  return new CliError(
    'swarm_worker',
    `this engine is a Swarm worker; the services of a Swarm deployment are seen and changed only on a manager${tasksHere > 0 ? ` (this node runs ${countOf(tasksHere, 'task container')} of "${names.project}")` : ''}`,
    { hint: 'run asrctl on a manager node (DOCKER_HOST pointing at a manager)' },
  );
}

/** How long `asrctl logs` waits for a task's node to send anything before it gives up on that node. */
const SILENT_NODE_MS = 10_000;

/**
 * `asrctl logs` for a Swarm service. Following, the service's own stream (lines arrive from the
 * nodes that answer). Without it, each task is asked apart, so tasks on a node Swarm cannot reach
 * (down, or silent for SILENT_NODE_MS) do not hold back the others' lines: they end with a note on
 * stderr naming the node.
 */
export async function swarmLogs(docker: Docker, names: DeploymentNames, request: LogsRequest): Promise<void> {
  const { follow, tail, timestamps } = request;
  const service = await inspectService(docker, request.service === 'app' ? names.appService : names.edgeService);
  if (!service)
    throw new CliError('swarm_operation_failed', `"${names.project}" has no ${request.service} service on this Swarm`, {
      hint: 'asrctl status',
    });
  const { nodes } = await swarmFacts(docker);
  const nodeOf = (id: string): SwarmNode | undefined => nodes.find((n) => n.id === id);
  // Tasks that have (or had) a container, as `docker service logs` shows: old tasks tell why they ended.
  const tasks = (await serviceTasks(docker, service.id)).filter((t) => t.containerId);
  const unreachable = tasks.filter((t) => nodeOf(t.nodeId)?.state !== 'ready');
  const note = (line: string): void => void request.stderr.write(`note: ${line}\n`);
  const label = (t: TaskFacts): string => `${service.name}.${t.slot ?? t.nodeId.slice(0, 12)}.${t.id.slice(0, 12)}`;
  /** One note per node: why its tasks' lines are missing, and which tasks. */
  const byNode = (list: TaskFacts[], why: (node: string, state: string) => string): void => {
    for (const nodeId of new Set(list.map((t) => t.nodeId))) {
      const found = nodeOf(nodeId);
      const here = list.filter((t) => t.nodeId === nodeId);
      const node = found ? `node ${nodeName(found)}` : `node ${nodeId.slice(0, 12)}`;
      note(`${why(node, found?.state ?? 'not in the Swarm')}: not shown: ${here.map(label).join(', ')}`);
    }
  };
  if (follow) {
    byNode(unreachable, (node, state) => `${node} is ${state}; its tasks' lines arrive if it comes back`);
    return copyServiceLogs(
      docker,
      service.name,
      { follow, ...(tail !== undefined && { tail }), timestamps },
      request.stdout,
      request.stderr,
      request.signal,
    );
  }
  const asked = tasks.filter((t) => !unreachable.includes(t));
  const outcomes = await copyTaskLogs(
    docker,
    asked.map((t) => ({ id: t.id, label: label(t) })),
    { ...(tail !== undefined && { tail }), timestamps },
    request.stdout,
    request.stderr,
    SILENT_NODE_MS,
    request.signal,
  );
  byNode(unreachable, (node, state) => `${node} is ${state}`);
  const silent = asked.filter((t) => outcomes.some((o) => o.task.id === t.id && o.outcome === 'silent'));
  byNode(silent, (node) => `${node} sent nothing for ${SILENT_NODE_MS / 1000} s (unreachable?)`);
  // A task that no longer runs may have lost its container (Swarm prunes its history): not worth a note.
  for (const o of outcomes)
    if (o.outcome === 'failed' && asked.find((t) => t.id === o.task.id)?.desiredState === 'running')
      note(`the lines of ${o.task.label} could not be read: ${brief(engineMessage(o.error))}`);
}

/** The running edge task on this node, if there is one. */
async function localEdge(docker: Docker, names: DeploymentNames): Promise<string | undefined> {
  const edges = await findContainers(docker, { [SWARM_LABELS.service]: names.edgeService });
  return edges.find((c) => c.state === 'running')?.id;
}

/**
 * Sets the number of app tasks. New tasks take connections once healthy; tasks removed leave
 * Docker's DNS first, so the edge sends them nothing new, and keep their sessions for the drain
 * timeout before sending finals and closing 1012. Resolves when the edge routes to `replicas` tasks.
 */
export async function scaleSwarmApp(docker: Docker, names: DeploymentNames, replicas: number, say: (line: string) => void): Promise<void> {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS)
    throw new CliError('swarm_operation_failed', `replicas "${replicas}": expected a whole number from 1 to ${MAX_REPLICAS}`);
  if (!(await swarmFacts(docker)).isManager)
    throw new CliError('swarm_operation_failed', 'this engine is not a Swarm manager; scale changes Swarm deployments', {
      hint: 'run it on a manager node',
    });
  const app = await inspectService(docker, names.appService);
  if (!app)
    throw new CliError('swarm_operation_failed', `"${names.project}" has no app service on this Swarm`, {
      hint: `asrctl deploy --target swarm`,
    });
  const before = app.spec.Mode?.Replicated?.Replicas ?? 0;
  say(`${names.appService}: ${before} → ${countOf(replicas, 'replica')}`);
  await updateService(docker, app, { ...app.spec, Mode: { Replicated: { Replicas: replicas } } });
  let shown = '';
  await pollUntil(
    async () => {
      const tasks = await serviceTasks(docker, app.id);
      const progress = scaleProgress(tasks, replicas);
      if (progress.line !== shown) say((shown = progress.line));
      return { ...progress, failed: tasks.find((t) => t.desiredState === 'running' && (t.state === 'failed' || t.state === 'rejected')) };
    },
    (progress) => progress.done,
    {
      what: `${countOf(replicas, 'replica')}`,
      timeoutMs: 300_000,
      intervalMs: 1000,
      timeoutError: (_message, { line, failed }) =>
        new CliError(
          'swarm_operation_failed',
          `scaling did not finish within 300 s (${line})${failed?.error ? `: ${explainTaskError(failed.error)}` : ''}`,
        ),
    },
  );
  const edge = await localEdge(docker, names);
  if (edge) {
    // Down: the removed tasks count until their checks fail (they drain); said as it is if they still do.
    const up = await waitUntilEdgeSeesTasks(docker, edge, replicas, 60_000, { exactly: true }).catch(async (err: unknown) => {
      if (replicas >= before) throw err;
      const still = (await taskServerStates(docker, edge).catch(() => [])).filter((s) => s.status === 'UP');
      say(`the edge still routes to ${countOf(still.length, 'app task')}: the removed ones finish their open sessions first`);
      return undefined;
    });
    if (up) say(`the edge routes to ${countOf(up.length, 'healthy app task')}`);
  }
}

export interface SwarmTaskStatus {
  id: string;
  node: string;
  state: string;
  desiredState: string;
  image: string;
  addresses: string[];
  since: string;
  error?: string;
}

export interface SwarmServiceStatus {
  name: string;
  role: string;
  image: string;
  mode: string;
  running: number;
  desired: number;
  update?: string;
  labels: { version?: string; gitCommit?: string; models?: string };
  tasks: SwarmTaskStatus[];
}

export interface SwarmStatus {
  project: string;
  target: 'swarm';
  kind: 'fresh' | 'update' | 'broken';
  publishedAs?: string;
  publishMode?: string;
  problems: string[];
  services: SwarmServiceStatus[];
  /** The app tasks this node's edge routes to, with their open sessions. */
  edgeRoutes?: TaskServerState[];
  /** Every node: its state, the app tasks on it, the models it holds. */
  nodes: SwarmNodeStatus[];
}

/** What `asrctl status` shows for a Swarm deployment: services, tasks (with failures), the edge's routes. */
export async function swarmStatus(docker: Docker, names: DeploymentNames): Promise<SwarmStatus> {
  const state = await assessSwarmDeployment(docker, names);
  const node = (id: string): string => {
    const found = state.nodes.find((n) => n.id === id);
    return found ? nodeName(found) : id.slice(0, 12);
  };
  const ready = new Set(state.nodes.filter((n) => n.state === 'ready').map((n) => n.id));
  const services: SwarmServiceStatus[] = [];
  for (const [service, tasks] of [
    [state.edge, state.edgeTasks],
    [state.app, state.appTasks],
  ] as const) {
    if (!service) continue;
    const image = specImage(service.spec) ?? '?';
    const labels = service.labels;
    const shown = tasks.filter((t) => t.desiredState === 'running' || t.state === 'running').slice(0, 2 * MAX_REPLICAS);
    // The latest failure too, when no task of the service is failing now: it says why the last update went back.
    const lastFailure = tasks.find((t) => t.error && !shown.includes(t));
    services.push({
      name: service.name,
      role: labels[LABELS.role] ?? '?',
      image,
      mode: service.spec.Mode?.Global ? 'global' : `replicated ${service.spec.Mode?.Replicated?.Replicas ?? 0}`,
      // A task on a node Swarm cannot reach is still listed as running: it serves nothing.
      running: tasks.filter((t) => t.desiredState === 'running' && t.state === 'running' && ready.has(t.nodeId)).length,
      desired: service.spec.Mode?.Replicated?.Replicas ?? tasks.filter((t) => t.desiredState === 'running').length,
      // Swarm's message often restates the state ("update completed"): shown only when it adds something.
      ...(service.updateState && {
        update: `${service.updateState}${service.updateMessage && !service.updateMessage.includes(service.updateState) ? `: ${service.updateMessage}` : ''}`,
      }),
      labels: { version: labels[LABELS.version], gitCommit: labels[LABELS.gitCommit], models: labels[LABELS.models] },
      tasks: [...shown, ...(lastFailure ? [lastFailure] : [])].map((t) => ({
        id: t.id.slice(0, 12),
        node: node(t.nodeId),
        state: t.state,
        desiredState: t.desiredState,
        image: t.image,
        addresses: t.addresses,
        since: t.updatedAt,
        ...(t.error && { error: explainTaskError(t.error) }),
      })),
    });
  }
  const edge = await localEdge(docker, names);
  const edgeRoutes = edge ? await taskServerStates(docker, edge).catch(() => undefined) : undefined;
  const ports = state.edge?.labels[LABELS.port];
  const publishMode = state.edge?.spec.EndpointSpec?.Ports?.[0]?.PublishMode;
  return {
    project: names.project,
    target: 'swarm',
    kind: state.kind,
    ...(ports && { publishedAs: ports }),
    ...(publishMode && { publishMode }),
    problems: [
      ...state.problems,
      ...nodeProblems(state.nodes, state.appTasks, state.desiredReplicas),
      // With no edge running anywhere the deployment is broken, and state.problems says why.
      ...(state.edge?.spec.Mode?.Global && state.edgeTasks.some((t) => t.desiredState === 'running' && t.state === 'running')
        ? edgeNodeProblems(state.nodes, state.edgeTasks, ports ?? '?')
        : []),
    ],
    services,
    ...(edgeRoutes && { edgeRoutes }),
    nodes: swarmNodeStatus(state.nodes, state.appTasks, appModels(state.app), appModelsFrom(state.app)),
  };
}

/** The models the app service's tasks serve, as `language=name`. */
function appModels(app: ServiceFacts | undefined): string[] {
  const listed = app?.labels[LABELS.models] ?? '';
  return listed ? listed.split(',').map((m) => m.replace(/=.*\//u, '=')) : [];
}

function appModelsFrom(app: ServiceFacts | undefined): 'image' | 'node disk' {
  return containerTemplate(app?.spec)?.ContainerSpec?.Mounts?.some((m) => m.Type === 'bind') ? 'node disk' : 'image';
}

/**
 * Removes the services (the app first: its tasks drain, send finals and close 1012 within their
 * stop grace period), then waits for their containers to go, then the network, configs and secrets.
 */
export async function stopSwarmDeployment(
  docker: Docker,
  names: DeploymentNames,
  say: (line: string) => void = () => undefined,
): Promise<string[]> {
  const removed: string[] = [];
  for (const service of [names.appService, names.edgeService]) {
    if (await removeService(docker, service)) {
      say(`removing service ${service}`);
      removed.push(service);
    }
  }
  const deadline = Date.now() + 120_000;
  for (const service of [names.appService, names.edgeService]) {
    await pollUntil(
      async () => (await findContainers(docker, { [SWARM_LABELS.service]: service })).length,
      (left) => left === 0,
      {
        what: `the tasks of ${service} to stop`,
        timeoutMs: Math.max(0, deadline - Date.now()),
        intervalMs: 500,
        timeoutError: () =>
          new CliError('swarm_operation_failed', `the tasks of ${service} did not stop within 120 s (docker service ps ${service})`),
      },
    );
  }
  // The overlay lingers on the manager until the engine has detached the last task.
  await pollUntil(
    // Gone already is fine (removeNetwork ignores 404); in use by a task still stopping is retried.
    () =>
      removeNetwork(docker, names.overlay).then(
        () => undefined,
        (err: unknown) => err,
      ),
    (err) => err === undefined,
    {
      what: `the network ${names.overlay} to be removed`,
      timeoutMs: Math.max(0, deadline - Date.now()),
      intervalMs: 500,
      timeoutError: (_m, err) => err as Error,
    },
  );
  const objects = await removeUnusedSwarmObjects(docker, swarmOwnerLabels(names));
  if (objects.length > 0) say(`removed configs and secrets: ${objects.join(', ')}`);
  return removed;
}
