import type Docker from 'dockerode';
import type { Target } from '../deployment/deploy-config.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import type { DeploymentTarget } from './deployment-target.js';
import { dockerTarget } from './docker/docker-target.js';
import { swarmTarget } from './swarm/swarm-target.js';

/** Every deployment target, one line each; the first is where a project not deployed anywhere is looked for. */
export const TARGETS: readonly DeploymentTarget[] = [dockerTarget, swarmTarget];

/** The target a deploy with `--target NAME` uses. */
export function targetNamed(name: Target): DeploymentTarget {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no deployment target "${name}" (known: ${TARGETS.map((t) => t.name).join(', ')})`);
  return target;
}

/** The target the project is deployed on here; the first target when it is deployed nowhere. */
export async function deployedTarget(docker: Docker, names: DeploymentNames): Promise<DeploymentTarget> {
  for (const target of TARGETS) if (await target.isDeployed(docker, names)) return target;
  return TARGETS[0]!;
}

/**
 * The target `asrctl scale` acts on: the deployed one if it scales, else the first that can
 * (whose own checks then say what is missing, e.g. no such service on this Swarm).
 */
export async function scalingTarget(docker: Docker, names: DeploymentNames): Promise<Required<Pick<DeploymentTarget, 'scale'>>> {
  const deployed = await deployedTarget(docker, names);
  const target = deployed.scale ? deployed : TARGETS.find((t) => t.scale);
  if (!target?.scale) throw new Error('no deployment target can scale');
  return { scale: target.scale.bind(target) };
}
