import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowHighClip, parseToneWords, writeToneModel } from '@asrctl/tone-model';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../../client/transcription-client.js';
import type { DeployInput } from '../../deployment/deploy-config.js';
import type { DeployPhase } from '../../deploy/deploy-context.js';
import { RESTART_PHASES, deploy, plainPhaseRunner } from '../../deploy/deploy.js';
import { acquireDeployLock } from '../../deploy/deploy-lock.js';
import { LABELS, deploymentNames } from '../../deployment/deployment-names.js';
import { environmentCheck } from '../../deploy/phases/environment-check.js';
import { modelPrefetch } from '../../deploy/phases/model-prefetch.js';
import { stateAssessment } from '../../deploy/phases/state-assessment.js';
import { swap } from '../../deploy/phases/swap.js';
import { verify } from '../../deploy/phases/verify.js';
import { buildImage } from '../../docker/images.js';
import { type ServiceFacts, containerTemplate, inspectService, specImage, updateService } from '../../docker/swarm.js';
import { startConnectionLoop } from '../../load/connection-loop.js';
import { type StreamingSessionResult, startStreamingSession } from '../../load/streaming-session.js';
import {
  type TestModels,
  dockerForTests,
  freePort,
  selfSignedCertificate,
  stopAfterFirstFailure,
  testDeployConfig,
  toneModelsForDeploy,
} from '../../testing/docker-fixture.js';
import { swarmForTests } from '../../testing/swarm-fixture.js';
import { startTestRegistry } from '../../testing/test-registry.js';
import { scaleSwarmApp, stopSwarmDeployment, swarmStatus } from './swarm-operations.js';
import { pollUntil } from '@asrctl/server';

const CLI = new URL('../../../dist/main.cjs', import.meta.url).pathname;
const project = `asrswarm${process.pid}`;
/** Swarm publishes the edge's ports on every address (testDeployConfig sets no bind for it). */
const SWARM_BIND = '0.0.0.0';
const names = deploymentNames(project);

/**
 * A live client that reconnects whenever the server closes its session with 1012 (a task stopping
 * under it), as clients are told to. Each connection's result is kept.
 */
function startReconnectingClient(url: string): { stop(): Promise<StreamingSessionResult[]> } {
  const results: StreamingSessionResult[] = [];
  let requestStop = (): void => undefined;
  const stopRequested = new Promise<'stop'>((resolve) => (requestStop = () => resolve('stop')));
  let current: Awaited<ReturnType<typeof startStreamingSession>> | undefined;
  const running = (async () => {
    for (;;) {
      current = await startStreamingSession(url);
      const code = await Promise.race([current.closed, stopRequested]);
      if (code === 'stop') return;
      results.push(await current.stop());
      current = undefined;
      if (code !== 1012) return;
    }
  })();
  // A refused connection is reported by stop(); until then it must not count as unhandled.
  running.catch(() => undefined);
  return {
    async stop() {
      requestStop();
      await running;
      if (current) results.push(await current.stop());
      return results;
    },
  };
}

const imageOf = (service: ServiceFacts | undefined): string | undefined => specImage(service?.spec);

describe('asrctl deploy --target swarm on a single-node Swarm (dnsrr app service, host-mode edge)', () => {
  let docker: Docker;
  let swarm: { leave(): Promise<void> };
  let models: TestModels;
  let port: number;
  let work: string;
  const lines: string[] = [];
  const record = (l: string): void => void lines.push(l);
  const config = (extra: DeployInput = {}) => testDeployConfig(project, port, models, { target: 'swarm', ...extra });
  const url = (): string => `ws://127.0.0.1:${port}/`;
  const recognize = async (language: 'cn' | 'en'): Promise<string[]> =>
    (await transcribe({ url: url(), samples: lowHighClip(16000), sampleRate: 16000, language })).map((f) => f.text);
  stopAfterFirstFailure();

  beforeAll(async () => {
    docker = await dockerForTests();
    swarm = await swarmForTests(docker);
    models = await toneModelsForDeploy();
    port = await freePort(SWARM_BIND);
    work = await mkdtemp(join(tmpdir(), 'asrctl-swarm-test-'));
  }, 300_000);

  afterAll(async () => {
    // Whatever beforeAll got to make before a failure.
    if (!docker) return;
    await stopSwarmDeployment(docker, names).catch(() => undefined);
    await swarm?.leave();
    // The project's images, also under the test registry's name.
    const ours = (tag: string): boolean => tag.includes(`/${project}-`);
    for (const image of await docker.listImages({}))
      for (const tag of (image.RepoTags ?? []).filter(ours))
        await docker
          .getImage(tag)
          .remove({})
          .catch(() => undefined);
    await models?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  }, 180_000);

  it('deploys 2 replicas behind the edge and recognizes through the published port', async () => {
    const report = await deploy(docker, config({ replicas: '2' }), plainPhaseRunner(record), { say: record });
    expect(report.strategy).toBe('swarm');
    expect(report.heard).toEqual({ cn: '低 高', en: 'low high' });
    expect(await recognize('en')).toEqual(['low high']);
    expect(await recognize('cn')).toEqual(['低 高']);
    expect(lines.join('\n')).toContain('edge published in host mode');
    expect(lines.join('\n')).toMatch(/the edge routes to 2 healthy app tasks/u);

    const status = await swarmStatus(docker, names);
    expect(status).toMatchObject({ kind: 'update', publishMode: 'host', problems: [], publishedAs: `0.0.0.0:${port}` });
    expect(status.services.find((s) => s.role === 'app')).toMatchObject({ running: 2, desired: 2, mode: 'replicated 2' });
    expect(status.edgeRoutes?.filter((r) => r.status === 'UP')).toHaveLength(2);

    // The service as asked for: dnsrr, start-first with rollback, a stop grace covering the drain, hardened tasks.
    const app = await inspectService(docker, names.appService);
    expect(app?.spec.EndpointSpec?.Mode).toBe('dnsrr');
    expect(app?.spec.UpdateConfig).toMatchObject({ Order: 'start-first', FailureAction: 'rollback', Parallelism: 1 });
    const spec = containerTemplate(app?.spec);
    expect(spec?.ContainerSpec).toMatchObject({ ReadOnly: true, CapabilityDrop: ['ALL'], StopGracePeriod: (3 + 15) * 1e9 });
    expect(spec?.ContainerSpec?.Env).toContain('ASR_SESSION_DRAIN=3000');
    expect(spec?.ContainerSpec?.Mounts?.filter((m) => m.Type === 'bind').map((m) => m.ReadOnly)).toEqual([true, true]);
    expect(spec?.Resources?.Limits?.MemoryBytes).toBeGreaterThanOrEqual(1024 ** 3);
    const edge = await inspectService(docker, names.edgeService);
    expect(edge?.spec.Mode).toEqual({ Global: {} });
    expect(edge?.spec.EndpointSpec?.Ports?.[0]).toMatchObject({ PublishMode: 'host', PublishedPort: port, TargetPort: 8765 });
    // The same project as containers would fight the services for the port: refused before anything changes.
    await expect(deploy(docker, testDeployConfig(project, port, models), plainPhaseRunner(record))).rejects.toThrow(
      /runs as Swarm services\n {2}hint: deploy with --target swarm/u,
    );
  }, 300_000);

  it('rolls out a new version under a client every 20 ms and live sessions: no failed connection, every final delivered', async () => {
    const clients = [startReconnectingClient(url()), startReconnectingClient(url()), startReconnectingClient(url())];
    await new Promise((r) => setTimeout(r, 1000));
    const loop = startConnectionLoop(url(), 20);
    const before = imageOf(await inspectService(docker, names.appService));
    lines.length = 0;
    await deploy(docker, config(), plainPhaseRunner(record), { say: record });
    // Sessions keep streaming a little after the update, on whichever tasks serve now.
    await new Promise((r) => setTimeout(r, 2000));
    const connections = await loop.stop();
    const sessions = (await Promise.all(clients.map((c) => c.stop()))).flat();

    expect(imageOf(await inspectService(docker, names.appService))).not.toEqual(before);
    expect(lines.join('\n')).toMatch(/rolling update of .* one task at a time/u);
    expect(connections.failures).toEqual([]);
    expect(connections.attempts).toBeGreaterThan(200);
    // Each connection either ended on our eof or was closed 1012 by a stopping task after its finals.
    for (const s of sessions) {
      expect(s.errors).toEqual([]);
      expect([1000, 1012]).toContain(s.closeCode);
      expect(s.finals.slice(0, s.clipsSent)).toEqual(Array(s.clipsSent).fill('低 高'));
    }
    expect(sessions.some((s) => s.closeCode === 1012)).toBe(true);
    expect(sessions.reduce((n, s) => n + s.clipsSent, 0)).toBeGreaterThan(6);
    expect((await swarmStatus(docker, names)).services.find((s) => s.role === 'app')).toMatchObject({ running: 2 });
  }, 300_000);

  it('scales up and down without a failed connection', async () => {
    const loop = startConnectionLoop(url(), 20);
    const client = startReconnectingClient(url());
    await scaleSwarmApp(docker, names, 3, record);
    expect((await swarmStatus(docker, names)).edgeRoutes?.filter((r) => r.status === 'UP')).toHaveLength(3);
    lines.length = 0;
    await scaleSwarmApp(docker, names, 1, record);
    // Before, it said the edge routed to the 3 tasks it had before.
    expect(lines.at(-1)).toBe('the edge routes to 1 healthy app task');
    await new Promise((r) => setTimeout(r, 4000));
    const connections = await loop.stop();
    const sessions = await client.stop();
    expect(connections.failures).toEqual([]);
    for (const s of sessions) expect(s.finals.slice(0, s.clipsSent)).toEqual(Array(s.clipsSent).fill('低 高'));
    const status = await swarmStatus(docker, names);
    expect(status.services.find((s) => s.role === 'app')).toMatchObject({ running: 1, desired: 1 });
    expect(status.edgeRoutes?.filter((r) => r.status === 'UP')).toHaveLength(1);
    expect(await recognize('en')).toEqual(['low high']);
  }, 300_000);

  it('pushes the images to --registry and runs them from there, as nodes without the local images would', async () => {
    const registry = await startTestRegistry();
    try {
      lines.length = 0;
      await deploy(docker, config({ registry: registry.address }), plainPhaseRunner(record), { say: record });
      // The models travel as images too (model-images.ts): nothing is mounted from the node for them.
      expect((await registry.pushed()).sort()).toEqual([`${project}-app`, `${project}-edge`, `${project}-model-cn`, `${project}-model-en`]);
      expect(containerTemplate((await inspectService(docker, names.appService))?.spec)?.ContainerSpec?.Mounts?.map((m) => m.Type)).toEqual([
        'tmpfs',
      ]);
      expect(imageOf(await inspectService(docker, names.appService))).toMatch(new RegExp(`^${registry.address}/${project}-app:`, 'u'));
      expect(imageOf(await inspectService(docker, names.edgeService))).toMatch(new RegExp(`^${registry.address}/${project}-edge:`, 'u'));
      // The edge's image name changed: in host mode its task is replaced stop-first, and the deploy says so.
      expect(lines.join('\n')).toContain("the edge's settings changed");
      expect(await recognize('en')).toEqual(['low high']);
      // The default image of asrctl render k8s, once verified (before, no deploy pushed it).
      const tags = (await (await fetch(`http://${registry.address}/v2/${project}-app/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).toContain('latest');
      expect(lines.join('\n')).toContain(`${registry.address}/${project}-app:latest names the verified app image`);
    } finally {
      await registry.stop();
    }
  }, 300_000);

  it('restarts with --registry run the same image again: the same tag and layers each time, nothing built', async () => {
    // Once each restart stacked the models onto the running image again, until its tag outgrew
    // Docker's 128 characters and every restart failed.
    const registry = await startTestRegistry();
    try {
      await deploy(docker, config({ registry: registry.address }), plainPhaseRunner(record), { say: record });
      const deployed = imageOf(await inspectService(docker, names.appService))!;
      const layers = async (image: string): Promise<number> => (await docker.getImage(image).inspect()).RootFS.Layers?.length ?? 0;
      const deployedLayers = await layers(deployed);
      for (let restart = 1; restart <= 3; restart++) {
        lines.length = 0;
        const report = await deploy(docker, config({ registry: registry.address }), plainPhaseRunner(record), {
          say: record,
          phases: RESTART_PHASES,
        });
        const running = imageOf(await inspectService(docker, names.appService))!;
        expect({ restart, image: report.appImage, running }).toEqual({ restart, image: deployed, running: deployed });
        expect(await layers(running)).toBe(deployedLayers);
        expect(lines.join('\n')).toContain(`${deployed} holds these models already: nothing to build or push`);
        expect(await recognize('cn')).toEqual(['低 高']);
      }
    } finally {
      await registry.stop();
    }
  }, 400_000);

  it('rolls a version that never becomes ready back by itself; the old version serves throughout', async () => {
    const currentImage = imageOf(await inspectService(docker, names.appService));
    // A version that listens but never reports ready (as with a model that never finishes loading).
    const context = join(work, 'never-ready');
    await mkdir(context, { recursive: true });
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${currentImage}\nCMD ["node", "-e", "require('http').createServer((q, s) => { s.statusCode = q.url === '/healthz' ? 200 : 503; s.end(); }).listen(8765)"]\n`,
    );
    const brokenTag = `${names.appImage}:never-ready`;
    await buildImage(docker, { contextDir: context, entries: ['Dockerfile'], tag: brokenTag });
    const useBrokenImage: DeployPhase = {
      title: 'Image (never ready)',
      async run(ctx) {
        ctx.appImage = brokenTag;
        ctx.appLabels = {};
        ctx.edgeImage = imageOf(await inspectService(docker, names.edgeService));
      },
    };
    const loop = startConnectionLoop(url(), 20);
    lines.length = 0;
    const attempt = deploy(docker, config(), plainPhaseRunner(record), {
      say: record,
      phases: [environmentCheck, stateAssessment, modelPrefetch, useBrokenImage, swap, verify],
    });
    await expect(attempt).rejects.toThrow(expect.objectContaining({ code: 'swarm_rollout_failed' }));
    await expect(attempt).rejects.toThrow(/Swarm rolled back by itself: the previous version serves/u);
    const connections = await loop.stop();
    expect(connections.failures).toEqual([]);
    expect(imageOf(await inspectService(docker, names.appService))).toBe(currentImage);
    expect(await recognize('cn')).toEqual(['低 高']);
    const status = await swarmStatus(docker, names);
    expect(status.kind).toBe('update');
    expect(status.services.find((s) => s.role === 'app')?.update).toMatch(/^rollback_completed/u);
  }, 400_000);

  it('rolls both services back when verification through the public port fails', async () => {
    const appBefore = imageOf(await inspectService(docker, names.appService));
    const edgeBefore = (await inspectService(docker, names.edgeService))?.labels[LABELS.specHash];
    lines.length = 0;
    // The new edge settings admit nobody from here: the update succeeds and only the public probe fails.
    await expect(deploy(docker, config({ allow: ['10.255.255.1/32'] }), plainPhaseRunner(record), { say: record })).rejects.toThrow(
      /rolled back: the previous version serves \(the services are back on their previous specs\)/u,
    );
    expect(lines.join('\n')).toContain(`${names.appService} is back on its previous version`);
    expect(lines.join('\n')).toContain(`${names.edgeService} is back on its previous version`);
    expect(imageOf(await inspectService(docker, names.appService))).toBe(appBefore);
    expect((await inspectService(docker, names.edgeService))?.labels[LABELS.specHash]).toBe(edgeBefore);
    expect(await recognize('en')).toEqual(['low high']);
  }, 400_000);

  it('says in status why a task cannot start on a node without its model', async () => {
    // Without --registry the models are bind-mounted from the node (the rollbacks above went back
    // to the --registry deploy, whose image carries them).
    await deploy(docker, config(), plainPhaseRunner(record), { say: record });
    const app = (await inspectService(docker, names.appService))!;
    expect(containerTemplate(app.spec)?.ContainerSpec?.Mounts?.map((m) => m.Type)).toEqual(['bind', 'bind', 'tmpfs']);
    const moved = `${models.en}.away`;
    await rename(models.en, moved);
    try {
      await updateService(docker, app, { ...app.spec, Mode: { Replicated: { Replicas: 2 } } });
      const status = await pollUntil(
        () => swarmStatus(docker, names),
        (status) => status.problems.some((p) => p.includes('is missing on that node')),
        { what: 'status to name the missing model directory', timeoutMs: 60_000, intervalMs: 1000 },
      );
      expect(status.kind).toBe('broken');
      expect(status.problems.join('\n')).toContain(`the model directory ${models.en} is missing on that node`);
      const cli = await execa('node', [CLI, 'status', '--project', project], { reject: false });
      expect(cli.exitCode).toBe(1);
      expect(cli.stdout).toContain('is missing on that node');
      // The task that runs keeps serving.
      expect(await recognize('en')).toEqual(['low high']);
    } finally {
      await rename(moved, models.en);
    }
    // Swarm retries the task; with the model back it starts.
    await pollUntil(
      async () => (await swarmStatus(docker, names)).kind,
      (kind) => kind === 'update',
      { what: 'the task to start with the model back', timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect((await swarmStatus(docker, names)).kind).toBe('update');
  }, 300_000);

  it('operates through the CLI: status, logs, restart, scale, stop; the Swarm is left clean', async () => {
    const status = await execa('node', [CLI, 'status', '--project', project]);
    expect(status.stdout).toMatch(new RegExp(`"${project}": serving \\(swarm, host mode, port 0\\.0\\.0\\.0:${port}\\)`, 'u'));
    expect(status.stdout).toContain(`${names.appService}  app  replicated 2  running 2/2`);
    const logs = await execa('node', [CLI, 'logs', '--project', project, '--tail', '20']);
    expect(logs.stdout).toContain('"event":"ready"');
    // Each line says which task wrote it.
    expect(logs.stdout).toMatch(new RegExp(`^${names.appService}\\.\\d+\\.[0-9a-z]{12} \\| \\{"level"`, 'mu'));
    // A bare restart in another folder, one holding models named like the catalog's that hear other
    // words: the services restart with the models (and everything else) they were deployed with.
    const elsewhere = join(work, 'elsewhere');
    await writeToneModel(join(elsewhere, 'models', 'vosk-model-small-cn-0.22'), { words: parseToneWords('甲:500,乙:2000') });
    await writeToneModel(join(elsewhere, 'models', 'vosk-model-small-en-us-0.15'), { words: parseToneWords('one:500,two:2000') });
    const restart = await execa('node', [CLI, 'restart', '--project', project, '--plain'], { reject: false, cwd: elsewhere });
    expect(restart.stderr).toBe('');
    expect(restart.exitCode).toBe(0);
    expect(restart.stdout).toContain(`restart: the settings "${project}" was deployed with:`);
    expect(restart.stdout).not.toContain('overrides');
    const restarted = containerTemplate((await inspectService(docker, names.appService))?.spec);
    expect(restarted?.ContainerSpec?.Mounts?.filter((m) => m.Type === 'bind').map((m) => m.Source)).toEqual([models.cn, models.en]);
    expect(await recognize('cn')).toEqual(['低 高']);
    expect(restart.stdout).toMatch(/rolling update of .*_app/u);
    expect(restart.stdout).toMatch(new RegExp(`Deployed "${project}" \\(swarm\\)`, 'u'));
    // Beside a deploy (its lock held, here by this process) scale and stop are refused and change
    // nothing: a deploy once rolled out to the scaled count, or failed as its service went.
    const deploying = await acquireDeployLock(docker, names);
    try {
      for (const command of [['scale', '3'], ['stop']]) {
        const refused = await execa('node', [CLI, ...command, '--project', project], { reject: false });
        expect({ command, exitCode: refused.exitCode }).toEqual({ command, exitCode: 1 });
        expect(refused.stderr).toContain(`asrctl: another deploy of "${project}" is running (pid ${process.pid} on ${hostname()}, since `);
        expect(refused.stdout).toBe('');
      }
      expect((await inspectService(docker, names.appService))?.spec.Mode?.Replicated?.Replicas).toBe(2);
      expect(await inspectService(docker, names.edgeService)).toBeDefined();
      expect(await recognize('en')).toEqual(['low high']);
    } finally {
      await deploying.release();
    }
    // Stopped by SIGTERM while it waits for the tasks, scale lets go of the lock.
    const scaling = execa('node', [CLI, 'scale', '3', '--project', project], { reject: false });
    // (Should it end first, its exit code below says how.)
    await Promise.race([
      new Promise<void>((resolve) => scaling.stdout?.on('data', (d: Buffer) => d.toString().includes('2 → 3 replicas') && resolve())),
      scaling,
    ]);
    scaling.kill('SIGTERM');
    expect((await scaling).exitCode).toBe(143);
    expect((await docker.listNetworks({ filters: { name: [names.lock] } })).filter((n) => n.Name === names.lock)).toEqual([]);
    // A lock left by a deploy that died is taken over, as a deploy takes it over.
    const dead = spawn(process.execPath, ['-e', '']);
    await once(dead, 'exit');
    await docker.createNetwork({
      Name: names.lock,
      Internal: true,
      Labels: { [LABELS.project]: project, 'io.asrctl.lock.host': hostname(), 'io.asrctl.lock.pid': String(dead.pid) },
    });
    const scaled = await execa('node', [CLI, 'scale', '3', '--project', project]);
    expect(scaled.stdout).toContain(`taking over the deploy lock ${names.lock} left by pid ${dead.pid} on ${hostname()}`);
    expect(scaled.stdout).toContain('the edge routes to 3 healthy app tasks');
    // Cleanup leaves what Swarm runs, would roll back to, and keeps as task history.
    const running = imageOf(await inspectService(docker, names.appService))!;
    const cleanup = await execa('node', [CLI, 'cleanup', '--project', project, '--dry-run']);
    expect(cleanup.stdout).not.toContain(running);
    expect(cleanup.stdout).not.toContain(`${names.appService}.`);
    const stop = await execa('node', [CLI, 'stop', '--project', project]);
    expect(stop.stdout).toContain(`stopped "${project}"`);
    expect(await inspectService(docker, names.appService)).toBeUndefined();
    expect(await docker.listConfigs({ filters: { label: [`io.asrctl.project=${project}`] } })).toEqual([]);
    expect(
      (await docker.listNetworks()).filter((n) => n.Name === names.overlay || n.Name.startsWith(`${project}-`)).map((n) => n.Name),
    ).toEqual([]);
  }, 400_000);

  it('serves wss with the certificate and the tokens as Swarm secrets, vosk-server and FunASR clients on their ports too', async () => {
    const tls = await selfSignedCertificate(work);
    const tokens = join(work, 'tokens');
    await writeFile(tokens, 'swarm-token-1\n');
    const [voskPort, funasrPort] = [await freePort(SWARM_BIND), await freePort(SWARM_BIND)];
    lines.length = 0;
    const report = await deploy(
      docker,
      config({ tlsCert: tls.cert, tlsKey: tls.key, tokensFile: tokens, voskPort: String(voskPort), funasrPort: String(funasrPort) }),
      plainPhaseRunner(record),
      { say: record },
    );
    expect(report.url).toBe(`wss://127.0.0.1:${port}/`);
    expect(lines.join('\n')).toContain(`vosk client: heard "低 高" through port ${voskPort}`);
    expect(lines.join('\n')).toContain(`funasr client: heard "低高" through port ${funasrPort}`);
    expect(lines.join('\n')).not.toContain('swarm-token-1');
    const pinnedCertificate = await readFile(tls.cert, 'utf8');
    const through = (url: string) => transcribe({ url, samples: lowHighClip(16000), sampleRate: 16000, language: 'en', pinnedCertificate });
    expect((await through(`${report.url}?token=swarm-token-1`)).map((f) => f.text)).toEqual(['low high']);
    await expect(through(report.url)).rejects.toThrow(/HTTP 401/u);
    const secrets = (await docker.listSecrets({ filters: { label: [`io.asrctl.project=${project}`] } })) as Array<{
      Spec: { Name: string };
    }>;
    expect(secrets.map((s) => s.Spec.Name.replace(/_[0-9a-f]{12}$/u, '')).sort()).toEqual([`${project}_tls`, `${project}_tokens`]);
    await stopSwarmDeployment(docker, names);
    expect(await docker.listSecrets({ filters: { label: [`io.asrctl.project=${project}`] } })).toEqual([]);
  }, 300_000);
});
