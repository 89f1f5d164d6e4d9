import type Docker from 'dockerode';
import { APP_STOP_GRACE_SECONDS } from '../../deployment/app-environment.js';
import { type DeploymentNames, LABELS } from '../../deployment/deployment-names.js';
import { stopAndRemove } from '../../docker/containers.js';
import { plainContainers } from './deployment-state.js';
import { removeNetwork } from '../../docker/networks.js';

/**
 * Stops the deployment: apps first (each flushes finals and closes its sessions with 1012), then
 * the edge, then the network. Images and models stay (see cleanup). Returns the containers removed.
 */
export async function stopDeployment(
  docker: Docker,
  names: DeploymentNames,
  say: (line: string) => void = () => undefined,
): Promise<string[]> {
  // Never a Swarm task's container: Swarm would start it again, cutting its sessions for nothing.
  const containers = await plainContainers(docker, names);
  const apps = containers.filter((c) => c.labels[LABELS.role] === 'app');
  const edges = containers.filter((c) => c.labels[LABELS.role] === 'edge');
  for (const c of [...apps, ...edges]) {
    say(`stopping ${c.name}`);
    await stopAndRemove(docker, c.id, c.labels[LABELS.role] === 'app' ? APP_STOP_GRACE_SECONDS : 5);
  }
  await removeNetwork(docker, names.network);
  return [...apps, ...edges].map((c) => c.name);
}
