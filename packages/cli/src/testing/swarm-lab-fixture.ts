import { execa } from 'execa';
import Docker from 'dockerode';
import { ENGINE_API_VERSION } from '../docker/engine.js';

const LAB_SCRIPT = new URL('../../../../scripts/swarm-lab', import.meta.url).pathname;

export interface LabNode {
  /** node1, node2, ...: the node's `lab` label (every lab node reports this machine's hostname). */
  name: string;
  /** The node's own address on the lab bridge, where its host-mode ports answer. */
  address: string;
  /** The node's own dockerd. */
  docker: Docker;
  /** DOCKER_HOST for it, for the CLI in a child process. */
  dockerHost: string;
  /** The node's network namespace, for `ip -n` (partitioning it). */
  netns: string;
}

export interface SwarmLab {
  /** The registry every node trusts (plain HTTP). */
  registry: string;
  nodes: LabNode[];
  /** The first manager: where asrctl runs. */
  manager: LabNode;
  /** DOCKER_HOST for the manager, for the CLI in a child process. */
  managerHost: string;
  down(): Promise<void>;
}

/**
 * A multi-node Swarm of real dockerds on this machine (scripts/swarm-lab): brought up for a lab
 * test file and always taken down after it; a lab a failed run left is taken down first. Needs root.
 */
export async function swarmLabForTests(options: { nodes?: number; managers?: number } = {}): Promise<SwarmLab> {
  const down = async (): Promise<void> => void (await execa(LAB_SCRIPT, ['down']));
  let facts: Record<string, string>;
  try {
    const up = await execa(LAB_SCRIPT, ['up', '--nodes', String(options.nodes ?? 3), '--managers', String(options.managers ?? 1)]);
    facts = Object.fromEntries(up.stdout.split('\n').map((line) => line.split('=', 2) as [string, string]));
  } catch (err) {
    await down().catch(() => undefined);
    throw new Error(`the Swarm lab did not come up (scripts/swarm-lab up; it needs root): ${(err as Error).message}`);
  }
  const nodes = Array.from({ length: Number(facts.SWARM_LAB_NODES) }, (_, i): LabNode => {
    const host = facts[`SWARM_LAB_NODE${i + 1}_DOCKER_HOST`] ?? '';
    return {
      name: `node${i + 1}`,
      address: facts[`SWARM_LAB_NODE${i + 1}_ADDR`] ?? '',
      docker: new Docker({ socketPath: host.replace(/^unix:\/\//u, ''), version: ENGINE_API_VERSION }),
      dockerHost: host,
      netns: `slnode${i + 1}`,
    };
  });
  return {
    registry: facts.SWARM_LAB_REGISTRY ?? '',
    nodes,
    manager: nodes[0]!,
    managerHost: facts.SWARM_LAB_NODE1_DOCKER_HOST ?? '',
    down,
  };
}
