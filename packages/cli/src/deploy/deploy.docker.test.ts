import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowHighClip, parseToneWords, writeToneModel } from '@asrctl/tone-model';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../client/transcription-client.js';
import { execIn, inspectContainer } from '../docker/containers.js';
import { buildImage } from '../docker/images.js';
import { BASE_IMAGES } from '../images/base-images.js';
import { deploymentStatus } from '../targets/docker/deployment-status.js';
import { startConnectionLoop } from '../load/connection-loop.js';
import {
  type TestModels,
  dockerForTests,
  freePort,
  removeTestDeployment,
  stopAfterFirstFailure,
  testDeployConfig,
  toneModelsForDeploy,
} from '../testing/docker-fixture.js';
import { type ModelServer, startModelServer, zipDirectory } from '../testing/model-server.js';
import { startStreamingSession } from '../load/streaming-session.js';
import { givenSettings, settingsFor } from '../commands/deployment-settings.js';
import type { DeployInput } from '../deployment/deploy-config.js';
import { deploy, plainPhaseRunner } from './deploy.js';
import { acquireDeployLock } from './deploy-lock.js';
import { edgeCommand, waitUntilEdgeSeesUp } from '../edge/edge-runtime.js';
import { deploymentNames, LABELS } from '../deployment/deployment-names.js';
import { pollUntil } from '@asrctl/server';

const CLI = new URL('../../dist/main.cjs', import.meta.url).pathname;
const project = `asrtest${process.pid}`;
const names = deploymentNames(project);

describe('asrctl deploy on a real Docker engine (blue/green behind HAProxy)', () => {
  let docker: Docker;
  let models: TestModels;
  let port: number;
  let work: string;
  const lines: string[] = [];
  let mirror: ModelServer;
  let voskPort: number;
  let funasrPort: number;
  const record = (l: string): void => void lines.push(l);
  // Catalog names, installed from a mirror (a local HTTP server serving the tone models' zips).
  const catalogModels = (): DeployInput => ({
    model: ['cn=vosk-model-small-cn-0.22', 'en=vosk-model-small-en-us-0.15'],
    modelsDir: join(work, 'models'),
    mirror: mirror.url,
    voskPort: String(voskPort),
    funasrPort: String(funasrPort),
  });
  const run = (extra: DeployInput = {}) =>
    deploy(docker, testDeployConfig(project, port, models, { ...catalogModels(), ...extra }), plainPhaseRunner(record), { say: record });
  const url = (): string => `ws://127.0.0.1:${port}/`;
  const recognize = async (language: 'cn' | 'en'): Promise<string[]> =>
    (await transcribe({ url: url(), samples: lowHighClip(16000), sampleRate: 16000, language })).map((f) => f.text);
  const activeColor = async (): Promise<string | undefined> => (await deploymentStatus(docker, names)).active;
  stopAfterFirstFailure();

  beforeAll(async () => {
    docker = await dockerForTests();
    models = await toneModelsForDeploy();
    port = await freePort();
    voskPort = await freePort();
    funasrPort = await freePort();
    work = await mkdtemp(join(tmpdir(), 'asrctl-deploy-test-'));
    mirror = await startModelServer();
    mirror.serve('/vosk-model-small-cn-0.22.zip', await zipDirectory(models.cn, 'vosk-model-small-cn-0.22'));
    mirror.serve('/vosk-model-small-en-us-0.15.zip', await zipDirectory(models.en, 'vosk-model-small-en-us-0.15'));
  }, 300_000);

  afterAll(async () => {
    // Whatever beforeAll got to make before a failure.
    if (docker) await removeTestDeployment(docker, project);
    await mirror?.close();
    await models?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  }, 120_000);

  it('deploys fresh with catalog models fetched from a mirror, and answers a real recognition through the public port', async () => {
    const report = await run();
    expect(mirror.requests.map((r) => r.path).sort()).toEqual(['/vosk-model-small-cn-0.22.zip', '/vosk-model-small-en-us-0.15.zip']);
    expect(report.heard).toEqual({ cn: '低 高', en: 'low high' });
    expect(report.color).toBe('blue');
    expect(await recognize('en')).toEqual(['low high']);
    expect(await recognize('cn')).toEqual(['低 高']);

    // Existing vosk-server and FunASR clients change only the host: the edge publishes their ports.
    expect(lines.join('\n')).toContain(`vosk client: heard "低 高" through port ${voskPort}`);
    expect(lines.join('\n')).toContain(`funasr client: heard "低高" through port ${funasrPort}`);
    const status = await deploymentStatus(docker, names);
    expect(status).toMatchObject({
      kind: 'update',
      shape: 'blue-green',
      active: 'blue',
      publishedAs: `127.0.0.1:${port},vosk=${voskPort},funasr=${funasrPort}`,
    });
    const edge = await inspectContainer(docker, names.edge);
    expect(edge?.labels).toMatchObject({ [LABELS.composeProject]: project, [LABELS.composeService]: 'edge' });
    // Hardened containers: the app read-only, non-root, no capabilities, models read-only.
    const appInspect = await docker.getContainer(names.app('blue')).inspect();
    expect(appInspect.Config.User).toBe('1000:1000');
    expect(appInspect.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      PidsLimit: 256,
      // Memory limited by default: twice what the models need (two small catalog models at about
      // 300 MiB each, plus 300 MiB for the server), at least 1 GiB.
      Memory: 2 * (300 + 300 + 300) * 1024 ** 2,
    });
    expect(appInspect.Mounts.filter((m) => m.Destination.startsWith('/models/')).map((m) => m.RW)).toEqual([false, false]);
    const edgeInspect = await docker.getContainer(names.edge).inspect();
    expect(edgeInspect.HostConfig).toMatchObject({
      CapDrop: ['ALL'],
      CapAdd: ['SETUID', 'SETGID', 'KILL'],
      SecurityOpt: ['no-new-privileges:true'],
    });
    // No build tools in the image: only production dependencies were staged.
    const typescript = await execIn(docker, names.app('blue'), ['node', '-e', "require.resolve('typescript')"]);
    expect(typescript.exitCode).not.toBe(0);
    const app = status.containers.find((c) => c.role === 'app');
    expect(app).toMatchObject({ color: 'blue', health: 'healthy', labels: { version: '0.1.0' } });
    expect(app?.labels.gitCommit).toMatch(/^[0-9a-f]{40}|unknown/u);
  });

  it('updates under a client every 20 ms with zero failed connections; a streaming session gets every final', async () => {
    const blueImage = (await docker.getContainer(names.app('blue')).inspect()).Image;
    const session = await startStreamingSession(url());
    const loop = startConnectionLoop(url(), 20);
    const report = await run();
    const connections = await loop.stop();
    const streamed = await session.stop();

    expect(report.previousColor).toBe('blue');
    expect(report.color).toBe('green');
    expect(mirror.requests).toHaveLength(2); // models present: no network
    // Same sources: every layer (the native parts, the page, the bundle: the same bytes from esbuild)
    // is the one blue's image has; only labels differ.
    const layers = async (image: string): Promise<string[]> => (await docker.getImage(image).inspect()).RootFS.Layers ?? [];
    expect(await layers(report.appImage)).toEqual(await layers(blueImage));
    expect(connections.failures).toEqual([]);
    expect(connections.attempts).toBeGreaterThan(200);
    // The session stayed on blue through the switch; blue's drain ended it with 1012 after its finals.
    // (How many clips fit depends on how fast the update is: a cached build takes a few seconds.)
    expect(streamed.errors).toEqual([]);
    expect(streamed.clipsSent).toBeGreaterThan(0);
    expect(streamed.finals.slice(0, streamed.clipsSent)).toEqual(Array(streamed.clipsSent).fill('低 高'));
    expect(streamed.closeCode).toBe(1012);
    expect(await recognize('en')).toEqual(['low high']);
    expect(await activeColor()).toBe('green');
    expect(await inspectContainer(docker, names.app('blue'))).toBeUndefined();
  }, 120_000);

  it('rolls back when verification through the public port fails; the old version keeps serving', async () => {
    // The new edge settings admit nobody from here, so only the public probe fails.
    await expect(run({ allow: ['10.255.255.1/32'] })).rejects.toThrow(expect.objectContaining({ code: 'rolled_back' }));
    expect(lines.join('\n')).toMatch(/the edge sends new connections to green again, with its previous settings/u);
    expect(await activeColor()).toBe('green');
    expect(await inspectContainer(docker, names.app('blue'))).toBeUndefined();
    expect(await recognize('en')).toEqual(['low high']);
  }, 120_000);

  it('refuses a port held by a process that is not this deployment, and stops nothing', async () => {
    const foreignPort = await freePort();
    const foreign: Server = createServer();
    await new Promise<void>((resolve) => foreign.listen(foreignPort, '127.0.0.1', resolve));
    try {
      const attempt = deploy(
        docker,
        testDeployConfig(project, foreignPort, models),
        plainPhaseRunner(() => undefined),
      );
      await expect(attempt).rejects.toThrow(new RegExp(`port ${foreignPort} on 127.0.0.1 is in use by a process on this host`, 'u'));
    } finally {
      foreign.close();
    }
    expect(await activeColor()).toBe('green');
    expect(await recognize('cn')).toEqual(['低 高']);
  }, 60_000);

  it('reports the failing build step and leaves the running service untouched', async () => {
    // A base image where /app is a file: the Dockerfile's WORKDIR /app cannot succeed.
    const context = join(work, 'broken-base');
    await mkdir(context);
    await writeFile(join(context, 'Dockerfile'), `FROM ${BASE_IMAGES.node}\nRUN ["/bin/busybox", "touch", "/app"]\n`);
    const brokenBase = `asrctl/${project}-broken-base:test`;
    await buildImage(docker, { contextDir: context, entries: ['Dockerfile'], tag: brokenBase });
    try {
      const attempt = run({ baseImage: brokenBase });
      await expect(attempt).rejects.toThrow(/building asrctl\/.*-app:.* failed at Step \d+\/\d+ : WORKDIR \/app/u);
      // Said as what asrctl was doing, and what to do.
      await expect(attempt).rejects.toThrow(
        new RegExp(
          `^asrctl could not build the app image on ${brokenBase}: [\\s\\S]*\\n  hint: the base image must hold Node\\.js 20`,
          'u',
        ),
      );
    } finally {
      await docker.getImage(brokenBase).remove({ force: true });
    }
    expect(await activeColor()).toBe('green');
    expect(await recognize('en')).toEqual(['low high']);
  }, 120_000);

  it('says clearly when a GPU is asked for on a host without one, and removes the container it created', async () => {
    await expect(run({ gpus: 'all' })).rejects.toThrow(/cannot give .* a GPU \(--gpus all\)[\s\S]*the container was removed/u);
    expect(await inspectContainer(docker, names.app('blue'))).toBeUndefined();
    expect(await activeColor()).toBe('green');
    expect(await recognize('en')).toEqual(['low high']);
  }, 120_000);

  it('shows an app that crashed and was restarted by Docker, still serving', async () => {
    // A crash as the kernel sees it: the app's process killed from the host (`docker kill` would
    // count as an operator's stop, which the restart policy respects).
    const { State } = await docker.getContainer(names.app('green')).inspect();
    process.kill(State.Pid, 'SIGKILL');
    await pollUntil(
      () => inspectContainer(docker, names.app('green')),
      (facts) => facts?.restartCount === 1 && facts.health === 'healthy',
      { what: 'the killed app to be restarted and healthy', timeoutMs: 60_000, intervalMs: 250 },
    );
    const status = await deploymentStatus(docker, names);
    expect(status).toMatchObject({ kind: 'update', active: 'green' });
    expect(status.containers.find((c) => c.role === 'app')?.restarts).toBe(1);
    expect(await recognize('en')).toEqual(['low high']);
  }, 120_000);

  it('reports a deployment whose app was stopped as broken, and a deploy repairs it', async () => {
    await docker.getContainer(names.app('green')).stop();
    const broken = await deploymentStatus(docker, names);
    expect(broken).toMatchObject({
      kind: 'broken',
      problems: ['the edge routes to no healthy app', `${names.app('green')} is exited (unhealthy) and not serving`],
    });
    const report = await run();
    expect(report.color).toBe('blue');
    expect(await recognize('cn')).toEqual(['低 高']);
    const repaired = await deploymentStatus(docker, names);
    expect(repaired).toMatchObject({ kind: 'update', active: 'blue', problems: [] });
    expect(repaired.containers.map((c) => c.name).sort()).toEqual([names.app('blue'), names.edge].sort());
  }, 120_000);

  it('status, logs, restart, stop and cleanup work as an operator runs them', async () => {
    const target = ['--project', project];
    const asrctl = (...args: string[]) => execa('node', [CLI, ...args], { reject: false, cwd: work });

    const status = await asrctl('status', ...target, '--json');
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      kind: 'update',
      active: 'blue',
      settings: { model: ['cn=vosk-model-small-cn-0.22', 'en=vosk-model-small-en-us-0.15'], modelsDir: join(work, 'models') },
    });
    const shown = (await asrctl('status', ...target)).stdout;
    expect(shown).toMatch(
      new RegExp(
        `"${project}": serving \\(blue-green, blue active, port 127.0.0.1:${port}, vosk=${voskPort}, funasr=${funasrPort}\\)`,
        'u',
      ),
    );
    expect(shown).toContain('    --model cn=vosk-model-small-cn-0.22 --model en=vosk-model-small-en-us-0.15\n');

    // The edge cannot reach the app it routes to (HAProxy's check or DNS lost it): every new
    // connection gets 503, though the container is healthy.
    await edgeCommand(docker, names.edge, 'disable server app/blue');
    const unreachable = await asrctl('status', ...target);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stdout).toContain('the edge cannot reach blue (HAProxy has it MAINT): new connections get 503');
    await edgeCommand(docker, names.edge, 'enable server app/blue');
    await waitUntilEdgeSeesUp(docker, names.edge, 'blue', 10_000);

    const logs = await asrctl('logs', ...target, '--tail', '3');
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout.trim().split('\n')).toHaveLength(3);
    expect(logs.stdout).toMatch(/"event":"session_/u);

    // A bare restart in another folder, one holding models named like the catalog's that hear other
    // words: it restarts what runs (models, ports, base images, drain), not the defaults resolved there.
    const elsewhere = join(work, 'elsewhere');
    await writeToneModel(join(elsewhere, 'models', 'vosk-model-small-cn-0.22'), { words: parseToneWords('甲:500,乙:2000') });
    await writeToneModel(join(elsewhere, 'models', 'vosk-model-small-en-us-0.15'), { words: parseToneWords('one:500,two:2000') });
    const restart = await execa('node', [CLI, 'restart', ...target, '--plain'], { reject: false, cwd: elsewhere });
    expect(restart.stderr).toBe('');
    expect(restart.exitCode).toBe(0);
    expect(restart.stdout).toContain(`restart: the settings "${project}" was deployed with:`);
    expect(restart.stdout).not.toContain('overrides');
    expect(restart.stdout).toMatch(/Deployed ".*" \(blue-green, blue → green\)/u);
    expect(await recognize('cn')).toEqual(['低 高']);
    expect(await recognize('en')).toEqual(['low high']);
    const mounts = (await docker.getContainer(names.app('green')).inspect()).Mounts.filter((m) => m.Destination.startsWith('/models/'));
    expect(mounts.map((m) => m.Source).sort()).toEqual([
      join(work, 'models', 'vosk-model-small-cn-0.22'),
      join(work, 'models', 'vosk-model-small-en-us-0.15'),
    ]);
    // A bare deploy there would deploy the same settings, and says where they came from.
    const said: string[] = [];
    const again = await settingsFor(docker, 'deploy', givenSettings({ project }, {}), { cwd: elsewhere, say: (l) => said.push(l) });
    expect(again).toEqual(testDeployConfig(project, port, models, catalogModels()));
    expect(said[0]).toBe(
      `deploy: settings taken from the running deployment "${project}" (--reset-settings starts from the defaults instead):`,
    );

    // Beside a deploy (its lock held, here by this process) stop is refused and stops nothing.
    const deploying = await acquireDeployLock(docker, names);
    try {
      const refused = await asrctl('stop', ...target);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain(`asrctl: another deploy of "${project}" is running (pid ${process.pid} on ${hostname()}, since `);
      expect(refused.stdout).toBe('');
      expect(await recognize('en')).toEqual(['low high']);
    } finally {
      await deploying.release();
    }
    const stop = await asrctl('stop', ...target);
    expect(stop.exitCode).toBe(0);
    expect(stop.stdout).toContain(`stopped "${project}"`);
    expect((await asrctl('status', ...target)).stdout).toContain('is not deployed');
    await expect(recognize('en')).rejects.toThrow(/cannot connect/u);

    const cleanup = await asrctl('cleanup', ...target, '--yes');
    expect(cleanup.exitCode).toBe(0);
    expect(cleanup.stdout).toMatch(new RegExp(`asrctl/${project}-app:`, 'u'));
    expect(await docker.listImages({ filters: { reference: [`${names.appImage}:*`] } })).toEqual([]);
  }, 180_000);
});
