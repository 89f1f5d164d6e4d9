import type { SwarmNode, TaskFacts } from '../../docker/swarm.js';
import { countOf } from '../../text/count-of.js';

/** A node as an operator finds it: hostname and address (nodes may share a hostname: clones, one machine's lab). */
export const nodeName = (node: Pick<SwarmNode, 'hostname' | 'address'>): string => `${node.hostname} (${node.address})`;

/** One Swarm node as `asrctl status` shows it: its state, the app tasks it runs, the models they carry. */
export interface SwarmNodeStatus {
  /** Hostname and address: nodes may share a hostname (clones, one machine's lab). */
  name: string;
  state: string;
  availability: string;
  role: 'manager' | 'worker';
  /** App tasks meant to run there, by id (12 characters) and state. */
  appTasks: Array<{ id: string; state: string }>;
  /** The models its running app tasks serve; empty when none runs there. */
  models: string[];
  /** How those models got there: in the app image (pulled from the registry) or mounted from the node's disk. */
  modelsFrom?: 'image' | 'node disk';
}

/** Which node runs which app task and holds which models, every node listed (also those with no task). */
export function swarmNodeStatus(
  nodes: SwarmNode[],
  appTasks: TaskFacts[],
  models: string[],
  modelsFrom: 'image' | 'node disk',
): SwarmNodeStatus[] {
  return nodes.map((node) => {
    const tasks = appTasks.filter((t) => t.nodeId === node.id && t.desiredState === 'running');
    const serving = tasks.some((t) => t.state === 'running');
    return {
      name: nodeName(node),
      state: node.state,
      availability: node.availability,
      role: node.role,
      appTasks: tasks.map((t) => ({ id: t.id.slice(0, 12), state: t.state })),
      models: serving ? models : [],
      ...(serving && { modelsFrom }),
    };
  });
}

/**
 * What the services' own counts miss when a node is lost: Swarm keeps reporting the tasks of a node
 * it cannot reach as running. A node that is not ready while it should run tasks (active, or tasks
 * meant to run there) is a problem, and app tasks counted as running there serve nothing.
 */
export function nodeProblems(nodes: SwarmNode[], appTasks: TaskFacts[], desiredReplicas: number): string[] {
  const problems: string[] = [];
  const wanted = appTasks.filter((t) => t.desiredState === 'running');
  const lost = new Set<string>();
  for (const node of nodes) {
    if (node.state === 'ready') continue;
    const here = wanted.filter((t) => t.nodeId === node.id);
    if (node.availability !== 'active' && here.length === 0) continue;
    lost.add(node.id);
    problems.push(
      `node ${nodeName(node)} is ${node.state} (${node.availability})${here.length ? `: ${countOf(here.length, 'app task there serves', 'app tasks there serve')} nothing; Swarm starts replacements on the other nodes` : ''}`,
    );
  }
  const runningOnLost = wanted.filter((t) => t.state === 'running' && lost.has(t.nodeId)).length;
  if (runningOnLost > 0) {
    const reachable = wanted.filter((t) => t.state === 'running' && !lost.has(t.nodeId)).length;
    problems.push(`${reachable} of ${countOf(desiredReplicas, 'app task runs', 'app tasks run')} on reachable nodes`);
  }
  return problems;
}
