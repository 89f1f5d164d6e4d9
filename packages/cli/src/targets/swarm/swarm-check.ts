import { existsSync } from 'node:fs';
import type Docker from 'dockerode';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import type { DeploymentNames } from '../../deployment/deployment-names.js';
import { inspectService, swarmFacts } from '../../docker/swarm.js';
import { formatBytes } from '../../models/disk.js';
import { countOf } from '../../text/count-of.js';
import { CliError } from '../../cli-error.js';
import { checkRegistryAnswers } from './registry-check.js';

/** What the environment check learns about the Swarm for its memory check. */
export interface SwarmCapacity {
  replicas: number;
  /** Memory of the nodes tasks may go to (ready and active). */
  memoryBytes: number;
}

/**
 * A Swarm deploy needs a manager of an active Swarm; more than one node needs a registry (other
 * nodes cannot see this engine's images), and that registry must answer; the routing mesh needs IPVS.
 */
export async function checkSwarm(
  docker: Docker,
  config: DeployConfig,
  names: DeploymentNames,
  say: (line: string) => void,
): Promise<SwarmCapacity> {
  const swarm = await swarmFacts(docker);
  if (swarm.state !== 'active')
    throw new CliError('environment_unfit', `this Docker engine is not part of a Swarm (state ${swarm.state})`, {
      hint: `docker swarm init (or docker swarm join on a cluster), or deploy with --target docker`,
    });
  if (!swarm.isManager)
    throw new CliError('environment_unfit', 'this engine is a Swarm worker; services are created on a manager', {
      hint: 'run asrctl on a manager node',
    });
  const usable = swarm.nodes.filter((n) => n.state === 'ready' && n.availability === 'active');
  say(
    `Swarm: ${swarm.nodes.length} node(s), ${usable.length} ready and active (${usable.map((n) => `${n.hostname} ${n.role}`).join(', ')})`,
  );
  if (usable.length === 0)
    throw new CliError('environment_unfit', 'no Swarm node is ready and active to run tasks', { hint: 'docker node ls' });
  if (swarm.nodes.length > 1 && !config.registry)
    throw new CliError('environment_unfit', `the Swarm has ${swarm.nodes.length} nodes; the others cannot see images built on this one`, {
      hint: `deploy with --registry HOST:PORT (a registry every node can pull from); the images are pushed there`,
    });
  if (config.registry) {
    await checkRegistryAnswers(config.registry);
    say(`registry ${config.registry} answers`);
  }
  say(
    config.registry
      ? `models travel in the app image through ${config.registry}: no node reads them from its disk, and each task checks them against their manifests before it serves`
      : `models are bind-mounted from ${config.models.map((m) => m.hostDir).join(', ')} on this node`,
  );
  if (config.publishMode === 'ingress') {
    const local = !process.env.DOCKER_HOST || process.env.DOCKER_HOST.startsWith('unix://');
    if (local && !existsSync('/proc/net/ip_vs'))
      throw new CliError(
        'environment_unfit',
        'ingress publishing needs IPVS (the ip_vs kernel module), and this host has none: the routing mesh would accept connections and never answer',
        { hint: 'modprobe ip_vs, or deploy with --publish-mode host' },
      );
    say('edge published through the routing mesh (ingress): any node forwards to the edge replicas');
  } else {
    say('edge published in host mode: one edge per node on its own ports (no IPVS needed)');
  }
  const app = await inspectService(docker, names.appService);
  const replicas = config.replicas ?? app?.spec.Mode?.Replicated?.Replicas ?? 2;
  const memoryBytes = usable.reduce((n, node) => n + node.memoryBytes, 0);
  say(`${countOf(replicas, 'app replica')}; ${formatBytes(memoryBytes)} of memory on the usable nodes`);
  return { replicas, memoryBytes };
}
