import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS, deploymentNames } from '../deployment/deployment-names.js';
import { BASE_IMAGES } from '../images/base-images.js';
import { dockerForTests } from '../testing/docker-fixture.js';
import { onTerminal } from '../testing/terminal-hangup.js';
import { swarmForTests } from '../testing/swarm-fixture.js';

const CLI = new URL('../../dist/main.cjs', import.meta.url).pathname;
const project = `asrclean${process.pid}`;
const names = deploymentNames(project);
const container = `${project}-app-blue`;
const service = `${project}_app`;

describe('asrctl cleanup on a real Docker engine', () => {
  let docker: Docker;
  let work: string;
  let inuse: string;
  const asrctl = (...args: string[]) => execa('node', [CLI, ...args], { reject: false, cwd: work });

  beforeAll(async () => {
    docker = await dockerForTests();
    work = await mkdtemp(join(tmpdir(), 'asrctl-cleanup-'));
    inuse = join(work, 'store', 'inuse');
    await mkdir(join(work, 'models'));
    expect((await asrctl('models', 'synth', inuse)).exitCode).toBe(0);
    // As a deployment's app container mounts its model (its labels name the project).
    await docker.createContainer({
      name: container,
      Image: BASE_IMAGES.debian,
      Cmd: ['sleep', 'infinity'],
      Labels: { [LABELS.project]: project, [LABELS.role]: 'app' },
      HostConfig: { Binds: [`${inuse}:/models/inuse:ro`] },
    });
    await docker.getContainer(container).start();
  }, 300_000);

  afterAll(async () => {
    await docker
      ?.getContainer(container)
      .remove({ force: true })
      .catch(() => undefined);
    await docker
      ?.getNetwork(names.lock)
      .remove()
      .catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses a model directory a running container mounts, naming it, and removes nothing', async () => {
    const out = await asrctl('cleanup', '--project', project, '--yes', '--models', inuse);
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      `--models ${inuse} is in use: container "${container}" (running) of deployment "${project}" mounts ${inuse} at /models/inuse`,
    );
    expect(out.stderr).toContain(`stop that deployment first (asrctl stop --project ${project}), or deploy it without that model`);
    expect(out.stdout).not.toContain('removed');
    expect(existsSync(join(inuse, 'am', 'final.mdl'))).toBe(true);
  });

  it('models rm refuses a model a container mounts too', async () => {
    const out = await asrctl('models', 'rm', 'inuse', '--models-dir', 'store');
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      `inuse was not removed:\n  - ${inuse} is in use: container "${container}" (running) of deployment "${project}"`,
    );
    expect(out.stdout).toBe('');
    expect(existsSync(join(inuse, 'am', 'final.mdl'))).toBe(true);
  });

  it('models pull --force refuses to replace a model a container mounts, as rm does', async () => {
    // Before, it replaced it: the deployment ran whatever was installed at its next start.
    const out = await asrctl('models', 'pull', 'inuse', '--from', inuse, '--force', '--models-dir', 'store');
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(`inuse was not replaced:\n  - ${inuse} is in use: container "${container}" (running)`);
    expect(existsSync(join(inuse, 'am', 'final.mdl'))).toBe(true);
  });

  it('refuses what holds it, and a stopped container still holds it', async () => {
    await docker.getContainer(container).stop({ t: 0 });
    const out = await asrctl('cleanup', '--project', project, '--yes', '--models', 'store');
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      `--models store (${join(work, 'store')}) is in use: container "${container}" (exited) of deployment "${project}" mounts ${inuse} (inside ${join(work, 'store')})`,
    );
    // The stopped container itself was not removed either: nothing goes when anything is refused.
    expect((await docker.getContainer(container).inspect()).State.Status).toBe('exited');
    expect(existsSync(inuse)).toBe(true);
  });

  it('refuses the root, the current directory and the models directory, every problem at once', async () => {
    const out = await asrctl(
      'cleanup',
      '--project',
      project,
      '--dry-run',
      '--models',
      '/',
      '--models',
      '.',
      '--models',
      'models',
      '--models',
      inuse,
    );
    expect(out.exitCode).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('--models / is the root directory, not a model directory');
    expect(out.stderr).toContain(`--models . (${work}) is or holds the current directory ${work}, not a model directory`);
    expect(out.stderr).toContain(`is or holds the models directory ${join(work, 'models')}`);
    expect(out.stderr).toContain(`--models ${inuse} is in use`);
  });

  it('refuses a model directory a Swarm service mounts, though it runs no task', async () => {
    const swarm = await swarmForTests(docker);
    try {
      await docker.createService({
        Name: service,
        Labels: { [LABELS.project]: project },
        TaskTemplate: {
          ContainerSpec: {
            Image: BASE_IMAGES.debian,
            Command: ['sleep', 'infinity'],
            Mounts: [{ Type: 'bind', Source: inuse, Target: '/models/inuse', ReadOnly: true }],
          },
        },
        Mode: { Replicated: { Replicas: 0 } },
      });
      await docker.getContainer(container).remove({ force: true });
      const out = await asrctl('cleanup', '--project', project, '--dry-run', '--models', inuse);
      expect(out.exitCode).toBe(1);
      expect(out.stderr).toContain(
        `--models ${inuse} is in use: Swarm service "${service}" of deployment "${project}" mounts ${inuse} at /models/inuse`,
      );
    } finally {
      await docker
        .getService(service)
        .remove()
        .catch(() => undefined);
      await swarm.leave();
    }
  });

  it('refuses a model directory a named volume binds (--opt o=bind, device=DIR), as models rm does', async () => {
    const bound = join(work, 'store', 'bound');
    expect((await asrctl('models', 'synth', bound)).exitCode).toBe(0);
    const volume = `${project}-bound`;
    await docker.createVolume({ Name: volume, Driver: 'local', DriverOpts: { type: 'none', o: 'bind', device: bound } });
    const holder = await docker.createContainer({
      name: `${project}-volume-user`,
      Image: BASE_IMAGES.debian,
      Cmd: ['sleep', 'infinity'],
      HostConfig: { Binds: [`${volume}:/models/bound:ro`] },
    });
    try {
      const out = await asrctl('cleanup', '--project', project, '--yes', '--models', bound);
      expect(out.exitCode).toBe(1);
      expect(out.stderr).toContain(
        `--models ${bound} is in use: container "${project}-volume-user" (created) mounts ${bound} at /models/bound`,
      );
      const rm = await asrctl('models', 'rm', 'bound', '--models-dir', 'store');
      expect(rm.exitCode).toBe(1);
      expect(existsSync(join(bound, 'am', 'final.mdl'))).toBe(true);
    } finally {
      await holder.remove({ force: true });
      await docker.getVolume(volume).remove();
    }
  });

  it('removes the model directory once nothing mounts it', async () => {
    const out = await asrctl('cleanup', '--project', project, '--yes', '--models', inuse);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain(`models:\n  ${inuse}  (asked for with --models)`);
    expect(existsSync(inuse)).toBe(false);
  });

  it('lists and removes a deploy lock whose holder is gone; beside a live deploy it removes nothing', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    await once(dead, 'exit');
    const lockLabels = (pid: number) => ({
      [LABELS.project]: project,
      [LABELS.role]: 'lock',
      'io.asrctl.lock.host': hostname(),
      'io.asrctl.lock.pid': String(pid),
      'io.asrctl.lock.since': '2026-01-01T00:00:00.000Z',
    });
    // A live holder (this test's own process): a deploy in progress.
    await docker.createNetwork({ Name: names.lock, Internal: true, Labels: lockLabels(process.pid) });
    // A stopped container a deploy keeps to go back to (a strategy switch's old app): it stays.
    const kept = await docker.createContainer({
      name: `${project}-app-kept`,
      Image: BASE_IMAGES.debian,
      Labels: { [LABELS.project]: project, [LABELS.role]: 'app' },
    });
    const live = await asrctl('cleanup', '--project', project, '--yes');
    // Before, it removed the containers the deploy kept, and the deploy then had nothing to go back to.
    expect(live.exitCode).toBe(1);
    expect(live.stderr).toContain(`another deploy of "${project}" is running (pid ${process.pid} on ${hostname()}`);
    expect(live.stdout).toBe('');
    // A dry run says the same, rather than offer what the deploy keeps.
    const dry = await asrctl('cleanup', '--project', project, '--dry-run');
    expect(dry.exitCode).toBe(1);
    expect(dry.stderr).toContain(`another deploy of "${project}" is running`);
    expect((await kept.inspect()).State.Status).toBe('created');
    await kept.remove();
    expect((await docker.getNetwork(names.lock).inspect()).Name).toBe(names.lock);
    await docker.getNetwork(names.lock).remove();

    await docker.createNetwork({ Name: names.lock, Internal: true, Labels: lockLabels(dead.pid!) });
    const listed = await asrctl('cleanup', '--project', project, '--dry-run');
    expect(listed.stdout).toContain(
      `deploy locks:\n  ${names.lock}  (left by a deploy that is gone: pid ${dead.pid} on ${hostname()}, since 2026-01-01T00:00:00.000Z)`,
    );
    const removed = await asrctl('cleanup', '--project', project, '--yes');
    expect(removed.exitCode).toBe(0);
    expect(await docker.listNetworks({ filters: { name: [names.lock] } })).toEqual([]);
  });

  it('says of a stopped app, while nothing serves, that it may be the version that last served and how to bring it back', async () => {
    // What a deploy killed mid-switch leaves: the old app, stopped.
    const stopped = await docker.createContainer({
      name: `${project}-app-green`,
      Image: BASE_IMAGES.debian,
      Labels: { [LABELS.project]: project, [LABELS.role]: 'app' },
    });
    try {
      const listed = await asrctl('cleanup', '--project', project, '--dry-run');
      expect(listed.stdout).toContain(
        `  ${project}-app-green  (created; nothing serves now, and this may be the version that last did: docker start ${project}-app-green brings it back)`,
      );
    } finally {
      await stopped.remove();
    }
  });

  it('lets go of the deploy lock when stopped (SIGTERM) at a question', async () => {
    const leftover = await docker.createContainer({
      name: `${project}-app-blue`,
      Image: BASE_IMAGES.debian,
      Labels: { [LABELS.project]: project, [LABELS.role]: 'app' },
    });
    try {
      const cleanup = onTerminal(process.execPath, [CLI, 'cleanup', '--project', project], { cwd: work });
      await cleanup.waitFor((output) => output.includes('[y/N]'), 'the question');
      const pgrep = () => execa('pgrep', ['-f', `^${process.execPath} ${CLI} cleanup --project ${project}$`], { reject: false });
      process.kill(Number((await pgrep()).stdout.trim()), 'SIGTERM');
      // The terminal stays until the process has ended (closing it first would be a hangup).
      await cleanup.waitFor(async () => (await pgrep()).exitCode === 1, 'the cleanup to end');
      // Before, the lock stayed, naming the cleanup as a deploy that had died.
      expect(await cleanup.hangUp()).toEqual({ exitCode: 143 });
      expect((await docker.listNetworks({ filters: { name: [names.lock] } })).filter((n) => n.Name === names.lock)).toEqual([]);
      expect((await leftover.inspect()).State.Status).toBe('created');
    } finally {
      await leftover.remove();
    }
  });

  it('when its terminal hangs up at a question, removes nothing, lets go of the deploy lock and exits, not aborts', async () => {
    const leftover = await docker.createContainer({
      name: `${project}-app-green`,
      Image: BASE_IMAGES.debian,
      Labels: { [LABELS.project]: project, [LABELS.role]: 'app' },
    });
    try {
      const cleanup = onTerminal(process.execPath, [CLI, 'cleanup', '--project', project], { cwd: work });
      await cleanup.waitFor((output) => output.includes('[y/N]'), 'the question');
      // Before, Node died of SIGABRT at exit, restoring the lost terminal's settings. The question
      // reads the end of its input as no (exit 0), unless the SIGHUP is handled first (129).
      const ended = await cleanup.hangUp();
      expect(ended.signal).toBeUndefined();
      expect([0, 129]).toContain(ended.exitCode);
      await expect
        .poll(async () => (await docker.listNetworks({ filters: { name: [names.lock] } })).filter((n) => n.Name === names.lock))
        .toEqual([]);
      expect((await leftover.inspect()).State.Status).toBe('created');
    } finally {
      await leftover.remove();
    }
  });

  it('untags the tags of a running image that no container uses (each deploy adds one), keeping the one in use', async () => {
    const app = `asrctl/${project}-app`;
    const base = docker.getImage(BASE_IMAGES.debian);
    for (const tag of ['old1', 'old2', 'used']) await base.tag({ repo: app, tag });
    const user = await docker.createContainer({ name: `${project}-app-user`, Image: `${app}:used`, Cmd: ['sleep', 'infinity'] });
    try {
      // What a Swarm deploy pushes to --registry is the project's too (before, never listed); another
      // project's image whose name starts the same is not.
      const pushed = [`127.0.0.1:5999/${project}-app:v1-abc`, `127.0.0.1:5999/${project}-model-cn:0123456789ab`];
      const others = `127.0.0.1:5999/${project}-model-app:v1-abc`;
      for (const ref of [...pushed, others])
        await base.tag({ repo: ref.slice(0, ref.lastIndexOf(':')), tag: ref.slice(ref.lastIndexOf(':') + 1) });
      const listed = await asrctl('cleanup', '--project', project, '--dry-run');
      for (const ref of pushed) expect(listed.stdout).toContain(`  ${ref}  (`);
      expect(listed.stdout).not.toContain(others);
      await docker.getImage(others).remove();
      expect(listed.stdout).toContain(`  ${app}:old1  (a tag no container uses; the image stays for the tag in use)`);
      expect(listed.stdout).toContain(`${app}:old2`);
      expect(listed.stdout).not.toContain(`${app}:used`);
      expect((await asrctl('cleanup', '--project', project, '--yes')).exitCode).toBe(0);
      const tags = (await docker.listImages({ filters: { reference: [`${app}:*`] } })).flatMap((i) => i.RepoTags ?? []);
      expect(tags).toEqual([`${app}:used`]);
      for (const ref of pushed) expect((await docker.listImages({ filters: { reference: [ref] } })).length, ref).toBe(0);
      expect((await docker.getImage(BASE_IMAGES.debian).inspect()).Id).toBeTruthy();
    } finally {
      await user.remove({ force: true });
      await docker
        .getImage(`${app}:used`)
        .remove()
        .catch(() => undefined);
    }
  });
});
