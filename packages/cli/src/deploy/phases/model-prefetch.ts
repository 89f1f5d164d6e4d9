import { basename, dirname, resolve } from 'node:path';
import { describeModelProblems, inspectModelDirectory } from '@asrctl/server';
import { directorySize, formatBytes } from '../../models/disk.js';
import { ModelStore } from '../../models/model-store.js';
import type { DeployPhase } from '../deploy-context.js';
import type { ModelMount } from '../../deployment/model-mount.js';
import { CliError } from '../../cli-error.js';

/**
 * Phase 3, while the old service keeps serving: catalog models are downloaded if missing (no
 * network if installed), and every model the deployment mounts is checked complete before
 * anything stops (libvosk would otherwise fail inside the new container, after the build).
 */
export const modelPrefetch: DeployPhase = {
  title: 'Model prefetch',
  async run(ctx, say) {
    const store = new ModelStore(ctx.config.modelsDir);
    for (const model of ctx.config.models) {
      if (model.catalogName) {
        let lastShown = 0;
        const outcome = await store.pull(
          { name: model.catalogName, source: { kind: 'catalog' }, ...(ctx.config.mirror !== undefined && { mirror: ctx.config.mirror }) },
          {
            say: (line) => say(`${model.language}: ${line}`),
            onProgress: (p) => {
              if (Date.now() - lastShown < 500) return;
              lastShown = Date.now();
              say(
                `${model.language}: ${formatBytes(p.transferredBytes)}${p.totalBytes ? ` of ${formatBytes(p.totalBytes)}` : ''} at ${formatBytes(p.bytesPerSecond)}/s`,
              );
            },
            signal: ctx.signal,
            onRetry: (attempt, error, at) =>
              say(
                `${model.language}: attempt ${attempt} failed (${error.message}); ${at > 0 ? `resuming at ${formatBytes(at)}` : 'trying again'}`,
              ),
          },
        );
        if (outcome.action !== 'present')
          say(`${model.language}: ${model.catalogName} installed (${formatBytes(outcome.downloadedBytes)} downloaded)`);
      }
      const problems = await inspectModelDirectory(model.hostDir);
      if (problems === 'not_a_directory' || problems.length > 0)
        throw new CliError('model_prefetch_failed', `${model.language} model: ${describeModelProblems(model.hostDir, problems)}`, {
          hint: `${await modelHint(model, ctx.config.modelsDir, problems === 'not_a_directory')}`,
        });
      say(`${model.language}: ${model.hostDir} (${formatBytes(await directorySize(model.hostDir))}) is complete`);
    }
  },
};

/** What to do about a model directory that is missing or incomplete. */
async function modelHint(model: ModelMount, modelsDir: string, missing: boolean): Promise<string> {
  const name = basename(model.hostDir);
  // A bare name means a model under the models directory: say so when one of that name is right here.
  if (missing && dirname(model.hostDir) === modelsDir && (await inspectModelDirectory(resolve(name))) !== 'not_a_directory')
    return `a bare name (${name}) is a model under the models directory ${modelsDir}; for the directory here, write --model ${model.language}=./${name}`;
  return missing
    ? `give an existing model directory with --model ${model.language}=DIR (asrctl models synth DIR makes a test model)`
    : `the directory is incomplete: copy or unpack the whole model again (asrctl models pull NAME --from ZIP checks it), or give another with --model ${model.language}=DIR`;
}
