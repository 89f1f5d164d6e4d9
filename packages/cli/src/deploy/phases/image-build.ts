import { createHash } from 'node:crypto';
import { buildAppImage } from '../../images/app-image.js';
import { buildEdgeImage } from '../../images/edge-image.js';
import { pushImage, tagImage } from '../../docker/images.js';
import { registryAuth } from '../../docker/registry-auth.js';
import { locateSourceTree } from '../../images/source-tree.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import type { DeployPhase } from '../deploy-context.js';
import { LABELS } from '../../deployment/deployment-names.js';

/** Phase 4: the app image (and the edge's) built while the running service keeps serving. */
export const imageBuild: DeployPhase = {
  title: 'Image build',
  async run(ctx, say) {
    const { docker, config, names, environment } = ctx;
    if (!environment) throw new Error('the image build needs the environment check');
    const source = await locateSourceTree();
    const labels = {
      [LABELS.version]: source.version,
      [LABELS.gitCommit]: source.gitCommit,
      [LABELS.configHash]: configHash({ ...config, memoryBytes: environment.memoryBytes }),
      [LABELS.models]: config.models.map((m) => `${m.language}=${m.hostDir}`).join(','),
    };
    const tag = `${names.appImage}:${source.gitCommit.slice(0, 12)}-${Date.now().toString(36)}`;
    const started = performance.now();
    // Each line once: a step's output follows its "Step N/M" line.
    await buildAppImage(docker, source, { tag, baseImage: environment.baseImage, labels, signal: ctx.signal }, (p) => say(p.line));
    say(
      `built ${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s (version ${source.version}, commit ${source.gitCommit.slice(0, 12)})`,
    );
    ctx.appImage = tag;
    ctx.appLabels = labels;
    const edge = ctx.deployment.edge;
    if (edge) {
      const edgeTag = `${names.edgeImage}:latest`;
      const edgeId = await buildEdgeImage(
        docker,
        source,
        { tag: edgeTag, baseImage: environment.edgeBaseImage, labels: { [LABELS.version]: source.version }, signal: ctx.signal },
        (p) => say(`edge · ${p.line}`),
      );
      ctx.edgeImage = edge.imageFor(edgeId);
      if (ctx.edgeImage !== edgeTag) await tagImage(docker, edgeId, ctx.edgeImage);
    }
    if (config.registry) {
      const auth = await registryAuth(config.registry);
      for (const key of ['appImage', 'edgeImage'] as const) {
        const local = ctx[key];
        if (!local) continue;
        const remote = `${config.registry}/${local.replace(/^asrctl\//u, '')}`;
        await tagImage(docker, local, remote);
        say(`pushing ${remote}`);
        await pushImage(docker, remote, auth, (line) => say(`push · ${line}`));
        ctx[key] = remote;
      }
    }
  },
};

/** What the app container depends on besides its image: a change shows in the label. */
function configHash(config: DeployConfig): string {
  const relevant = {
    models: config.models,
    defaultLanguage: config.defaultLanguage,
    memory: config.memoryBytes,
    cpus: config.cpus,
    gpus: config.gpus,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12);
}
