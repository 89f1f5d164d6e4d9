import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { createLockNetwork, lockNetwork, removeNetwork } from '../docker/networks.js';
import { type DeploymentNames, LABELS } from '../deployment/deployment-names.js';
import { CliError } from '../cli-error.js';
import { processAlive } from '../os/process-alive.js';

export interface DeployLock {
  release(): Promise<void>;
}

const HOLDER = { host: 'io.asrctl.lock.host', pid: 'io.asrctl.lock.pid', since: 'io.asrctl.lock.since' };

/**
 * Takes the project's deploy lock: an engine object whose name can exist only once (a network,
 * which needs no image), so two deploys against one engine cannot interleave even from different
 * shells or hosts. A lock left by a dead process on this host is taken over, and `say` says so.
 */
export async function acquireDeployLock(
  docker: Docker,
  names: DeploymentNames,
  say: (line: string) => void = () => undefined,
): Promise<DeployLock> {
  const labels = {
    [LABELS.project]: names.project,
    [LABELS.role]: 'lock',
    [HOLDER.host]: hostname(),
    [HOLDER.pid]: String(process.pid),
    [HOLDER.since]: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    const id = await createLockNetwork(docker, names.lock, labels);
    if (id) return { release: () => removeNetwork(docker, id).catch(() => undefined) };
    const lock = await lockNetwork(docker, names.lock);
    const holder = lock?.labels ?? {};
    if (!lockHolderGone(holder)) throw deployRunning(names, lock);
    say(
      `taking over the deploy lock ${names.lock} left by ${lockHolderText(holder)}, which is no longer running: that deploy was killed or exited at once (asrctl status shows what it left)`,
    );
    if (lock) await removeNetwork(docker, lock.id).catch(() => undefined);
  }
  throw new CliError('deploy_locked', `could not take the deploy lock ${names.lock}`);
}

/** Throws deploy_locked when a deploy of the project runs (its lock's holder lives, or is on another host). */
export async function refuseWhileDeploying(docker: Docker, names: DeploymentNames): Promise<void> {
  const lock = await lockNetwork(docker, names.lock);
  if (lock && !lockHolderGone(lock.labels)) throw deployRunning(names, lock);
}

function deployRunning(names: DeploymentNames, lock: { id: string; labels: Record<string, string> } | undefined): CliError {
  return new CliError('deploy_locked', `another deploy of "${names.project}" is running (${lockHolderText(lock?.labels ?? {})})`, {
    hint: `wait for it; if it died on another host, remove the lock: docker network rm ${lock?.id.slice(0, 12) ?? names.lock}`,
  });
}

/**
 * Whether a lock's holder (its network's labels) is gone: a process on this host that no longer
 * runs. A holder on another host cannot be checked from here and counts as alive.
 */
export function lockHolderGone(holder: Record<string, string>): boolean {
  const pid = Number(holder[HOLDER.pid]);
  return holder[HOLDER.host] === hostname() && Number.isInteger(pid) && !processAlive(pid);
}

/** Who a lock's labels name as its holder, as text: "pid 42 on host-a, since 2026-01-01T00:00:00.000Z". */
export function lockHolderText(holder: Record<string, string>): string {
  return `pid ${holder[HOLDER.pid] ?? '?'} on ${holder[HOLDER.host] ?? '?'}, since ${holder[HOLDER.since] ?? '?'}`;
}
