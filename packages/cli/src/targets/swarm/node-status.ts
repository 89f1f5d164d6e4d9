import type { SwarmNode, TaskFacts } from '../../docker/swarm.js';

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
      name: `${node.hostname} (${node.address})`,
      state: node.state,
      availability: node.availability,
      role: node.role,
      appTasks: tasks.map((t) => ({ id: t.id.slice(0, 12), state: t.state })),
      models: serving ? models : [],
      ...(serving && { modelsFrom }),
    };
  });
}
