import { inspectImage } from '../../docker/images.js';
import { LABELS } from '../../deployment/deployment-names.js';
import type { DeployContext, DeployPhase } from '../deploy-context.js';
import { inspectService, specImage } from '../../docker/swarm.js';

export class NothingToRestartError extends Error {
  override readonly name = 'NothingToRestartError';
}

/** Restart's phase 4: no build; the serving app's image (and the edge's) run again. */
export const imageReuse: DeployPhase = {
  title: 'Image (reuse the running one)',
  async run(ctx, say) {
    if (ctx.config.target === 'swarm') return reuseServiceImages(ctx, say);
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

/** On Swarm: the images the services run now; the swap then replaces every task (a forced update). */
async function reuseServiceImages(ctx: DeployContext, say: (line: string) => void): Promise<void> {
  const image = async (service: string): Promise<string | undefined> => specImage((await inspectService(ctx.docker, service))?.spec);
  const app = await image(ctx.names.appService);
  const edge = await image(ctx.names.edgeService);
  if (!app || !edge)
    throw new NothingToRestartError(
      `"${ctx.names.project}" has no app and edge services on this Swarm to restart\n  hint: asrctl deploy --target swarm`,
    );
  const labels =
    (
      await ctx.docker
        .getImage(app)
        .inspect()
        .catch(() => undefined)
    )?.Config.Labels ?? {};
  ctx.appImage = app;
  ctx.edgeImage = edge;
  ctx.appLabels = Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith('io.asrctl.')));
  say(
    `${ctx.names.appService}'s image ${app} (version ${labels[LABELS.version] ?? '?'}, commit ${(labels[LABELS.gitCommit] ?? '?').slice(0, 12)})`,
  );
}
