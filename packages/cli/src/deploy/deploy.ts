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
import { targetNamed } from '../targets/index.js';
import { CliError } from '../cli-error.js';

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
  /** The image the app runs. */
  appImage: string;
  heard: Record<string, string>;
  warnings: string[];
  strategy: string;
  /** What serves now (containers or services). */
  serving: string;
  /** Whether `asrctl scale` applies to this deployment. */
  scalable: boolean;
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
  const names = deploymentNames(config.project);
  const target = targetNamed(config.target);
  const ctx: DeployContext = {
    docker,
    config,
    names,
    target,
    deployment: target.deployment(docker, config, names),
    warnings: [],
    settings: recordedSettings(config),
    reusesImages: phases.includes(imageReuse),
  };
  try {
    await runPhases(phases, ctx);
  } catch (err) {
    if (ctx.swapped && !ctx.publicUrl) {
      await ctx.swapped.rollBack(say);
      const before = ctx.state === 'fresh' ? 'nothing was serving before, and nothing is now' : 'the previous version serves';
      throw new CliError('rolled_back', `${(err as Error).message}\n  rolled back: ${before} (${ctx.deployment.rollBackOutcome})`, {
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
    appImage: ctx.swapped!.image ?? ctx.appImage!,
    heard: ctx.heard ?? {},
    warnings: ctx.warnings,
    strategy: ctx.deployment.strategy,
    serving: ctx.swapped!.serving,
    scalable: target.scale !== undefined,
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
