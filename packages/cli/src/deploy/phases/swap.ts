import type { DeployPhase } from '../deploy-context.js';
import { LABELS } from '../../deployment/deployment-names.js';
import { encodeSettings } from '../../deployment/deployment-record.js';

/** Phase 5: the strategy puts the new app in front of clients (and cleans up if it cannot). */
export const swap: DeployPhase = {
  title: 'Swap',
  async run(ctx, say) {
    const { environment, appImage, appLabels } = ctx;
    if (!ctx.state || !environment || !appImage || !appLabels) throw new Error('swap needs the state, the environment and the built image');
    ctx.swapped = await ctx.deployment.swap({
      // The memory limit the environment check found, where --memory was not given.
      config: { ...ctx.config, memoryBytes: environment.memoryBytes },
      appImage,
      ...(ctx.edgeImage && { edgeImage: ctx.edgeImage }),
      // The record and the mounted models ride on what runs, not only on the image, which a restart
      // reuses under new settings.
      appLabels: {
        ...appLabels,
        [LABELS.models]: ctx.config.models.map((m) => `${m.language}=${m.hostDir}`).join(','),
        [LABELS.settings]: encodeSettings(ctx.settings),
      },
      say,
      warnings: ctx.warnings,
      signal: ctx.signal,
    });
  },
};
