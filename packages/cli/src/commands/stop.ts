import type { Command } from 'commander';
import { deploymentNames } from '../deployment/deployment-names.js';
import { connectEngine } from '../docker/engine.js';
import { deployedTarget } from '../targets/index.js';
import { addTargetOptions } from './deployment-options.js';
import { holdingDeployLock } from './holding-deploy-lock.js';
import { projectFrom } from './project.js';

/** `asrctl stop`: the service stops (sessions get their finals); images and models stay. */
export function registerStop(program: Command): void {
  addTargetOptions(
    program
      .command('stop')
      .description('stop and remove the deployment’s containers or Swarm services (sessions get their finals); images and models stay'),
  ).action(async (flags: { project?: string; config?: string }) => {
    const names = deploymentNames(projectFrom(flags));
    const docker = connectEngine();
    const say = (l: string): void => void process.stdout.write(`${l}\n`);
    // Not beside a deploy: it would fail halfway, its new version gone, with nothing to go back to.
    const removed = await holdingDeployLock(docker, names, say, async () => (await deployedTarget(docker, names)).stop(docker, names, say));
    process.stdout.write(
      removed.length > 0 ? `stopped "${names.project}" (${removed.join(', ')})\n` : `"${names.project}" was not running\n`,
    );
  });
}
