import type Docker from 'dockerode';
import type { DeployInput } from '../deployment/deploy-config.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import { CliError } from '../cli-error.js';
import type { DeploymentTarget } from './deployment-target.js';
import { dockerTarget } from './docker/docker-target.js';
import { swarmTarget } from './swarm/swarm-target.js';

/**
 * Every deployment target, one line each: their names are --target's choices. The first is the
 * default, and where a project not deployed anywhere is looked for.
 */
export const TARGETS: readonly DeploymentTarget[] = [dockerTarget, swarmTarget];

/** The target a deploy with `--target NAME` uses. */
export function targetNamed(name: string): DeploymentTarget {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no deployment target "${name}" (known: ${TARGETS.map((t) => t.name).join(', ')})`);
  return target;
}

/**
 * The target the project is deployed on here; the first target when it is deployed nowhere.
 * Throws (CliError swarm_worker) when this engine cannot see a target where it may be deployed:
 * on a Swarm worker, the project's task containers would otherwise pass for a plain deployment.
 */
export async function deployedTarget(docker: Docker, names: DeploymentNames, targets = TARGETS): Promise<DeploymentTarget> {
  const deployed = await deployedOn(docker, names, targets);
  if (deployed) return deployed;
  for (const target of targets) {
    const unseen = await target.unseenFrom?.(docker, names);
    if (unseen) throw unseen;
  }
  return targets[0]!;
}

/** The settings of other targets that `target` does not take, each with the targets that do. */
export function otherTargetsSettings(
  target: DeploymentTarget,
  targets = TARGETS,
): Array<{ key: keyof DeployInput; takenBy: DeploymentTarget[] }> {
  const keys = [...new Set(targets.flatMap((t) => t.options))].filter((key) => !target.options.includes(key));
  return keys.map((key) => ({ key, takenBy: targets.filter((t) => t.options.includes(key)) }));
}

async function deployedOn(docker: Docker, names: DeploymentNames, targets = TARGETS): Promise<DeploymentTarget | undefined> {
  for (const target of targets) if (await target.isDeployed(docker, names)) return target;
  return undefined;
}

type ScalingTarget = Required<Pick<DeploymentTarget, 'scale'>>;

/** The target `asrctl scale` acts on, given where the project is deployed. */
export async function scalingTarget(docker: Docker, names: DeploymentNames): Promise<ScalingTarget> {
  return scalingTargetFor(await deployedOn(docker, names), names.project);
}

/**
 * The deployed target if it scales; a project deployed on one that does not is told so. One
 * deployed nowhere gets the first target that scales, whose own checks then say what is missing
 * (e.g. no such service on this Swarm).
 */
export function scalingTargetFor(deployed: DeploymentTarget | undefined, project: string, targets = TARGETS): ScalingTarget {
  const target = deployed ?? targets.find((t) => t.scale);
  if (target?.scale) return { scale: target.scale.bind(target) };
  const scalable = targets.filter((t) => t.scale);
  throw new CliError(
    'not_scalable',
    `"${project}" runs as ${target?.runsAs ?? 'nothing here'}, one app each; asrctl scale applies to ${scalable.map((t) => t.runsAs).join(' or ')}`,
    { hint: `deploy it with ${scalable.map((t) => `--target ${t.name}`).join(' or ')} to run replicas` },
  );
}
