import { describeModelProblems, inspectModelDirectory } from '@asrctl/server';
import { directorySize, formatBytes } from '../../models/disk.js';
import type { DeployPhase } from '../deploy-context.js';

export class ModelPrefetchError extends Error {
  override readonly name = 'ModelPrefetchError';
}

/**
 * Phase 3: every model the deployment mounts is present and complete before anything stops
 * (libvosk would otherwise fail inside the new container, after the build).
 */
export const modelPrefetch: DeployPhase = {
  title: 'Model prefetch',
  async run(ctx, say) {
    for (const model of ctx.config.models) {
      const problems = await inspectModelDirectory(model.hostDir);
      if (problems === 'not_a_directory' || problems.length > 0)
        throw new ModelPrefetchError(
          `${model.language} model: ${describeModelProblems(model.hostDir, problems)}\n  hint: give an existing model directory with --model ${model.language}=DIR (asrctl models synth DIR makes a test model)`,
        );
      say(`${model.language}: ${model.hostDir} (${formatBytes(await directorySize(model.hostDir))}) is complete`);
    }
  },
};
