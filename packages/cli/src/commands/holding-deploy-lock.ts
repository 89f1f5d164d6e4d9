import type Docker from 'dockerode';
import { acquireDeployLock } from '../deploy/deploy-lock.js';
import { STOP_SIGNALS, type StopSignal } from '../deploy/interruption.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';

/**
 * Runs `work` holding the project's deploy lock, for the commands that change a deployment
 * (cleanup, scale, stop): beside a running deploy they are refused (deploy_locked, naming it), and
 * no deploy starts while they work. A lock left by a dead process is taken over, as a deploy does.
 * Stopped by a signal (Ctrl-C, SIGTERM, a closed terminal), the command lets go of the lock first,
 * then exits with the signal's code.
 */
export async function holdingDeployLock<T>(
  docker: Docker,
  names: DeploymentNames,
  say: (line: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await acquireDeployLock(docker, names, say);
  // A hangup comes as two SIGHUPs: the second must not kill the process while the lock is let go of.
  let stopping = false;
  const onSignal = (signal: StopSignal): void => {
    if (stopping) return;
    stopping = true;
    void lock.release().finally(() => process.exit(STOP_SIGNALS[signal]));
  };
  for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(signal, onSignal);
  try {
    return await work();
  } finally {
    for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.off(signal, onSignal);
    await lock.release();
  }
}
