import { readFile, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:net';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { lowHighClip } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../client/transcription-client.js';
import { deploymentStatus } from '../targets/docker/deployment-status.js';
import {
  type TestModels,
  dockerForTests,
  freePort,
  removeTestDeployment,
  selfSignedCertificate,
  stopAfterFirstFailure,
  testDeployConfig,
  toneModelsForDeploy,
} from '../testing/docker-fixture.js';
import type { DeployInput } from '../deployment/deploy-config.js';
import { deploy, plainPhaseRunner } from './deploy.js';
import { LABELS, deploymentNames } from '../deployment/deployment-names.js';
import { BASE_IMAGES } from '../images/base-images.js';

const CLI = new URL('../../dist/main.cjs', import.meta.url).pathname;
const project = `asrrecreate${process.pid}`;
const names = deploymentNames(project);

describe('asrctl deploy --strategy recreate on a real Docker engine', () => {
  let docker: Docker;
  let models: TestModels;
  let port: number;
  const lines: string[] = [];
  /** Called with each line the deploy says, as it says it. */
  let onLine: ((line: string) => void) | undefined;
  const record = (l: string): void => {
    lines.push(l);
    onLine?.(l);
  };
  let protocolPorts: DeployInput;
  const run = (extra: DeployInput = {}) =>
    deploy(
      docker,
      testDeployConfig(project, port, models, { strategy: 'recreate', ...protocolPorts, ...extra }),
      plainPhaseRunner(record),
      {
        say: record,
      },
    );
  const recognize = async (): Promise<string[]> =>
    (await transcribe({ url: `ws://127.0.0.1:${port}/`, samples: lowHighClip(16000), sampleRate: 16000, language: 'en' })).map(
      (f) => f.text,
    );
  stopAfterFirstFailure();

  beforeAll(async () => {
    docker = await dockerForTests();
    models = await toneModelsForDeploy();
    port = await freePort();
    protocolPorts = { voskPort: String(await freePort()), funasrPort: String(await freePort()) };
  }, 300_000);

  afterAll(async () => {
    if (docker) await removeTestDeployment(docker, project);
    await models?.remove();
  }, 120_000);

  it('runs one app container on the public port, built before anything stops', async () => {
    const report = await run();
    expect(report.heard).toEqual({ cn: '低 高', en: 'low high' });
    expect(await recognize()).toEqual(['low high']);
    // The app publishes the vosk-server and FunASR ports itself.
    expect(lines.join('\n')).toContain(`vosk client: heard "低 高" through port ${protocolPorts.voskPort}`);
    expect(lines.join('\n')).toContain(`funasr client: heard "低高" through port ${protocolPorts.funasrPort}`);
    const status = await deploymentStatus(docker, names);
    expect(status).toMatchObject({ kind: 'update', shape: 'recreate', active: 'blue' });
    expect(status.containers.map((c) => c.role)).toEqual(['app']);
  });

  it('refuses TLS under recreate before anything stops: the app itself serves plain ws', async () => {
    // Before, every such deploy stopped the old app, failed its own wss check and rolled back.
    const tlsFiles = await selfSignedCertificate(models.dir);
    const { active } = await deploymentStatus(docker, names);
    lines.length = 0;
    await expect(run({ tlsCert: tlsFiles.cert, tlsKey: tlsFiles.key })).rejects.toMatchObject({
      code: 'invalid_deploy_config',
      exitCode: 2,
      message: expect.stringContaining('--tls-cert/--tls-key need --strategy blue-green: TLS ends at its edge, and recreate has none'),
    });
    expect(lines.join('\n')).not.toContain('[Swap]');
    expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', active });
  });

  it('restarts with the settings it was deployed with, the strategy too; a flag given overrides one and says so', async () => {
    const restart = await execa('node', [CLI, 'restart', '--project', project, '--plain', '--memory', '1536m'], {
      reject: false,
      cwd: models.dir,
    });
    expect(restart.stderr).toBe('');
    expect(restart.exitCode).toBe(0);
    expect(restart.stdout).toContain('restart: --memory 1536m overrides the limit sized from the models when deployed');
    expect(restart.stdout).toMatch(/Deployed ".*" \(recreate, blue → green\)/u);
    const status = await deploymentStatus(docker, names);
    expect(status).toMatchObject({ kind: 'update', shape: 'recreate', active: 'green' });
    expect(status.containers[0]?.labels.models).toBe(`cn=${models.cn},en=${models.en}`);
    const app = await docker.getContainer(names.app('green')).inspect();
    expect(app.HostConfig.Memory).toBe(1536 * 1024 ** 2);
    // Sorted: docker inspect lists a container's mounts in no fixed order (found in CI).
    expect(
      app.Mounts.filter((m) => m.Destination.startsWith('/models/'))
        .map((m) => m.Source)
        .sort(),
    ).toEqual([models.cn, models.en].sort());
    expect(await recognize()).toEqual(['low high']);
  }, 120_000);

  it('starts the previous container again when the new one cannot start', async () => {
    await expect(run({ gpus: 'all' })).rejects.toThrow(/a GPU/u);
    expect(lines.join('\n')).toContain('the new app failed; starting the previous one again');
    expect(await recognize()).toEqual(['low high']);
    expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', active: 'green' });
  }, 120_000);

  it('applies --allow in the app itself (there is no edge): a deploy that admits nobody from here rolls back', async () => {
    // Before issue 15 the allowlist was dropped without a word and this deploy succeeded.
    const { active } = await deploymentStatus(docker, names);
    const refused: unknown = await run({ allow: ['10.255.255.1/32'] }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'rolled_back' });
    expect((refused as Error).message).toMatch(/403/u);
    // Before, no word on why a host's own probe is refused.
    expect((refused as Error).message).toContain(`hint: --allow 10.255.255.1/32 must admit this host too: the probes connect from here`);
    expect(await recognize()).toEqual(['low high']);
    expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', active });
  }, 180_000);

  it('a switch to blue/green that fails verification rolls back: the stopped recreate app holds the port again', async () => {
    // Before, the recreate app was removed before the edge took the port: nothing served after this.
    const refused: unknown = await run({ strategy: 'blue-green', allow: ['10.255.255.1/32'] }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: 'rolled_back' });
    // The edge refuses an address outside --allow at the connection.
    expect((refused as Error).message).toMatch(/recognition probe \(cn\) through .* failed: cannot connect .*(socket hang up|ECONNRESET)/u);
    expect(lines.join('\n')).toContain(`${names.app('green')} holds the public port and serves again`);
    expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', active: 'green', problems: [] });
    expect(await recognize()).toEqual(['low high']);
  }, 180_000);

  let tls: { cert: string; key: string };
  const tokensTo = async (url: string): Promise<string[]> =>
    (
      await transcribe({
        url: `${url}?token=secret-token-1`,
        samples: lowHighClip(16000),
        sampleRate: 16000,
        language: 'cn',
        pinnedCertificate: await readFile(tls.cert, 'utf8'),
      })
    ).map((f) => f.text);

  it('moves to blue/green with wss at the edge: the edge takes the port once the recreate app is gone', async () => {
    lines.length = 0;
    tls = await selfSignedCertificate(models.dir);
    const tokens = join(models.dir, 'tokens');
    await writeFile(tokens, '# clients\nsecret-token-1\n');
    const config = testDeployConfig(project, port, models, { tlsCert: tls.cert, tlsKey: tls.key, tokensFile: tokens, ...protocolPorts });
    const report = await deploy(docker, config, plainPhaseRunner(record), { say: record });
    expect(report.strategy).toBe('blue-green');
    expect(report.url).toBe(`wss://127.0.0.1:${port}/`);
    expect(lines.join('\n')).toContain('this one deploy has a short outage');
    // vosk-server and FunASR clients through wss on their ports, verified with the pinned certificate.
    // (One line each; this once counted the earlier deploys' lines too.)
    expect(lines.filter((l) => /(vosk|funasr) client: heard/u.test(l))).toHaveLength(2);
    const pinnedCertificate = await readFile(tls.cert, 'utf8');
    const finals = await transcribe({
      url: `${report.url}?token=secret-token-1`,
      samples: lowHighClip(16000),
      sampleRate: 16000,
      language: 'cn',
      pinnedCertificate,
    });
    expect(finals.map((f) => f.text)).toEqual(['低 高']);
    // The token file reached the app (read-only), and the app enforces it behind the edge.
    await expect(transcribe({ url: report.url, samples: lowHighClip(16000), sampleRate: 16000, pinnedCertificate })).rejects.toThrow(
      /HTTP 401/u,
    );
    expect(lines.join('\n')).not.toContain('secret-token-1');
    // Plain ws on the TLS port is refused; an unknown certificate is not trusted.
    await expect(recognize()).rejects.toThrow(/cannot connect|closed|refused/u);
    await expect(transcribe({ url: report.url, samples: lowHighClip(16000), sampleRate: 16000 })).rejects.toThrow(
      /self[- ]signed|certificate/iu,
    );
    const status = await deploymentStatus(docker, names);
    expect(status.problems).toEqual([]);
    expect(status).toMatchObject({ kind: 'update', shape: 'blue-green' });
  }, 120_000);

  it('a switch back to recreate whose app cannot start puts the blue/green app and its edge back', async () => {
    // Before, the edge was removed first, and the blue/green app cannot serve without it.
    const { active } = await deploymentStatus(docker, names);
    await expect(run({ gpus: 'all' })).rejects.toThrow(/a GPU/u);
    expect(lines.join('\n')).toContain('the new app failed; starting the previous one again behind its edge');
    expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'blue-green', active, problems: [] });
    expect(await tokensTo(`wss://127.0.0.1:${port}/`)).toEqual(['低 高']);
  }, 180_000);

  it('serves with notes, not BROKEN, beside what does not serve (a switch killed with its old edge kept); the next deploy removes them', async () => {
    expect((await run()).strategy).toBe('recreate');
    // What kill -9 during a blue-green → recreate switch leaves: the old edge, stopped, and an app not serving.
    const edge = await docker.createContainer({
      name: names.edge,
      Image: BASE_IMAGES.debian,
      Labels: { [LABELS.project]: project, [LABELS.role]: 'edge' },
    });
    const { active } = await deploymentStatus(docker, names);
    const status = await execa('node', [CLI, 'status', '--project', project], { reject: false });
    // Before: BROKEN (blue-green), exit 1, and restart said nothing serves.
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toContain(`"${project}": serving (recreate, ${active} active`);
    expect(status.stdout).toContain(`  note: the edge ${names.edge} is created and not serving`);
    expect(await recognize()).toEqual(['low high']);

    await run();
    expect(
      await docker
        .getContainer(edge.id)
        .inspect()
        .catch(() => undefined),
    ).toBeUndefined();
    expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', problems: [], notes: [] });
  }, 180_000);

  it('a switch to blue/green whose port another process takes while it is free says that nothing serves, and how to get it back', async () => {
    // Before, it said the new app "failed" and that the recreate app "holds the public port again",
    // neither true, and ended with the engine's error from starting that app.
    const { active } = await deploymentStatus(docker, names);
    const app = names.app(active === 'green' ? 'green' : 'blue');
    const thief = createServer();
    let taking: Promise<void> | undefined;
    onLine = (line) => {
      if (line.includes('stops now')) taking ??= takeWhenFree(thief, port);
    };
    const refused: unknown = await run({ strategy: 'blue-green' })
      .catch((err: unknown) => err)
      .finally(() => (onLine = undefined));
    await taking;
    expect(refused).toMatchObject({ code: 'restore_failed' });
    expect((refused as Error).message).toContain(
      `the edge could not take the public port; the ${active === 'green' ? 'blue' : 'green'} app is removed, but ${app} could not start again, so nothing serves 127.0.0.1:${port}`,
    );
    expect((refused as Error).message).toContain(
      `hint: another process took the port while it was free: find it with \`ss -ltnp 'sport = :${port}'\`, stop it, then: docker start ${app}`,
    );
    expect(lines.join('\n')).not.toContain('holds the public port again');
    // The new app and the edge are gone; the recreate app is kept, stopped, to be started again.
    for (const gone of [names.app(active === 'green' ? 'blue' : 'green'), names.edge])
      expect(
        await docker
          .getContainer(gone)
          .inspect()
          .catch(() => undefined),
      ).toBeUndefined();
    await new Promise((resolve) => thief.close(resolve));
    await execa('docker', ['start', app]);
    // Serving once Docker's health check passes.
    await expect.poll(async () => (await deploymentStatus(docker, names)).kind, { timeout: 120_000, interval: 500 }).toBe('update');
    expect(await deploymentStatus(docker, names)).toMatchObject({ shape: 'recreate', active, problems: [] });
    expect(await recognize()).toEqual(['low high']);
  }, 180_000);

  it('a recreate update whose port another process takes while the old app is stopped says that nothing serves, and how to get it back', async () => {
    const { active } = await deploymentStatus(docker, names);
    const app = names.app(active === 'green' ? 'green' : 'blue');
    const thief = createServer();
    let taking: Promise<void> | undefined;
    onLine = (line) => {
      if (line.includes(`stopping ${app}`)) taking ??= takeWhenFree(thief, port);
    };
    const refused: unknown = await run()
      .catch((err: unknown) => err)
      .finally(() => (onLine = undefined));
    await taking;
    expect(refused).toMatchObject({ code: 'restore_failed' });
    expect((refused as Error).message).toContain(`the new app failed and is removed, but ${app} could not start again, so nothing serves`);
    expect((refused as Error).message).toContain(`then: docker start ${app}`);
    await new Promise((resolve) => thief.close(resolve));
    await execa('docker', ['start', app]);
    await expect.poll(async () => (await deploymentStatus(docker, names)).kind, { timeout: 120_000, interval: 500 }).toBe('update');
    expect(await recognize()).toEqual(['low high']);
  }, 180_000);
});

/** Listens on the port as soon as it is free (within 60 s), as another program might. */
async function takeWhenFree(server: Server, port: number): Promise<void> {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 5))) {
    const taken = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(true));
    });
    if (taken) return;
  }
  throw new Error(`port ${port} was never free`);
}
