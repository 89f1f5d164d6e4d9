import { inspectImage } from '../../docker/images.js';
import { LABELS } from '../deployment-names.js';
import type { DeployPhase } from '../deploy-context.js';

export class NothingToRestartError extends Error {
  override readonly name = 'NothingToRestartError';
}

/** Restart's phase 4: no build; the serving app's image (and the edge's) run again. */
export const imageReuse: DeployPhase = {
  title: 'Image (reuse the running one)',
  async run(ctx, say) {
    const active = ctx.state?.apps.find((a) => a.color === ctx.state?.active);
    if (!active) throw new NothingToRestartError(`nothing serves as "${ctx.names.project}" to restart\n  hint: asrctl deploy`);
    const image = await ctx.docker.getImage(active.imageId).inspect();
    const labels = image.Config.Labels ?? {};
    // The tag it was started from, unless that tag now names another image.
    ctx.appImage = (await inspectImage(ctx.docker, active.image))?.id === active.imageId ? active.image : active.imageId;
    ctx.appLabels = Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith('io.asrctl.')));
    if (ctx.state?.edge) ctx.edgeImage = ctx.state.edge.imageId;
    else if (ctx.strategy.name === 'blue-green')
      throw new NothingToRestartError('the deployment has no edge to restart behind; use asrctl deploy');
    say(
      `${active.name}'s image ${active.image} (version ${labels[LABELS.version] ?? '?'}, commit ${(labels[LABELS.gitCommit] ?? '?').slice(0, 12)})`,
    );
  },
};
