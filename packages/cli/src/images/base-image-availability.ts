import type Docker from 'dockerode';
import { engineMessage } from '../docker/engine.js';
import { inspectImage, pullImage } from '../docker/images.js';
import { BASE_IMAGES } from './base-image-names.js';
import { CliError } from '../cli-error.js';

/**
 * The public base images deploy defaults to, and the stand-in `asrctl base-image build` makes for
 * each on a host that cannot pull them (the node one holds this host's Node.js, the edge one
 * Debian with HAProxy and socat).
 */
export const OFFLINE_STAND_INS: Readonly<Record<string, string>> = {
  'node:20-bookworm-slim': BASE_IMAGES.node,
  'debian:bookworm-slim': BASE_IMAGES.edge,
};

/** The command that deploys on the offline base images, with their real tags. */
export const OFFLINE_BASE_FLAGS = `--base-image ${BASE_IMAGES.node} --edge-base-image ${BASE_IMAGES.edge}`;

/**
 * The base image to build on: `image` when the engine has it or can pull it; else its stand-in
 * from `asrctl base-image build` when that exists (said through `say`); else a CliError that
 * says how to get one.
 */
export async function ensureBaseImage(
  docker: Docker,
  image: string,
  say: (line: string) => void,
  standIns: Readonly<Record<string, string>> = OFFLINE_STAND_INS,
): Promise<string> {
  if (await inspectImage(docker, image)) return image;
  say(`base image ${image} is not here: pulling it`);
  let failure: string;
  try {
    await pullImage(docker, image);
    return image;
  } catch (err) {
    failure = engineMessage(err).trim();
  }
  const standIn = standIns[image];
  if (standIn && (await inspectImage(docker, standIn))) {
    say(`${image} cannot be pulled (${failure}): using ${standIn} instead, made on this host by \`asrctl base-image build\``);
    return standIn;
  }
  throw new CliError('engine_failed', `base image ${image} is not on this host and cannot be pulled: ${failure}`, {
    hint: standIn
      ? `on a host without registry access, run \`asrctl base-image build\`: deploy then uses ${standIn} by itself`
      : `pull or load ${image} into this engine, or run \`asrctl base-image build\` and deploy with ${OFFLINE_BASE_FLAGS}`,
  });
}
