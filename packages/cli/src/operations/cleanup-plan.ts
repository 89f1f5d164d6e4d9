import { realpath, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import type Docker from 'dockerode';
import { CliError } from '../cli-error.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import { containerImages } from '../docker/containers.js';
import { listImages, removeImage } from '../docker/images.js';
import type { CleanupItem } from '../targets/deployment-target.js';
import { TARGETS } from '../targets/index.js';
import { type HostMount, hostMounts } from '../docker/mounts.js';
import { type AskedModelDirectory, type ModelRemovalProblem, askedModelDirectory, modelRemovalProblems } from './model-removal.js';
import { staleDeployLock } from './stale-deploy-lock.js';

export type { CleanupItem } from '../targets/deployment-target.js';

/**
 * What `asrctl cleanup` may remove: stopped containers of the project, its app images not used by
 * a container, dangling images, what each target leaves unused (Swarm configs and secrets), a deploy
 * lock whose holder is gone, and (only when asked) model directories. Running containers and the
 * images they use are never listed; a model directory that anything mounts, or that cannot be a
 * model, refuses the whole plan (CliError cleanup_refused, every reason at once).
 */
export async function cleanupPlan(
  docker: Docker,
  names: DeploymentNames,
  options: { models?: { dirs: string[]; root: string } },
): Promise<CleanupItem[]> {
  const models = options.models ? await modelsToRemove(docker, options.models.dirs, options.models.root) : [];
  const { ids: inUse, refs: usedTags } = await containerImages(docker);
  const fromTargets: CleanupItem[] = [];
  for (const target of TARGETS) {
    const { imagesInUse, items } = await target.cleanup(docker, names);
    for (const image of imagesInUse) inUse.add(image);
    fromTargets.push(...items);
  }
  const containers = fromTargets.filter((i) => i.kind === 'container');
  const images: CleanupItem[] = [];
  const ours = projectImageTag(names.project);
  for (const image of (await listImages(docker, {})).filter((i) => i.tags.some(ours))) {
    // Every deploy tags its build; identical builds share one image, so a running app's image may
    // carry many tags. Those no container names are untagged (the image stays for the one in use).
    // An image in use by id alone (a Swarm task, a container made from the id) keeps every tag.
    const idInUse = inUse.has(image.id);
    if (idInUse && !image.tags.some((tag) => usedTags.has(tag))) continue;
    for (const tag of image.tags.filter((t) => ours(t) && !usedTags.has(t)))
      images.push({
        kind: 'image',
        name: tag,
        why: idInUse ? 'a tag no container uses; the image stays for the tag in use' : 'used by no container',
        remove: () => removeImage(docker, tag),
      });
  }
  for (const image of await listImages(docker, { dangling: ['true'] }))
    images.push({
      kind: 'dangling image',
      name: image.id.slice(7, 19),
      why: 'untagged layers left by rebuilds',
      remove: () => removeImage(docker, image.id),
    });
  const locks = await staleDeployLock(docker, names);
  return [...containers, ...images, ...fromTargets.filter((i) => i.kind !== 'container'), ...locks, ...models];
}

/**
 * The --models directories as items, or CliError cleanup_refused with every reason to keep one.
 * Each is checked again just before it goes: a deploy may have mounted it while cleanup asked.
 */
async function modelsToRemove(docker: Docker, given: string[], root: string): Promise<CleanupItem[]> {
  const cwd = process.cwd();
  const problems = (dirs: AskedModelDirectory[]): Promise<ModelRemovalProblem[]> => modelDirectoryProblems(docker, dirs, root, cwd);
  const dirs = await Promise.all(given.map((dir) => askedModelDirectory(dir, cwd)));
  const refused = await problems(dirs);
  if (refused.length > 0)
    throw new CliError('cleanup_refused', `cleanup refused, nothing was removed:\n  - ${refused.map((p) => p.message).join('\n  - ')}`, {
      hint: 'fix or drop those --models directories, then run cleanup again',
      exitCode: refused.some((p) => p.kind === 'path') ? 2 : 1,
    });
  return dirs.map((dir) => ({
    kind: 'model',
    name: dir.path,
    why: 'asked for with --models',
    remove: async () => {
      const now = await problems([await askedModelDirectory(dir.path, cwd)]);
      if (now.length > 0) throw new Error(`kept: ${now.map((p) => p.message).join('; ')}`);
      await rm(dir.path, { recursive: true, force: true });
    },
  }));
}

/** Why each directory must stay (modelRemovalProblems), with every mount on this engine; `root`: the models directory. */
export async function modelDirectoryProblems(
  docker: Docker,
  dirs: AskedModelDirectory[],
  root: string,
  cwd: string,
): Promise<ModelRemovalProblem[]> {
  return modelRemovalProblems(dirs, {
    cwd,
    home: await realpathOr(homedir()),
    modelsRoot: await realpathOr(root),
    mounts: await withRealSources(await hostMounts(docker)),
  });
}

async function realpathOr(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/** Each mount, and again under its real path where a symlink leads there (the engine is on this host). */
async function withRealSources(mounts: HostMount[]): Promise<HostMount[]> {
  const real = await Promise.all(mounts.map(async (m) => ({ ...m, source: await realpathOr(m.source) })));
  return [...mounts, ...real.filter((m, i) => m.source !== mounts[i]!.source)];
}

/**
 * Whether a tag names one of the project's images, local (`asrctl/P-app`) or pushed to a registry
 * for Swarm (`REGISTRY/P-app`, `REGISTRY/P-edge`, and `REGISTRY/P-model-NAME` tagged with a
 * content hash). Exact names: another project's images never match (P-model's app is P-model-app,
 * tagged with a version, not a hash).
 */
function projectImageTag(project: string): (tag: string) => boolean {
  const escaped = project.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
  const pattern = new RegExp(`(?:^|/)${escaped}-(?:(?:app|edge):[^:/]+|model-[a-z0-9._-]+:[0-9a-f]{12})$`, 'u');
  return (tag) => pattern.test(tag);
}
