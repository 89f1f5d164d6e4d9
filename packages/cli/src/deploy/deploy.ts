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
import { CliError, isCliError } from '../cli-error.js';
import { interruptionCause } from './interruption.js';

export const DEPLOY_PHASES: readonly DeployPhase[] = [environmentCheck, stateAssessment, modelPrefetch, imageBuild, swap, verify];
/**
 * `restart`: the same swap with the running image, no build. The image is found before any model
 * is fetched: with nothing serving, a restart ends there.
 */
export const RESTART_PHASES: readonly DeployPhase[] = [environmentCheck, stateAssessment, imageReuse, modelPrefetch, swap, verify];

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
 * serving and the error says so; the deploy lock is released whatever happens. An aborted
 * `signal` (Ctrl-C) stops the current step and takes the same way back: the deploy then fails
 * with CliError `interrupted`, saying what serves. A strategy switch is no different: what served
 * is stopped, not removed, until the new version is verified.
 */
export async function deploy(
  docker: Docker,
  config: DeployConfig,
  runPhases: PhaseRunner,
  options: { phases?: readonly DeployPhase[]; say?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<DeployReport> {
  const say = options.say ?? (() => undefined);
  const signal = options.signal ?? new AbortController().signal;
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
    signal,
  };
  let current: DeployPhase | undefined;
  let finished = false;
  // A phase starts only while the deploy is not interrupted; the one running says what stopping means.
  const watched = phases.map((phase): DeployPhase => ({
    title: phase.title,
    async run(c, sayLine) {
      signal.throwIfAborted();
      current = phase;
      await phase.run(c, sayLine);
    },
  }));
  const onAbort = (): void => {
    const { what } = interruptionCause(signal);
    if (finished) return say(`interrupted by ${what}: the deploy had already finished; the new version serves`);
    say(`interrupted by ${what}${current ? ` during ${current.title}` : ''}: ${stoppingPlan(ctx, current)}`);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await runPhases(watched, ctx);
    // Interrupted while the old app drained: the deploy is done, but not as asked.
    signal.throwIfAborted();
    finished = true;
  } catch (err) {
    const before = ctx.state === 'fresh' ? 'nothing was serving before, and nothing is now' : 'the previous version serves';
    if (ctx.swapped && !ctx.publicUrl) {
      await ctx.swapped.rollBack(say);
      if (signal.aborted) throw interrupted(ctx, current, `rolled back: ${before} (${ctx.deployment.rollBackOutcome})`, err);
      throw new CliError('rolled_back', `${(err as Error).message}\n  rolled back: ${before} (${ctx.deployment.rollBackOutcome})`, {
        cause: err,
      });
    }
    // What served could not take its port back: the error says so, and how to get it back.
    if (isCliError(err, 'restore_failed')) throw err;
    if (signal.aborted) {
      const outcome = ctx.publicUrl
        ? `the new version was verified and serves (${ctx.swapped?.serving ?? ''})${ctx.state === 'fresh' ? '' : '; the old one was retired without waiting for its drain'}`
        : current === swap
          ? `the swap was undone (${ctx.deployment.rollBackOutcome}): ${before}`
          : `nothing running was changed${ctx.state === undefined ? '' : `: ${ctx.state === 'fresh' ? 'nothing was deployed' : 'the previous version serves'}`}`;
      throw interrupted(ctx, current, outcome, err);
    }
    throw err;
  } finally {
    await ctx.lock?.release();
    signal.removeEventListener('abort', onAbort);
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

/** What an interrupted deploy does from where it is, said when the signal arrives. */
function stoppingPlan(ctx: DeployContext, current: DeployPhase | undefined): string {
  if (ctx.publicUrl)
    return ctx.state === 'fresh'
      ? 'the new version is verified and serves; there is no old app to retire'
      : 'the new version is verified and serves; the old app is stopped now instead of after its drain (open sessions get their finals)';
  if (ctx.swapped) return 'rolling back: the new app is removed and the previous version serves again; then the deploy lock is released';
  if (current === swap)
    return 'undoing the swap: the new app is removed and the previous version keeps (or resumes) serving; then the deploy lock is released';
  return 'nothing running has been changed; stopping before the swap and releasing the deploy lock';
}

/** The error an interrupted deploy ends with: what stopped it, where, and what serves now. */
function interrupted(ctx: DeployContext, phase: DeployPhase | undefined, outcome: string, cause: unknown): CliError {
  const { what, exitCode } = interruptionCause(ctx.signal);
  const during = phase ? ` during ${phase.title}` : '';
  const command = ctx.reusesImages ? 'restart' : 'deploy';
  return new CliError('interrupted', `${command} interrupted by ${what}${during}: ${outcome}; the deploy lock is released`, {
    cause,
    exitCode,
    hint: `asrctl status shows what runs; ${command} again when ready`,
  });
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
