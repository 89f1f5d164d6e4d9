import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { beforeEach } from 'vitest';
import { type DeployConfig, type DeployInput, resolveDeployConfig } from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { connectEngine, engineFacts } from '../docker/engine.js';
import { BASE_IMAGES, buildBaseImages } from '../images/base-images.js';
import { locateSourceTree } from '../images/source-tree.js';
import { stopDeployment } from '../targets/docker/stop-deployment.js';

/**
 * The real Docker engine for integration tests (`*.docker.test.ts`). No registry is reachable in
 * CI, so the base images are built offline once (about a minute) and kept.
 */
export async function dockerForTests(): Promise<Docker> {
  const docker = connectEngine();
  await engineFacts(docker).catch((err: Error) => {
    throw new Error(`these tests need a running Docker engine (scripts/start-docker-engine starts one): ${err.message}`);
  });
  await buildBaseImages(docker, await locateSourceTree(), ['node', 'debian', 'edge']);
  return docker;
}

/**
 * The tests of a Docker test file build on each other (the first deploys, the next ones change that
 * deployment): once one fails, each later one fails at once naming it, instead of failing on the
 * state it left (`FROM undefined`, reading 'spec' of undefined, refused connections). Call at the
 * top of the describe block.
 */
export function stopAfterFirstFailure(): void {
  let failed: string | undefined;
  beforeEach(({ task, onTestFailed }) => {
    if (failed !== undefined) throw new Error(`not run: this test builds on "${failed}", which failed (its error is above)`);
    onTestFailed(() => {
      failed ??= task.name;
    });
  });
}

export interface TestModels {
  dir: string;
  cn: string;
  en: string;
  remove(): Promise<void>;
}

export async function toneModelsForDeploy(): Promise<TestModels> {
  const dir = await mkdtemp(join(tmpdir(), 'asrctl-deploy-models-'));
  const cn = join(dir, 'cn');
  const en = join(dir, 'en');
  await writeToneModel(cn, { words: toneWordsFor('cn') });
  await writeToneModel(en, { words: toneWordsFor('en') });
  return { dir, cn, en, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A port the kernel has free on `host`: probe the address the deploy binds (Swarm publishes on
 * 0.0.0.0, where a port free only on 127.0.0.1 may be taken).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A deploy configuration on the offline base images, bound to loopback (Swarm publishes on every address). */
export function testDeployConfig(project: string, port: number, models: TestModels, extra: DeployInput = {}): DeployConfig {
  return resolveDeployConfig(
    [
      {
        project,
        port: String(port),
        ...(extra.target !== 'swarm' && { bind: '127.0.0.1' }),
        model: [`cn=${models.cn}`, `en=${models.en}`],
        baseImage: BASE_IMAGES.node,
        edgeBaseImage: BASE_IMAGES.edge,
        drainTimeout: '3',
        // Off unless a test asks: test files run in parallel and must not share host ports.
        voskPort: '0',
        funasrPort: '0',
      },
      extra,
    ],
    process.cwd(),
  );
}

/** Removes everything a test deployment made: containers, network, lock, its images. */
export async function removeTestDeployment(docker: Docker, project: string): Promise<void> {
  const names = deploymentNames(project);
  await stopDeployment(docker, names);
  await docker
    .getNetwork(names.lock)
    .remove()
    .catch(() => undefined);
  const images = await docker.listImages({ filters: { reference: [`${names.appImage}:*`, `${names.edgeImage}:*`] } });
  for (const image of images)
    for (const tag of image.RepoTags ?? [])
      await docker
        .getImage(tag)
        .remove({})
        .catch(() => undefined);
}

/** A self-signed certificate for localhost, made with openssl. */
export async function selfSignedCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}
