import type Docker from 'dockerode';
import type { DeployConfig } from '../deployment/deploy-config.js';
import type { DeployContext, DeployPhase } from './deploy-context.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { recordedSettings } from '../deployment/deployment-record.js';
import { environmentCheck } from './phases/environment-check.js';
import { imageBuild } from './phases/image-build.js';
import { imageReuse } from './phases/image-reuse.js';
import { modelPrefetch } from './phases/model-prefetch.js';
import { stateAssessment } from './phases/state-assessment.js';
import { swap } from './phases/swap.js';
import { verify } from './phases/verify.js';
import { blueGreenSwap } from '../targets/docker/blue-green.js';
import { recreateSwap } from '../targets/docker/recreate.js';
import { swarmRollingUpdate } from '../targets/swarm/swarm-rollout.js';

export const DEPLOY_PHASES: readonly DeployPhase[] = [environmentCheck, stateAssessment, modelPrefetch, imageBuild, swap, verify];
/** `restart`: the same swap with the running image, no build. */
export const RESTART_PHASES: readonly DeployPhase[] = [environmentCheck, stateAssessment, modelPrefetch, imageReuse, swap, verify];

/** Runs the phases in order and presents them (listr2 in the CLI; plain lines in tests). */
export type PhaseRunner = (phases: readonly DeployPhase[], ctx: DeployContext) => Promise<void>;

export interface DeployReport {
  project: string;
  url: string;
  color?: string;
  previousColor?: string;
  appImage: string;
  heard: Record<string, string>;
  warnings: string[];
  strategy: string;
}

/** Thrown when verification failed after the swap and the previous version was put back. */
export class RolledBackError extends Error {
  override readonly name = 'RolledBackError';
}

/**
 * The six phases. If the swap or verification fails, the previous version keeps or resumes
 * serving and the error says so; the deploy lock is released whatever happens.
 */
export async function deploy(
  docker: Docker,
  config: DeployConfig,
  runPhases: PhaseRunner,
  options: { phases?: readonly DeployPhase[]; say?: (line: string) => void } = {},
): Promise<DeployReport> {
  const say = options.say ?? (() => undefined);
  const phases = options.phases ?? DEPLOY_PHASES;
  const ctx: DeployContext = {
    docker,
    config,
    names: deploymentNames(config.project),
    strategy: config.target === 'swarm' ? swarmRollingUpdate : config.strategy === 'recreate' ? recreateSwap : blueGreenSwap,
    warnings: [],
    settings: recordedSettings(config),
    reusesImages: phases.includes(imageReuse),
  };
  try {
    await runPhases(phases, ctx);
  } catch (err) {
    if (ctx.swapped && !ctx.publicUrl) {
      await ctx.swapped.rollBack(say);
      const before = ctx.state?.kind === 'fresh' ? 'nothing was serving before, and nothing is now' : 'the previous version serves';
      throw new RolledBackError(`${(err as Error).message}\n  rolled back: ${before} (${ctx.strategy.rollBackOutcome})`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    await ctx.lock?.release();
  }
  return {
    project: config.project,
    url: ctx.publicUrl!,
    ...(ctx.swapped!.newColor && { color: ctx.swapped!.newColor }),
    ...(ctx.swapped!.oldColor && { previousColor: ctx.swapped!.oldColor }),
    appImage: ctx.appImage!,
    heard: ctx.heard ?? {},
    warnings: ctx.warnings,
    strategy: ctx.strategy.name,
  };
}

/** Runs phases one after another, reporting each line with its phase's title. */
export const plainPhaseRunner =
  (write: (line: string) => void): PhaseRunner =>
  async (phases, ctx) => {
    for (const phase of phases) {
      write(`[${phase.title}]`);
      await phase.run(ctx, (line) => write(`  ${line}`));
    }
  };
