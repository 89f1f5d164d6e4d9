import type { Command } from 'commander';
import { deploymentNames } from '../deployment/deployment-names.js';
import { connectEngine } from '../docker/engine.js';
import { scalingTarget } from '../targets/index.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { parsedAs } from '../options/commander-options.js';
import { addTargetOptions } from './deployment-options.js';
import { holdingDeployLock } from './holding-deploy-lock.js';
import { projectFrom } from './project.js';
import { countOf } from '../text/count-of.js';

/** `asrctl scale N`: the Swarm app's replicas; removed tasks drain their sessions first. */
export function registerScale(program: Command): void {
  addTargetOptions(
    program
      .command('scale')
      .argument('<replicas>', 'number of app tasks', parsedAs(DEPLOY_OPTIONS.options.replicas.type, 'replicas'))
      .description('change the number of app replicas of a Swarm deployment (open sessions drain, none are cut)'),
  ).action(async (replicas: number, flags: { project?: string; config?: string }) => {
    const names = deploymentNames(projectFrom(flags));
    const docker = connectEngine();
    const say = (l: string): void => void process.stdout.write(`${l}\n`);
    // Not beside a deploy: its rolling update counts on the replicas it set, and would take these instead.
    await holdingDeployLock(docker, names, say, async () => (await scalingTarget(docker, names)).scale(docker, names, replicas, say));
    process.stdout.write(`"${names.project}" runs ${countOf(replicas, 'app replica')}\n`);
  });
}
