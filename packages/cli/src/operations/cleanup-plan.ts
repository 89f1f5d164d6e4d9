import { rm } from 'node:fs/promises';
import type Docker from 'dockerode';
import { type DeploymentNames, LABELS } from '../deployment/deployment-names.js';
import { findContainers, stopAndRemove } from '../docker/containers.js';
import { engineStatus } from '../docker/engine.js';
import { inspectImage } from '../docker/images.js';
import { SWARM_LABELS, inspectService, specImage, unusedSwarmObjects } from '../docker/swarm.js';
import { swarmOwnerLabels } from '../targets/swarm/swarm-rollout.js';

export interface CleanupItem {
  kind: 'container' | 'image' | 'dangling image' | 'swarm config' | 'swarm secret' | 'model';
  name: string;
  /** Why it may go. */
  why: string;
  remove(): Promise<void>;
}

/**
 * What `asrctl cleanup` may remove: stopped containers of the project, its app images not used by
 * a container, dangling images, and (only when asked) model directories. Running containers and
 * the images they use are never listed.
 */
export async function cleanupPlan(docker: Docker, names: DeploymentNames, options: { models?: string[] }): Promise<CleanupItem[]> {
  const items: CleanupItem[] = [];
  const containers = await findContainers(docker, { [LABELS.project]: names.project });
  // Swarm keeps its own task history (and prunes it); those containers are not ours to remove.
  const ours = containers.filter((x) => x.labels[LABELS.role] !== 'lock' && x.labels[SWARM_LABELS.task] === undefined);
  for (const c of ours.filter((x) => x.state !== 'running'))
    items.push({ kind: 'container', name: c.name, why: `${c.state}, not serving`, remove: () => stopAndRemove(docker, c.id, 0) });

  const inUse = new Set((await docker.listContainers({ all: true })).map((c) => c.ImageID));
  // On Swarm, the images services run and would roll back to stay too.
  for (const image of await swarmServiceImages(docker, names)) inUse.add(image);
  for (const image of await docker.listImages({ filters: { reference: [`${names.appImage}:*`, `${names.edgeImage}:*`] } })) {
    if (inUse.has(image.Id)) continue;
    for (const tag of image.RepoTags ?? [])
      items.push({ kind: 'image', name: tag, why: 'used by no container', remove: () => removeImage(docker, tag) });
  }
  for (const image of await docker.listImages({ filters: { dangling: ['true'] } }))
    items.push({
      kind: 'dangling image',
      name: image.Id.slice(7, 19),
      why: 'untagged layers left by rebuilds',
      remove: () => removeImage(docker, image.Id),
    });
  const objects = await unusedSwarmObjects(docker, swarmOwnerLabels(names)).catch(() => []); // [] when not a Swarm manager
  for (const o of objects) items.push({ kind: `swarm ${o.kind}`, name: o.name, why: 'used by no service', remove: o.remove });
  for (const dir of options.models ?? [])
    items.push({ kind: 'model', name: dir, why: 'asked for with --models', remove: () => rm(dir, { recursive: true, force: true }) });
  return items;
}

async function removeImage(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getImage(name).remove({});
  } catch (err) {
    if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err; // 409: in use after all; kept
  }
}

/** Image ids a project's Swarm services run or would roll back to (none when not a Swarm manager). */
async function swarmServiceImages(docker: Docker, names: DeploymentNames): Promise<string[]> {
  const ids: string[] = [];
  for (const name of [names.appService, names.edgeService]) {
    const service = await inspectService(docker, name).catch(() => undefined);
    for (const spec of [service?.spec, service?.previousSpec]) {
      const image = specImage(spec);
      const id = image ? (await inspectImage(docker, image))?.id : undefined;
      if (id) ids.push(id);
    }
  }
  return ids;
}
