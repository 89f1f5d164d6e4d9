import { join } from 'node:path';
import type Docker from 'dockerode';
import { type BuildProgress, buildImage } from '../docker/images.js';
import { BASE_IMAGES } from './base-image-names.js';
import type { SourceTree } from './source-tree.js';
import { CliError } from '../cli-error.js';

/** Builds docker/edge/Dockerfile (HAProxy and socat) on a Debian-based image. */
export async function buildEdgeImage(
  docker: Docker,
  source: SourceTree,
  request: { tag: string; baseImage: string; labels?: Record<string, string>; signal?: AbortSignal },
  onProgress?: (p: BuildProgress) => void,
): Promise<string> {
  try {
    return await buildImage(
      docker,
      {
        contextDir: join(source.dockerDir, 'edge'),
        entries: ['Dockerfile'],
        tag: request.tag,
        buildArgs: { EDGE_BASE_IMAGE: request.baseImage },
        ...(request.labels && { labels: request.labels }),
        ...(request.signal && { signal: request.signal }),
      },
      onProgress,
    );
  } catch (err) {
    throw new CliError('image_failed', `asrctl could not build the edge proxy image on ${request.baseImage}: ${(err as Error).message}`, {
      hint: edgeBuildHint(request.baseImage),
      cause: err,
    });
  }
}

function edgeBuildHint(baseImage: string): string {
  if (baseImage === BASE_IMAGES.edge)
    return 'check the engine (`docker info`) and its free disk space, or rebuild the base with `asrctl base-image build --only edge --force`';
  if (baseImage === BASE_IMAGES.debian)
    return "the build installs HAProxy and socat with apt, which needs Debian's mirror: check this host's network, or build where the mirror is reachable and `docker save`/`docker load` the image";
  return `the edge image installs HAProxy and socat with apt unless its base has them: without Debian's mirror, run \`asrctl base-image build\` and deploy with --edge-base-image ${BASE_IMAGES.edge}`;
}
