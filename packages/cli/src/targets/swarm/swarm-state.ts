import type Docker from 'dockerode';
import { type DeploymentNames } from '../../deployment/deployment-names.js';
import { type ServiceFacts, type SwarmNode, type TaskFacts, inspectService, serviceTasks, swarmFacts } from '../../docker/swarm.js';
import { countOf } from '../../text/count-of.js';
import { nodeName } from './node-status.js';
import { brief } from '../../text/brief.js';

/** A deployment's Swarm services, their tasks and what is wrong with them. */
export interface SwarmDeploymentState {
  kind: 'fresh' | 'update' | 'broken';
  app?: ServiceFacts;
  edge?: ServiceFacts;
  /** Tasks meant to run, newest first, and the latest failed ones (why a task does not run). */
  appTasks: TaskFacts[];
  edgeTasks: TaskFacts[];
  desiredReplicas: number;
  runningReplicas: number;
  nodes: SwarmNode[];
  problems: string[];
}

const TERMINAL = new Set(['failed', 'rejected', 'shutdown', 'complete', 'orphaned', 'remove']);

export async function assessSwarmDeployment(docker: Docker, names: DeploymentNames): Promise<SwarmDeploymentState> {
  const [app, edge, swarm] = await Promise.all([
    inspectService(docker, names.appService),
    inspectService(docker, names.edgeService),
    swarmFacts(docker),
  ]);
  const appTasks = app ? await serviceTasks(docker, app.id) : [];
  const edgeTasks = edge ? await serviceTasks(docker, edge.id) : [];
  const desiredReplicas = app?.spec.Mode?.Replicated?.Replicas ?? 0;
  const runningReplicas = appTasks.filter((t) => t.desiredState === 'running' && t.state === 'running').length;
  if (!app && !edge) return { kind: 'fresh', appTasks, edgeTasks, desiredReplicas, runningReplicas, nodes: swarm.nodes, problems: [] };

  const problems: string[] = [];
  const node = (id: string): string => {
    const found = swarm.nodes.find((n) => n.id === id);
    return found ? nodeName(found) : id.slice(0, 12) || 'no node';
  };
  if (!app) problems.push(`the app service ${names.appService} is missing`);
  if (!edge) problems.push(`the edge service ${names.edgeService} is missing`);
  if (app && runningReplicas < desiredReplicas) {
    problems.push(`${runningReplicas} of ${countOf(desiredReplicas, 'app task runs', 'app tasks run')}`);
    problems.push(...taskProblems(appTasks, node));
  }
  if (app?.updateState === 'paused' || app?.updateState === 'rollback_paused')
    problems.push(`the app's update is ${app.updateState}: ${app.updateMessage ?? ''} (asrctl deploy again, or asrctl restart)`);
  if (edge && !edgeTasks.some((t) => t.desiredState === 'running' && t.state === 'running')) {
    problems.push('no edge task runs');
    problems.push(...taskProblems(edgeTasks, node));
  }
  return {
    kind: problems.length === 0 ? 'update' : 'broken',
    ...(app && { app }),
    ...(edge && { edge }),
    appTasks,
    edgeTasks,
    desiredReplicas,
    runningReplicas,
    nodes: swarm.nodes,
    problems,
  };
}

/** Why tasks do not run: the latest failure per node, in words an operator can act on. */
function taskProblems(tasks: TaskFacts[], node: (id: string) => string): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const t of tasks) {
    const failedHere = TERMINAL.has(t.state) && t.error;
    const stuck = t.desiredState === 'running' && t.state !== 'running';
    if (!failedHere && !stuck) continue;
    const key = `${t.nodeId}:${t.error ?? t.state}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(`task on ${node(t.nodeId)} ${t.state}: ${explainTaskError(t.error ?? t.message)}`);
    if (lines.length >= 3) break;
  }
  return lines;
}

/**
 * In host mode the edge is global: one task per node, each holding that node's ports. A node that
 * can run tasks (ready and active) with no running edge task refuses its clients, however well the
 * other nodes serve: a problem naming the node, the ports and its task's latest error.
 */
export function edgeNodeProblems(nodes: SwarmNode[], edgeTasks: TaskFacts[], ports: string): string[] {
  const problems: string[] = [];
  for (const node of nodes) {
    if (node.state !== 'ready' || node.availability !== 'active') continue;
    const here = edgeTasks.filter((t) => t.nodeId === node.id); // newest first
    if (here.some((t) => t.desiredState === 'running' && t.state === 'running')) continue;
    const failed = here.find((t) => t.error);
    const now = here.find((t) => t.desiredState === 'running');
    problems.push(
      `no edge runs on node ${nodeName(node)}: clients of port ${ports} there are refused${
        failed ? `; its task ${failed.state}: ${explainTaskError(failed.error!)}` : now ? ` (its task is ${now.state})` : ''
      }`,
    );
  }
  return problems;
}

/** The orchestrator's error, with what to do about the ones operators meet. */
export function explainTaskError(full: string): string {
  const error = brief(full, 300);
  const taken = /listen tcp\d? [^ ]*:(\d+): bind: address already in use/u.exec(full);
  if (taken)
    return `${error}\n    port ${taken[1]} is taken on that node by another process or container: free it there (ss -ltnp 'sport = :${taken[1]}'); Swarm keeps retrying`;
  const missing = /bind source path does not exist: (\S+)/u.exec(full);
  if (missing)
    return `${error}\n    the model directory ${missing[1]} is missing on that node: put the models on a path every node shares, or run asrctl models pull there`;
  if (/No such image|manifest unknown|pull access denied/iu.test(full)) {
    // An image named with a registry (a host with a dot or port, or localhost) was to be pulled from it.
    const registry = /(?:No such image|manifest unknown|pull access denied)[^:]*:\s*((?:[^/\s]+[.:][^/\s]*|localhost)(?::\d+)?)\//iu.exec(
      full,
    )?.[1];
    return registry
      ? `${error}\n    that node could not pull it from ${registry}: is the registry up, and reachable from that node (asrctl deploy checks it from this host only)?`
      : `${error}\n    that node cannot get the image: deploy with --registry so every node pulls it`;
  }
  if (/unhealthy/iu.test(full)) return `${error} (readiness /readyz did not pass)`;
  return error;
}
