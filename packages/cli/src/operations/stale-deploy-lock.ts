import type Docker from 'dockerode';
import { lockHolderGone, lockHolderText } from '../deploy/deploy-lock.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import { lockNetwork, removeNetwork } from '../docker/networks.js';
import type { CleanupItem } from '../targets/deployment-target.js';

/**
 * The project's deploy lock when its holder is gone (a deploy killed on this host), as the next
 * deploy would take it over; never a lock whose holder runs or is on another host. Removed by id:
 * a deploy that took the lock over meanwhile holds a new network, which stays.
 */
export async function staleDeployLock(docker: Docker, names: DeploymentNames): Promise<CleanupItem[]> {
  const lock = await lockNetwork(docker, names.lock);
  if (!lock || !lockHolderGone(lock.labels)) return [];
  return [
    {
      kind: 'deploy lock',
      name: names.lock,
      why: `left by a deploy that is gone: ${lockHolderText(lock.labels)}`,
      remove: () => removeNetwork(docker, lock.id),
    },
  ];
}
