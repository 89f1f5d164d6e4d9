import { rm } from 'node:fs/promises';
import type Docker from 'dockerode';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import { containerImageIds } from '../docker/containers.js';
import { listImages, removeImage } from '../docker/images.js';
import type { CleanupItem } from '../targets/deployment-target.js';
import { TARGETS } from '../targets/index.js';

export type { CleanupItem } from '../targets/deployment-target.js';

/**
 * What `asrctl cleanup` may remove: stopped containers of the project, its app images not used by
 * a container, dangling images, what each target leaves unused (Swarm configs and secrets), and
 * (only when asked) model directories. Running containers and the images they use are never listed.
 */
export async function cleanupPlan(docker: Docker, names: DeploymentNames, options: { models?: string[] }): Promise<CleanupItem[]> {
  const inUse = await containerImageIds(docker);
  const fromTargets: CleanupItem[] = [];
  for (const target of TARGETS) {
    const { imagesInUse, items } = await target.cleanup(docker, names);
    for (const image of imagesInUse) inUse.add(image);
    fromTargets.push(...items);
  }
  const containers = fromTargets.filter((i) => i.kind === 'container');
  const images: CleanupItem[] = [];
  for (const image of await listImages(docker, { reference: [`${names.appImage}:*`, `${names.edgeImage}:*`] })) {
    if (inUse.has(image.id)) continue;
    for (const tag of image.tags)
      images.push({ kind: 'image', name: tag, why: 'used by no container', remove: () => removeImage(docker, tag) });
  }
  for (const image of await listImages(docker, { dangling: ['true'] }))
    images.push({
      kind: 'dangling image',
      name: image.id.slice(7, 19),
      why: 'untagged layers left by rebuilds',
      remove: () => removeImage(docker, image.id),
    });
  const models = (options.models ?? []).map((dir): CleanupItem => ({
    kind: 'model',
    name: dir,
    why: 'asked for with --models',
    remove: () => rm(dir, { recursive: true, force: true }),
  }));
  return [...containers, ...images, ...fromTargets.filter((i) => i.kind !== 'container'), ...models];
}
