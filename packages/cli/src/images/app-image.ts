import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { type BuildProgress, ImageBuildError, buildImage } from '../docker/images.js';
import { APP_CONTEXT_ENTRIES, stageAppContext } from './app-context.js';
import { BASE_IMAGES } from './base-image-names.js';
import type { SourceTree } from './source-tree.js';
import { CliError } from '../cli-error.js';

export interface AppImageRequest {
  tag: string;
  baseImage: string;
  labels: Record<string, string>;
  noCache?: boolean;
  signal?: AbortSignal;
}

/**
 * Builds the server image: the server bundled and its native parts staged from the checkout (see
 * app-context.ts), then docker/Dockerfile on that context. Needs no package manager or registry.
 */
export async function buildAppImage(
  docker: Docker,
  source: SourceTree,
  request: AppImageRequest,
  onProgress?: (p: BuildProgress) => void,
): Promise<string> {
  const stage = await mkdtemp(join(tmpdir(), 'asrctl-app-context-'));
  try {
    await stageAppContext(source, stage, (line) => onProgress?.({ step: 'staging the build context', line }));
    try {
      return await buildImage(
        docker,
        {
          contextDir: stage,
          entries: [...APP_CONTEXT_ENTRIES],
          tag: request.tag,
          buildArgs: { BASE_IMAGE: request.baseImage },
          labels: request.labels,
          noCache: request.noCache ?? false,
          ...(request.signal && { signal: request.signal }),
        },
        onProgress,
      );
    } catch (err) {
      throw appBuildFailure(err, request);
    }
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** The engine's failure, said as what asrctl was building and what to do about it. */
function appBuildFailure(err: unknown, request: AppImageRequest): CliError {
  const message = (err as Error).message;
  if (!(err instanceof ImageBuildError))
    return new CliError('image_failed', `asrctl could not build the app image ${request.tag}: the Docker engine failed: ${message}`, {
      hint: 'check the engine (`docker info`) and its free disk space, then deploy again; the running service was not changed',
      cause: err,
    });
  const atBase = /^Step 1\//u.test(err.step) || /pull access denied|manifest unknown|not found/iu.test(err.detail);
  return new CliError('image_failed', `asrctl could not build the app image on ${request.baseImage}: ${message}`, {
    hint: atBase
      ? `the base image ${request.baseImage} is missing or unusable: pull it, or run \`asrctl base-image build\` and deploy with --base-image ${BASE_IMAGES.node}`
      : `the base image must hold Node.js 20 or later on glibc (node:20-bookworm-slim and ${BASE_IMAGES.node} do); the step's output is above. The running service was not changed`,
    cause: err,
  });
}
