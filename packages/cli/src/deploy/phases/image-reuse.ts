import type { DeployPhase } from '../deploy-context.js';

/** Restart's phase 3 (before the models are fetched): no build; the serving app's image (and the edge's) run again. */
export const imageReuse: DeployPhase = {
  title: 'Image (reuse the running one)',
  async run(ctx, say) {
    const images = await ctx.deployment.reuseImages(say);
    ctx.appImage = images.appImage;
    ctx.appLabels = images.appLabels;
    if (images.edgeImage) ctx.edgeImage = images.edgeImage;
  },
};
