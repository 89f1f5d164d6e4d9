import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGES } from '../images/base-images.js';
import { dockerForTests } from '../testing/docker-fixture.js';
import { type BuildProgress, ImageBuildError, buildImage } from './images.js';

const tag = `asrctl/images-test-${process.pid}:failing`;
let docker: Docker;
let context: string;

beforeAll(async () => {
  docker = await dockerForTests();
  context = await mkdtemp(join(tmpdir(), 'asrctl-images-test-'));
  // Only a failing step after FROM: no layer is committed, so the test leaves no image behind.
  await writeFile(join(context, 'Dockerfile'), `FROM ${BASE_IMAGES.debian}\nRUN echo first && echo about to fail && false\n`);
}, 300_000);

afterAll(async () => {
  await rm(context, { recursive: true, force: true });
});

describe('buildImage progress', () => {
  it('reports each step and each output line once, without the builder’s bookkeeping, and a failure once', async () => {
    const progress: BuildProgress[] = [];
    const failure = await buildImage(docker, { contextDir: context, entries: ['Dockerfile'], tag }, (p) => progress.push(p)).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ImageBuildError);
    expect(progress.map((p) => p.line)).toEqual([
      `Step 1/2 : FROM ${BASE_IMAGES.debian}`,
      'Step 2/2 : RUN echo first && echo about to fail && false',
      'first',
      'about to fail',
    ]);
    expect(progress.at(-1)?.step).toBe('Step 2/2 : RUN echo first && echo about to fail && false');
    // The output was reported as it came: the error names the step and the reason, not the output again.
    const message = (failure as Error).message;
    expect(message).toMatch(
      /^building .* failed at Step 2\/2 : RUN echo first && echo about to fail && false: .*returned a non-zero code: 1$/u,
    );
    expect((failure as ImageBuildError).output).toEqual(['first', 'about to fail']);
  }, 120_000);

  it('puts the failing step’s output in the error when nobody watched the progress', async () => {
    const failure = await buildImage(docker, { contextDir: context, entries: ['Dockerfile'], tag }).catch((err: unknown) => err);
    expect((failure as Error).message).toMatch(/failed at Step 2\/2 : .*\n {2}its output:\n {4}first\n {4}about to fail$/u);
  }, 120_000);
});
