import { pollUntil } from '@asrctl/server';
import { lowHighClip } from '@asrctl/tone-model';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../client/transcription-client.js';
import { inspectContainer, stopAndRemove } from '../docker/containers.js';
import { lockNetwork } from '../docker/networks.js';
import type { DeployInput } from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { startStreamingSession } from '../load/streaming-session.js';
import { deploymentStatus } from '../targets/docker/deployment-status.js';
import {
  type TestModels,
  dockerForTests,
  freePort,
  removeTestDeployment,
  stopAfterFirstFailure,
  testDeployConfig,
  toneModelsForDeploy,
} from '../testing/docker-fixture.js';
import { onTerminal } from '../testing/terminal-hangup.js';
import { deploy, plainPhaseRunner } from './deploy.js';

const CLI = new URL('../../dist/main.cjs', import.meta.url).pathname;

interface InterruptedDeploy {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI's `asrctl deploy --plain` (its settings those the running deployment was
 * deployed with) and sends it SIGINT (an operator's Ctrl-C), SIGTERM or SIGHUP once `ready` holds.
 */
async function interruptedDeploy(
  cwd: string,
  args: string[],
  ready: (stdout: string) => boolean | Promise<boolean>,
  signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP' = 'SIGINT',
): Promise<InterruptedDeploy> {
  const child = execa('node', [CLI, 'deploy', '--plain', ...args], { reject: false, cwd, all: false });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString('utf8')));
  let ended = false;
  void child.finally(() => (ended = true));
  await pollUntil(
    async () => {
      if (ended) throw new Error(`the deploy ended before the point to interrupt it:\n${stdout}\n${(await child).stderr}`);
      return ready(stdout);
    },
    (yes) => yes,
    { what: 'the deploy to reach the point to interrupt it', timeoutMs: 240_000, intervalMs: 100 },
  );
  child.kill(signal);
  const result = await child;
  return { exitCode: result.exitCode, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

const recognize = async (port: number): Promise<string[]> =>
  (await transcribe({ url: `ws://127.0.0.1:${port}/`, samples: lowHighClip(16000), sampleRate: 16000, language: 'en' })).map((f) => f.text);

describe('Ctrl-C during asrctl deploy leaves the running service as it was (real engine, built CLI)', () => {
  let docker: Docker;
  let models: TestModels;

  beforeAll(async () => {
    docker = await dockerForTests();
    models = await toneModelsForDeploy();
  }, 300_000);

  afterAll(async () => {
    await models?.remove();
  });

  /** A project of its own for a describe block: a free port, a deploy through the API, removed after. */
  function testDeployment(project: string) {
    const deployment = {
      project,
      names: deploymentNames(project),
      port: 0,
      deploy: (extra: DeployInput = {}) =>
        deploy(
          docker,
          testDeployConfig(project, deployment.port, models, extra),
          plainPhaseRunner(() => undefined),
        ),
    };
    stopAfterFirstFailure();
    beforeAll(async () => {
      deployment.port = await freePort();
    });
    afterAll(async () => {
      if (docker) await removeTestDeployment(docker, project);
    }, 120_000);
    return deployment;
  }

  describe('blue-green', () => {
    const deployment = testDeployment(`asrsigint${process.pid}`);
    const { project, names } = deployment;

    it('during the swap, removes the new app, keeps the old one serving, releases the lock and exits 130', async () => {
      // A drain that would outlast the tests, set now: a deploy that changes it reloads the edge,
      // whose new workers do not count the sessions the old ones hold.
      expect((await deployment.deploy({ drainTimeout: '600' })).color).toBe('blue');

      // Interrupted while the new colour loads its models.
      const result = await interruptedDeploy(
        models.dir,
        ['--project', project],
        async (stdout) => stdout.includes('[Swap]') && (await inspectContainer(docker, names.app('green'))) !== undefined,
      );

      expect(result.signal).toBeUndefined();
      expect(result.exitCode).toBe(130);
      expect(result.stderr).toContain('asrctl: SIGINT: asking the deploy to stop safely (Ctrl-C again exits at once, undoing nothing)');
      expect(result.stderr).toContain('interrupted by SIGINT during Swap: undoing the swap');
      expect(result.stderr).toMatch(
        /asrctl: deploy interrupted by SIGINT during Swap: the swap was undone \(the new app was removed\): the previous version serves; the deploy lock is released\n {2}hint: asrctl status/u,
      );
      expect(await inspectContainer(docker, names.app('green'))).toBeUndefined();
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', active: 'blue', problems: [] });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 240_000);

    it('on SIGTERM during the image build, changes nothing, releases the lock and exits 143', async () => {
      const result = await interruptedDeploy(models.dir, ['--project', project], (stdout) => stdout.includes('[Image build]'), 'SIGTERM');

      expect(result.exitCode).toBe(143);
      expect(result.stdout).not.toContain('[Swap]');
      expect(result.stderr).toContain('asrctl: SIGTERM: asking the deploy to stop safely (SIGTERM again exits at once, undoing nothing)');
      expect(result.stderr).toContain(
        'asrctl: deploy interrupted by SIGTERM during Image build: nothing running was changed: the previous version serves; the deploy lock is released',
      );
      expect(await inspectContainer(docker, names.app('green'))).toBeUndefined();
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', active: 'blue', problems: [] });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 240_000);

    it('on a real hangup during the swap (the terminal closed), removes the new app, releases the lock and exits 129', async () => {
      const terminal = onTerminal('node', [CLI, 'deploy', '--project', project], { cwd: models.dir });
      await terminal.waitFor(
        async () => (await inspectContainer(docker, names.app('green'))) !== undefined,
        'the deploy to start the new app',
      );

      // The task list drew on the terminal; the undoing after the hangup is silent. Node 20 then
      // failed to restore the lost terminal at exit, and the process died of SIGABRT or SIGSEGV.
      expect(await terminal.hangUp()).toEqual({ exitCode: 129 });
      expect(await inspectContainer(docker, names.app('green'))).toBeUndefined();
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', active: 'blue', problems: [] });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 240_000);

    it('during the drain, stops the old app at once (its session gets its finals and 1012), the verified new one serves', async () => {
      const session = await startStreamingSession(`ws://127.0.0.1:${deployment.port}/`);
      // The drain would last 600 s: only the interruption ends it.
      const result = await interruptedDeploy(models.dir, ['--project', project], (stdout) =>
        stdout.includes('blue drains: new connections go to green'),
      );
      const streamed = await session.stop();

      expect(result.exitCode).toBe(130);
      expect(result.stdout).toContain('drain cut short (interrupted): 1 session on blue gets its final and close 1012');
      expect(result.stderr).toContain('asrctl: deploy interrupted by SIGINT during Verify: the new version was verified and serves');
      expect(streamed.errors).toEqual([]);
      expect(streamed.closeCode).toBe(1012);
      expect(streamed.finals.slice(0, streamed.clipsSent)).toEqual(Array(streamed.clipsSent).fill('低 高'));
      expect(await inspectContainer(docker, names.app('blue'))).toBeUndefined();
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', active: 'green', problems: [] });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 240_000);
  });

  describe('recreate', () => {
    const deployment = testDeployment(`asrsigintrc${process.pid}`);
    const { project, names } = deployment;

    it('once the old container is stopped, starts it again instead of the new one, releases the lock and exits 130', async () => {
      const first = await deployment.deploy({ strategy: 'recreate' });
      expect(first.color).toBe('blue');

      const result = await interruptedDeploy(models.dir, ['--project', project], (stdout) =>
        stdout.includes(`stopping ${names.app('blue')} (kept until the new one is verified)`),
      );

      expect(result.exitCode).toBe(130);
      // Stopped before the new app was created (before, this said "the new app was interrupted").
      expect(result.stdout).toContain('interrupted before the new app was created; starting the previous one again');
      expect(result.stderr).toMatch(
        /asrctl: deploy interrupted by SIGINT during Swap: the swap was undone .*: the previous version serves/u,
      );
      expect(await inspectContainer(docker, names.app('green'))).toBeUndefined();
      expect(await inspectContainer(docker, names.app('blue'))).toMatchObject({ state: 'running', health: 'healthy' });
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', active: 'blue', problems: [] });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 240_000);
  });

  describe('a strategy switch, interrupted once what served is stopped, starts it again', () => {
    const deployment = testDeployment(`asrsigintsw${process.pid}`);
    const { project, names } = deployment;

    it('recreate → blue-green: the recreate app stopped for the edge holds the port again; the edge and the new app go, exit 130', async () => {
      const first = await deployment.deploy({ strategy: 'recreate' });
      expect(first.color).toBe('blue');

      const result = await interruptedDeploy(models.dir, ['--project', project, '--strategy', 'blue-green'], (stdout) =>
        stdout.includes(`${names.app('blue')} stops now (kept until the new one is verified)`),
      );

      expect(result.exitCode).toBe(130);
      expect(result.stdout).toContain(`the green app was interrupted; it is removed, and ${names.app('blue')} holds the public port again`);
      expect(result.stderr).toMatch(
        /asrctl: deploy interrupted by SIGINT during Swap: the swap was undone .*: the previous version serves/u,
      );
      expect(await inspectContainer(docker, names.edge)).toBeUndefined();
      expect(await inspectContainer(docker, names.app('green'))).toBeUndefined();
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({ kind: 'update', shape: 'recreate', active: 'blue', problems: [] });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 300_000);

    it('blue-green → recreate: SIGHUP (a closed terminal) while the new app loads starts the old app and its edge again; exit 129, nothing written after the hangup', async () => {
      expect((await deployment.deploy({ strategy: 'blue-green' })).color).toBe('green');

      const result = await interruptedDeploy(
        models.dir,
        ['--project', project, '--strategy', 'recreate'],
        (stdout) => stdout.includes(`starting ${names.app('blue')} on port ${deployment.port}`),
        'SIGHUP',
      );

      expect(result.exitCode).toBe(129);
      // Writing to a terminal that is gone fails or crashes the process: after a SIGHUP the deploy is silent.
      expect(result.stderr).not.toContain('interrupted by');
      expect(result.stdout).not.toContain('Deployed');
      expect(await inspectContainer(docker, names.app('blue'))).toBeUndefined();
      expect(await lockNetwork(docker, names.lock)).toBeUndefined();
      expect(await deploymentStatus(docker, names)).toMatchObject({
        kind: 'update',
        shape: 'blue-green',
        active: 'green',
        problems: [],
      });
      expect(await recognize(deployment.port)).toEqual(['low high']);
    }, 300_000);

    it('status: a blue-green app whose edge is gone does not serve (it has no public port), so the deployment is broken', async () => {
      expect((await deployment.deploy({ strategy: 'blue-green' })).color).toBe('blue');
      await stopAndRemove(docker, names.edge, 0);

      const status = await execa('node', [CLI, 'status', '--project', project], { reject: false });

      expect(status.exitCode).toBe(1);
      expect(status.stdout).toContain(`"${project}": BROKEN (recreate)`);
      expect(status.stdout).toContain(
        `problem: no edge, and ${names.app('blue')} does not publish the public port (it was started behind an edge)`,
      );

      // A restart finds that out before fetching any model (before, it fetched them first).
      const restart = await execa('node', [CLI, 'restart', '--project', project, '--plain'], { reject: false, cwd: models.dir });
      expect(restart.exitCode).toBe(1);
      expect(restart.stdout).toContain('[Image (reuse the running one)]');
      expect(restart.stdout).not.toContain('[Model prefetch]');
    }, 300_000);
  });
});
