import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { pack } from 'tar-fs';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { type ModelMount, modelName, modelPath } from '../../deployment/model-mount.js';
import type { DeploymentNames } from '../../deployment/deployment-names.js';
import { buildImage, inspectImage, pushImage } from '../../docker/images.js';
import type { RegistryAuth } from '../../docker/registry-auth.js';
import { CliError } from '../../cli-error.js';
import { MANIFEST_FILE, type ModelManifest, hashTree, manifestMismatches, readManifest } from '../../models/model-manifest.js';
import { MODEL_INTEGRITY_ENTRY } from './model-integrity-entry.js';

/** A model as an image: its directory as the only layer, named by the files actually in it. */
export interface ModelImage {
  model: ModelMount;
  image: string;
  /** sha256 (12 hex) over the directory's files as hashed now: the same files, the same tag. */
  contentHash: string;
}

const sha12 = (data: string): string => createHash('sha256').update(data).digest('hex').slice(0, 12);
const repoSafe = (name: string): string => name.toLowerCase().replace(/[^a-z0-9._-]+/gu, '-');

/**
 * The file list a model travels with, hashed from the directory now: its installed manifest when
 * the files still match it (a directory that no longer does is refused, before any image is built
 * from it), or a manifest made now when it has none.
 */
export async function manifestFor(model: ModelMount): Promise<{ manifest: ModelManifest; installed: boolean; contentHash: string }> {
  const files = await hashTree(model.hostDir).catch((err: Error) => {
    throw new CliError(
      'environment_unfit',
      `the model directory ${model.hostDir} cannot be read here (${err.message}); with --registry the models travel from the host asrctl runs on`,
      { hint: 'put the model there (asrctl models pull) or give --model another directory' },
    );
  });
  const contentHash = sha12(JSON.stringify(files));
  const installed = await readManifest(model.hostDir);
  if (!installed)
    return {
      manifest: { name: modelName(model), source: model.hostDir, installedAt: new Date().toISOString(), files },
      installed: false,
      contentHash,
    };
  const problems = manifestMismatches(installed, files);
  if (problems.length > 0)
    throw new CliError(
      'model_changed',
      `the model directory ${model.hostDir} no longer matches its ${MANIFEST_FILE}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
      {
        hint: `asrctl models verify ${modelName(model)} shows what changed; pull it again (asrctl models pull ${modelName(model)} --force) or restore its files, then deploy again`,
      },
    );
  return { manifest: installed, installed: true, contentHash };
}

/** `<registry>/<project>-model-<name>:<content hash>` */
export function modelImageName(registry: string, names: DeploymentNames, model: ModelMount, contentHash: string): string {
  return `${registry}/${names.project}-model-${repoSafe(modelName(model))}:${contentHash}`;
}

/**
 * The Dockerfile of the image a Swarm deploy runs when models travel by the registry: the app image
 * with each model image's layer copied to where a bind mount would have put it, and the integrity
 * check as the entry point.
 */
export function appWithModelsDockerfile(appImage: string, models: ModelImage[]): string {
  return [
    ...models.map((m, i) => `FROM ${m.image} AS model${i}`),
    `FROM ${appImage}`,
    ...models.map((m, i) => `COPY --from=model${i} / ${modelPath(m.model)}/`),
    'COPY model-integrity-entry.mjs /app/model-integrity-entry.mjs',
    'CMD ["node", "/app/model-integrity-entry.mjs"]',
    '',
  ].join('\n');
}

/**
 * Puts the models on every node through the registry: each model directory becomes an image (one
 * layer, FROM scratch, tagged by its content hash, imported once), is pushed, and the app image is
 * rebuilt with them as layers. Nodes pull that image like any other; nothing is read from a node's
 * disk, and each task checks the models against their manifests before it serves.
 */
export async function appImageWithModels(
  docker: Docker,
  config: DeployConfig & { registry: string },
  names: DeploymentNames,
  appImage: string,
  auth: RegistryAuth,
  say: (line: string) => void,
): Promise<{ image: string; models: ModelImage[] }> {
  const found: Array<ModelImage & { manifest: ModelManifest | undefined }> = [];
  for (const model of config.models) {
    const { manifest, installed, contentHash } = await manifestFor(model);
    const image = modelImageName(config.registry, names, model, contentHash);
    found.push({ model, image, contentHash, manifest: installed ? undefined : manifest });
  }
  const models = found.map(({ model, image, contentHash }) => ({ model, image, contentHash }));
  // A restart hands in the image that runs, which holds models already: named after its model-free
  // base, the same models give the same tag, so it runs again as it is (in the registry already).
  const base = modelFreeBase(appImage);
  const tag = `${base}-models-${sha12(models.map((m) => m.image).join('\n'))}`;
  if (tag === appImage) {
    say(`${tag} holds these models already: nothing to build or push`);
    return { image: tag, models };
  }
  for (const { model, image, manifest } of found) {
    if (!(await inspectImage(docker, image))) {
      const started = performance.now();
      await importDirectory(docker, model.hostDir, image, manifest);
      say(`model ${modelName(model)} as image ${image} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
    await pushImage(docker, image, auth, (line) => say(`push · ${line}`));
  }
  if (!(await inspectImage(docker, tag))) {
    const context = await mkdtemp(join(tmpdir(), 'asrctl-app-models-'));
    try {
      await writeFile(join(context, 'Dockerfile'), appWithModelsDockerfile(base, models));
      await writeFile(join(context, 'model-integrity-entry.mjs'), MODEL_INTEGRITY_ENTRY);
      await buildImage(docker, { contextDir: context, entries: ['Dockerfile', 'model-integrity-entry.mjs'], tag });
    } finally {
      await rm(context, { recursive: true, force: true });
    }
  }
  say(`pushing ${tag} (the app with its models as layers)`);
  await pushImage(docker, tag, auth, (line) => say(`push · ${line}`));
  return { image: tag, models };
}

/**
 * The app image without models that `image` was built from: `image` itself unless it is an app
 * with its models (`<app image>-models-<hash>`; repeated in the tags earlier restarts built, each
 * on top of the last).
 */
export function modelFreeBase(image: string): string {
  return image.replace(/(?:-models-[0-9a-f]{12})+$/u, '');
}

/** The directory as a FROM-scratch image of one layer (the engine's import), with `manifest` added if given. */
async function importDirectory(docker: Docker, dir: string, image: string, manifest: ModelManifest | undefined): Promise<void> {
  const at = image.lastIndexOf(':');
  const tar = pack(dir, {
    // Readable by the app's user (1000), whoever owns the files here.
    map: (header) => ({ ...header, uid: 0, gid: 0, mode: header.type === 'directory' ? 0o755 : 0o644 }),
    ...(manifest && {
      finalize: false,
      finish: (pack) => {
        pack.entry({ name: MANIFEST_FILE, mode: 0o644 }, `${JSON.stringify(manifest, null, 2)}\n`);
        pack.finalize();
      },
    }),
  });
  const stream = await docker.importImage(tar, { repo: image.slice(0, at), tag: image.slice(at + 1) });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  if (!(await inspectImage(docker, image))) throw new Error(`importing the model directory ${dir} as ${image} left no image`);
}
