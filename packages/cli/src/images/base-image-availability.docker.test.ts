import type Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { dockerForTests } from '../testing/docker-fixture.js';
import { OFFLINE_STAND_INS, ensureBaseImage } from './base-image-availability.js';
import { BASE_IMAGES } from './base-images.js';

/** A name no registry has: the pull fails whether or not a registry is reachable. */
const missing = `asrctl-test/no-such-base:${process.pid}`;

describe('choosing the base image on a real engine', () => {
  let docker: Docker;
  const lines: string[] = [];
  const say = (line: string): void => void lines.push(line);

  beforeAll(async () => {
    docker = await dockerForTests();
  }, 300_000);

  it('stands in for exactly the defaults deploy uses', () => {
    expect(OFFLINE_STAND_INS).toEqual({
      [DEPLOY_OPTIONS.options.baseImage.default]: BASE_IMAGES.node,
      [DEPLOY_OPTIONS.options.edgeBaseImage.default]: BASE_IMAGES.edge,
    });
  });

  it('keeps an image the engine has, without pulling', async () => {
    lines.length = 0;
    expect(await ensureBaseImage(docker, BASE_IMAGES.node, say)).toBe(BASE_IMAGES.node);
    expect(lines).toEqual([]);
  });

  it('uses the stand-in `asrctl base-image build` made when the image cannot be pulled, and says so', async () => {
    lines.length = 0;
    expect(await ensureBaseImage(docker, missing, say, { [missing]: BASE_IMAGES.node })).toBe(BASE_IMAGES.node);
    expect(lines[0]).toBe(`base image ${missing} is not here: pulling it`);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${missing} cannot be pulled \\(.+\\): using ${BASE_IMAGES.node} instead, made on this host by \`asrctl base-image build\`$`,
        'u',
      ),
    );
  }, 120_000);

  it('names the stand-in to build when it is missing too', async () => {
    const standIn = `asrctl-test/no-such-stand-in:${process.pid}`;
    await expect(ensureBaseImage(docker, missing, say, { [missing]: standIn })).rejects.toThrow(
      new RegExp(
        `base image ${missing} is not on this host and cannot be pulled: .+\\n  hint: .*run \`asrctl base-image build\`: deploy then uses ${standIn} by itself`,
        'u',
      ),
    );
  }, 120_000);

  it('names the real tags of the offline base images for an image with no stand-in', async () => {
    const attempt = ensureBaseImage(docker, missing, say, {});
    await expect(attempt).rejects.toThrow(expect.objectContaining({ code: 'engine_failed' }));
    await expect(attempt).rejects.toThrow(
      `run \`asrctl base-image build\` and deploy with --base-image asrctl/node-base:${process.versions.node} --edge-base-image asrctl/edge-base:bookworm`,
    );
  }, 120_000);
});
