import { join } from 'node:path';
import type Docker from 'dockerode';
import { type BuildProgress, buildImage } from '../docker/images.js';
import type { SourceTree } from './source-tree.js';

/** Builds docker/edge/Dockerfile (HAProxy and socat) on a Debian-based image. */
export async function buildEdgeImage(
  docker: Docker,
  source: SourceTree,
  request: { tag: string; baseImage: string; labels?: Record<string, string> },
  onProgress?: (p: BuildProgress) => void,
): Promise<string> {
  return buildImage(
    docker,
    {
      contextDir: join(source.dockerDir, 'edge'),
      entries: ['Dockerfile'],
      tag: request.tag,
      buildArgs: { EDGE_BASE_IMAGE: request.baseImage },
      ...(request.labels && { labels: request.labels }),
    },
    onProgress,
  );
}
