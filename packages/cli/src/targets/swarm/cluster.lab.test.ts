import { rename } from 'node:fs/promises';
import { lowHighClip } from '@asrctl/tone-model';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '@asrctl/server';
import { transcribe } from '../../client/transcription-client.js';
import { deploy, plainPhaseRunner } from '../../deploy/deploy.js';
import { deploymentNames } from '../../deployment/deployment-names.js';
import { APP_PORT } from '../../deployment/ports.js';
import { edgeStats, taskServerStates } from '../../edge/edge-runtime.js';
import { containerTemplate, inspectService, serviceTasks, specImage, swarmFacts, updateService } from '../../docker/swarm.js';
import { startConnectionLoop } from '../../load/connection-loop.js';
import { startStreamingSession } from '../../load/streaming-session.js';
import { type TestModels, stopAfterFirstFailure, testDeployConfig, toneModelsForDeploy } from '../../testing/docker-fixture.js';
import { type LabNode, type SwarmLab, swarmLabForTests } from '../../testing/swarm-lab-fixture.js';
import { stopSwarmDeployment, swarmStatus } from './swarm-operations.js';

const CLI = new URL('../../../dist/main.cjs', import.meta.url).pathname;
const project = `asrlab${process.pid}`;
const names = deploymentNames(project);
const PORT = 18765;
const isRunning = (t: { desiredState: string; state: string }): boolean => t.desiredState === 'running' && t.state === 'running';

/**
 * A 3-node Swarm (1 manager, 2 workers, each its own dockerd in its own network namespace) and a
 * registry: asrctl deploys from the manager, every other node gets images and models from the
 * registry only.
 */
describe('asrctl deploy --target swarm on a 3-node Swarm lab', () => {
  let lab: SwarmLab;
  let models: TestModels;
  const lines: string[] = [];
  const record = (l: string): void => void lines.push(l);
  const url = (node: LabNode): string => `ws://${node.address}:${PORT}/`;
  const recognize = async (node: LabNode, language: 'cn' | 'en'): Promise<string[]> =>
    (await transcribe({ url: url(node), samples: lowHighClip(16000), sampleRate: 16000, language })).map((f) => f.text);
  const config = () => testDeployConfig(project, PORT, models, { target: 'swarm', registry: lab.registry, replicas: '3' });
  /** Until the (global) edge runs on every node again, e.g. after its pull or a drain. */
  const edgeOnEveryNode = async (): Promise<void> => {
    const edge = await inspectService(lab.manager.docker, names.edgeService);
    await pollUntil(
      async () => (await serviceTasks(lab.manager.docker, edge!.id)).filter(isRunning).length,
      (running) => running === lab.nodes.length,
      { what: `the edge to run on all ${lab.nodes.length} nodes`, timeoutMs: 120_000, intervalMs: 1000 },
    );
  };
  /** Figures for BENCHMARKS.md (never asserted: the machine is shared). */
  const figure = (what: string, value: string): void => void process.stdout.write(`lab figure: ${what}: ${value}\n`);
  stopAfterFirstFailure();

  beforeAll(async () => {
    lab = await swarmLabForTests();
    models = await toneModelsForDeploy();
  }, 300_000);

  afterAll(async () => {
    if (lab) {
      await stopSwarmDeployment(lab.manager.docker, names).catch(() => undefined);
      await lab.down();
    }
    await models?.remove();
  }, 180_000);

  it('spreads 3 replicas one per node; models reach every node only through the registry', async () => {
    const report = await deploy(lab.manager.docker, config(), plainPhaseRunner(record), { say: record });
    expect(report.heard).toEqual({ cn: '低 高', en: 'low high' });
    expect(lines.join('\n')).toMatch(/model cn as image 10\.77\.0\.1:5000\/asrlab\d+-model-cn:[0-9a-f]{12}/u);

    const app = await inspectService(lab.manager.docker, names.appService);
    // Nothing of a node's disk is mounted for models: only the tmpfs.
    expect(containerTemplate(app?.spec)?.ContainerSpec?.Mounts?.map((m) => m.Type)).toEqual(['tmpfs']);
    const tasks = (await serviceTasks(lab.manager.docker, app!.id)).filter((t) => t.state === 'running');
    expect(tasks).toHaveLength(3);
    expect(new Set(tasks.map((t) => t.nodeId)).size).toBe(3);
    // Each node's own engine runs one app container, from the pushed image with the models in it.
    for (const node of lab.nodes) {
      const running = await node.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${names.appService}`] } });
      expect(running, node.name).toHaveLength(1);
      const container = await node.docker.getContainer(running[0]!.Id).inspect();
      expect(
        container.Mounts.filter((m) => m.Type === 'bind'),
        node.name,
      ).toEqual([]);
      expect(container.Config.Image).toBe(specImage(app?.spec)?.replace(/@sha256:.*$/u, ''));
    }

    // The summary names the image that runs (the app with its models) and warns of no bind mount.
    expect(report.appImage).toBe(specImage(app?.spec)?.replace(/@sha256:.*$/u, ''));
    expect(report.warnings.join('\n')).not.toContain('bind-mounted');

    // The deploy waits for the edge on this node; the others start it as their pulls finish.
    await edgeOnEveryNode();

    // The proof of the route is above: no bind mount in the spec or any container. Beyond it, the
    // model directories leave the shared disk and every task is replaced (a forced update, as a
    // rescheduling would): the new tasks start and serve with no model directory on any disk.
    await rename(models.dir, `${models.dir}.gone`);
    try {
      const force = (containerTemplate(app?.spec)?.ForceUpdate ?? 0) + 1;
      await updateService(lab.manager.docker, app!, { ...app!.spec, TaskTemplate: { ...app!.spec.TaskTemplate, ForceUpdate: force } });
      // Throws on timeout, naming what it waited for.
      await pollUntil(
        async () => (await serviceTasks(lab.manager.docker, app!.id)).filter((t) => t.desiredState === 'running'),
        (wanted) => wanted.length === 3 && wanted.every((t) => t.state === 'running' && t.forceUpdate === force),
        { timeoutMs: 180_000, intervalMs: 1000, what: 'every app task replaced while the model directories are gone' },
      );
      for (const node of lab.nodes) {
        expect(await recognize(node, 'en'), node.name).toEqual(['low high']);
        expect(await recognize(node, 'cn'), node.name).toEqual(['低 高']);
      }
    } finally {
      await rename(`${models.dir}.gone`, models.dir);
    }
  }, 600_000);

  it('rolls out a new version under connection loops and live sessions on every node: no failed connection', async () => {
    const loops = lab.nodes.map((n) => startConnectionLoop(url(n), 60));
    const sessions = await Promise.all(lab.nodes.map((n) => startStreamingSession(url(n))));
    lines.length = 0;
    await deploy(lab.manager.docker, config(), plainPhaseRunner(record), { say: record });
    expect(lines.join('\n')).not.toContain("the edge's settings changed");
    const connections = await Promise.all(loops.map((l) => l.stop()));
    const results = await Promise.all(sessions.map((s) => s.stop()));
    figure(
      'rolling update',
      `${connections.map((c) => `${c.failures.length} failed of ${c.attempts}`).join(', ')} connections (one loop per node); closes ${results.map((r) => r.closeCode).join(', ')}`,
    );
    for (const c of connections) {
      expect(c.failures).toEqual([]);
      expect(c.attempts).toBeGreaterThan(50);
    }
    for (const s of results) {
      expect(s.errors).toEqual([]);
      expect([1000, 1012]).toContain(s.closeCode);
      expect(s.finals.slice(0, s.clipsSent)).toEqual(Array(s.clipsSent).fill('低 高'));
    }
  }, 600_000);

  it('on a worker, status, stop, restart and logs refuse as deploy does, and stop none of its Swarm tasks', async () => {
    const worker = lab.nodes[1]!;
    const env = { ...process.env, DOCKER_HOST: worker.dockerHost };
    const tasksHere = async (): Promise<string[]> =>
      (await worker.docker.listContainers({ filters: { label: [`com.docker.stack.namespace=${project}`] } })).map((c) => c.Id).sort();
    const before = await tasksHere();
    expect(before.length).toBeGreaterThan(0);
    for (const command of [['status'], ['stop'], ['restart'], ['logs', '--tail', '3']]) {
      const run = await execa('node', [CLI, ...command, '--project', project], { env, reject: false });
      expect(run.exitCode, `${command[0]}: ${run.stdout}`).toBe(1);
      expect(run.stderr, command[0]).toContain('this engine is a Swarm worker');
      expect(run.stderr, command[0]).toContain('hint: run asrctl on a manager node');
    }
    // The same task containers run there: none was stopped (Swarm would have started new ones).
    expect(await tasksHere()).toEqual(before);
  }, 300_000);

  it('a port taken on one node: the deploy warns naming the node, status says DEGRADED and why', async () => {
    const third = lab.nodes[2]!;
    const other = deploymentNames(`${project}port`);
    const port = PORT + 10;
    // A process of that node (not a container) holds the port on every address, as in the review.
    const holder = execa('nsenter', [
      `--net=/run/netns/${third.netns}`,
      'python3',
      '-c',
      `import socket,time\ns=socket.socket()\ns.bind(("0.0.0.0",${port}))\ns.listen()\nprint("listening",flush=True)\ntime.sleep(600)`,
    ]);
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      lines.length = 0;
      const report = await deploy(
        lab.manager.docker,
        testDeployConfig(other.project, port, models, { target: 'swarm', registry: lab.registry, replicas: '1' }),
        plainPhaseRunner(record),
        { say: record },
      );
      const node3 = `node \\S+ \\(${third.address.replaceAll('.', '\\.')}\\)`;
      expect(report.warnings.join('\n')).toMatch(
        new RegExp(
          `no edge runs on ${node3}: clients of port \\S*${port} there are refused; its task \\w+: .*${port}: bind: address already in use`,
          'u',
        ),
      );
      expect(lines.join('\n')).toMatch(new RegExp(`ports \\S*${port} are free or held by this deployment on this node`, 'u'));
      const status = await execa('node', [CLI, 'status', '--project', other.project], {
        env: { ...process.env, DOCKER_HOST: lab.managerHost },
        reject: false,
      });
      expect(status.stdout, status.stderr).toMatch(/^"asrlab\d+port": serving, DEGRADED \(swarm/u);
      expect(status.stdout).toMatch(
        new RegExp(`problem: no edge runs on ${node3}: clients of port \\S*${port} there are refused; its task \\w+: `, 'u'),
      );
      expect(status.stdout).toContain(`port ${port} is taken on that node by another process or container`);
    } finally {
      holder.kill();
      await holder.catch(() => undefined);
      await stopSwarmDeployment(lab.manager.docker, other);
    }
  }, 600_000);

  type FailingTask = { container: Docker.Container; pid: string };
  /**
   * While `fault` holds an app task (Docker's DNS still lists it) for at least 6 s and until
   * every edge's check marks it DOWN, a connection loop runs on every node. The connections the
   * edges sent to the task must be retried on another task before the client's 5 s handshake
   * timeout.
   */
  const connectionsWhileTaskFails = async (
    what: string,
    fault: { apply: (task: FailingTask) => Promise<void>; undo: (task: FailingTask) => Promise<void> },
  ) => {
    const app = await inspectService(lab.manager.docker, names.appService);
    // Any running task: a rolling update need not leave one on each node.
    const running = await pollUntil(
      async () => (await serviceTasks(lab.manager.docker, app!.id)).filter(isRunning),
      (tasks) => tasks.length === 3,
      { what: '3 app tasks running', timeoutMs: 120_000, intervalMs: 1000 },
    );
    const task = running[0]!;
    const nodeIds = await Promise.all(lab.nodes.map(async (n) => (await swarmFacts(n.docker)).nodeId));
    const container = lab.nodes[nodeIds.indexOf(task.nodeId)]!.docker.getContainer(task.containerId!);
    const failing = { container, pid: String((await container.inspect()).State.Pid) };
    const address = task.addresses[0]!;
    const edges = await Promise.all(
      lab.nodes.map(async (n) => {
        const [edge] = await n.docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${names.edgeService}`] } });
        return { docker: n.docker, id: edge!.Id };
      }),
    );
    /** Per edge: connections it redispatched so far, what its check says of the task, and the tasks UP. */
    const edgeFigures = async (): Promise<Array<{ redispatched: number; task: string; up: number }>> =>
      Promise.all(
        edges.map(async (e) => {
          const routes = await taskServerStates(e.docker, e.id);
          const backend = (await edgeStats(e.docker, e.id)).rows.find((r) => r.pxname === 'app' && r.svname === 'BACKEND');
          return {
            redispatched: Number(backend?.wredis ?? 0),
            task: routes.find((r) => r.address === address)?.status ?? '',
            up: routes.filter((r) => r.status === 'UP').length,
          };
        }),
      );
    const taskIs = (status: string) => (figures: Array<{ task: string }>) => figures.every((f) => f.task === status);
    await pollUntil(edgeFigures, taskIs('UP'), {
      what: `every edge to have the task at ${address} UP`,
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    const before = await edgeFigures();
    const loops = lab.nodes.map((n) => startConnectionLoop(url(n), 60));
    await fault.apply(failing);
    const applied = Date.now();
    let downMs = -1;
    try {
      await pollUntil(edgeFigures, taskIs('DOWN'), {
        what: `every edge's check to mark the ${what} task DOWN`,
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      downMs = Date.now() - applied;
      // Held past the client's 5 s timeout, so a connection stuck on the task fails rather than being answered late.
      await new Promise((r) => setTimeout(r, Math.max(0, 6000 - (Date.now() - applied))));
    } finally {
      await fault.undo(failing);
    }
    const connections = await Promise.all(loops.map((l) => l.stop()));
    const after = await edgeFigures();
    const redispatched = after.reduce((sum, f, i) => sum + f.redispatched - before[i]!.redispatched, 0);
    figure(
      `${what} task`,
      `${connections.map((c) => `${c.failures.length} failed of ${c.attempts}`).join(', ')} connections; ${redispatched} redispatched by the edges; every edge had it DOWN after ${downMs} ms`,
    );
    // The task comes back, or (had Docker's check given up on it) Swarm replaces it.
    await pollUntil(edgeFigures, (figures) => figures.every((f) => f.up === 3), {
      what: 'every edge to see 3 tasks UP again',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    return { connections, redispatched };
  };

  it('a task gone silent while the DNS still lists it (a drained or lost one): its connections are retried on another task in time', async () => {
    // Its incoming SYNs dropped, not on loopback: Docker's own health check still passes, so Swarm
    // keeps it listed, and the moment before the edges drop it lasts until their checks fail.
    const rule = ['INPUT', '!', '-i', 'lo', '-p', 'tcp', '--dport', String(APP_PORT), '--syn', '-j', 'DROP'];
    const inTask = (pid: string, ...args: string[]) => execa('nsenter', ['-t', pid, '-n', 'iptables', ...args]);
    const { connections, redispatched } = await connectionsWhileTaskFails('silent', {
      apply: async ({ pid }) => void (await inTask(pid, '-I', ...rule)),
      undo: async ({ pid }) => void (await inTask(pid, '-D', ...rule)),
    });
    // Some connections went to the silent task (else this test proved nothing), and none failed.
    expect(redispatched).toBeGreaterThan(0);
    for (const c of connections) expect(c.failures).toEqual([]);
  }, 300_000);

  it('a frozen task (it accepts connections and never answers): its connections are retried on another task in time', async () => {
    // Paused (every process frozen), its kernel still completes the TCP handshake.
    const { connections, redispatched } = await connectionsWhileTaskFails('frozen', {
      apply: async ({ container }) => void (await container.pause()),
      undo: async ({ container }) => void (await container.unpause()),
    });
    expect(redispatched).toBeGreaterThan(0);
    for (const c of connections) expect(c.failures).toEqual([]);
  }, 300_000);

  it('drains a node: its app task moves, the other nodes answer without a failed connection', async () => {
    const [first, second, third] = lab.nodes as [LabNode, LabNode, LabNode];
    // A drained node runs no task at all, its edge included: clients use the other nodes.
    const loops = [first, second].map((n) => startConnectionLoop(url(n), 60));
    const thirdId = (await swarmFacts(third.docker)).nodeId;
    const node = lab.manager.docker.getNode(thirdId);
    const spec = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
    const drained = Date.now();
    await node.update({ version: spec.Version.Index, ...spec.Spec, Availability: 'drain' });
    const app = await inspectService(lab.manager.docker, names.appService);
    await pollUntil(
      async () => (await serviceTasks(lab.manager.docker, app!.id)).filter(isRunning),
      (running) => running.length === 3 && running.every((t) => t.nodeId !== thirdId),
      { what: '3 app tasks to run off the drained node', timeoutMs: 120_000, intervalMs: 1000 },
    );
    const movedMs = Date.now() - drained;
    await new Promise((r) => setTimeout(r, 3000));
    const connections = await Promise.all(loops.map((l) => l.stop()));
    for (const c of connections) expect(c.failures).toEqual([]);
    const running = (await serviceTasks(lab.manager.docker, app!.id)).filter(isRunning);
    expect(running.map((t) => t.nodeId)).not.toContain(thirdId);
    expect(running).toHaveLength(3);
    const back = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
    await node.update({ version: back.Version.Index, ...back.Spec, Availability: 'active' });
    await edgeOnEveryNode();
    figure(
      'drain',
      `${connections.map((c) => `${c.failures.length} failed of ${c.attempts}`).join(', ')} connections; tasks moved in ${movedMs} ms`,
    );
  }, 300_000);

  it('loses a worker: the others keep answering, its sessions end, a reconnect elsewhere succeeds, replicas recover', async () => {
    const [first, second, third] = lab.nodes as [LabNode, LabNode, LabNode];
    const loops = [first, second].map((n) => startConnectionLoop(url(n), 60));
    const lost = await startStreamingSession(url(third));
    const thirdId = (await swarmFacts(third.docker)).nodeId;
    const partitioned = Date.now();
    await execa('ip', ['-n', third.netns, 'link', 'set', 'eth0', 'down']);
    try {
      // The client on the lost node hears nothing more: after 5 s of silence it gives up (a
      // client-side timeout) and reconnects on another node.
      const ended = await Promise.race([lost.closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
      expect(['closed', 'timeout']).toContain(ended);
      expect(await recognize(first, 'en')).toEqual(['low high']);
      const reconnectedMs = Date.now() - partitioned;
      let downMs = -1;
      await pollUntil(
        async () => {
          const down = (await swarmFacts(first.docker)).nodes.find((n) => n.id === thirdId)?.state === 'down';
          if (down && downMs < 0) downMs = Date.now() - partitioned;
          const app = (await swarmStatus(lab.manager.docker, names)).services.find((s) => s.role === 'app');
          return down && app?.running === 3;
        },
        (recovered) => recovered,
        { what: 'the lost node to be down and 3 app replicas to run again', timeoutMs: 120_000, intervalMs: 500 },
      );
      const recoveredMs = Date.now() - partitioned;
      const status = await execa('node', [CLI, 'status', '--project', project], {
        env: { ...process.env, DOCKER_HOST: lab.managerHost },
        reject: false,
      });
      expect(status.stdout, status.stderr).toMatch(new RegExp(`node \\S+ \\(${third.address.replaceAll('.', '\\.')}\\) worker: down`, 'u'));
      expect(status.stdout).toMatch(/_app {2}app {2}replicated 3 {2}running 3\/3/u);
      // The header and a problem line say a node is lost, though the service recovered on the others.
      expect(status.stdout).toMatch(/^"asrlab\d+": serving, DEGRADED \(swarm/u);
      expect(status.stdout).toMatch(
        new RegExp(`problem: node \\S+ \\(${third.address.replaceAll('.', '\\.')}\\) is down \\(active\\)`, 'u'),
      );
      // Logs without -f: the reachable tasks' lines, a note naming the lost node, and an end.
      const logs = await execa('node', [CLI, 'logs', '--project', project, '--tail', '3'], {
        env: { ...process.env, DOCKER_HOST: lab.managerHost },
        reject: false,
        timeout: 120_000,
      });
      expect(logs.exitCode, `${logs.stderr} (killed: ${logs.isTerminated})`).toBe(0);
      expect(logs.stdout).toMatch(new RegExp(`^${names.appService}\\.\\d+\\.\\w{12} \\| \\{`, 'mu'));
      expect(logs.stderr).toMatch(
        new RegExp(`note: node \\S+ \\(${third.address.replaceAll('.', '\\.')}\\) is down: not shown: ${names.appService}\\.`, 'u'),
      );
      const connections = await Promise.all(loops.map((l) => l.stop()));
      figure(
        'node loss',
        `${connections.map((c) => `${c.failures.length} failed of ${c.attempts}`).join(', ')} connections to the other nodes; session on the lost node: ${ended}; reconnect elsewhere ${reconnectedMs} ms after the partition; node down after ${downMs} ms; 3 replicas again after ${recoveredMs} ms`,
      );
      for (const c of connections) expect(c.failures).toEqual([]);
    } finally {
      await execa('ip', ['-n', third.netns, 'link', 'set', 'eth0', 'up']);
      lost.stop().catch(() => undefined);
    }
    await edgeOnEveryNode();
  }, 300_000);

  it('scales to 5 and back to 2; stop leaves nothing on any node', async () => {
    const env = { ...process.env, DOCKER_HOST: lab.managerHost };
    await execa('node', [CLI, 'scale', '5', '--project', project], { env });
    const five = await swarmStatus(lab.manager.docker, names);
    expect(five.services.find((s) => s.role === 'app')).toMatchObject({ running: 5 });
    // Every node runs at least one of them, with the models in its image.
    for (const n of five.nodes) expect(n.appTasks.length, n.name).toBeGreaterThan(0);
    expect(five.nodes.every((n) => n.modelsFrom === 'image')).toBe(true);
    await execa('node', [CLI, 'scale', '2', '--project', project], { env });
    expect((await swarmStatus(lab.manager.docker, names)).services.find((s) => s.role === 'app')).toMatchObject({ running: 2 });
    await execa('node', [CLI, 'stop', '--project', project], { env });
    await execa('node', [CLI, 'cleanup', '--project', project, '--yes'], { env });
    for (const node of lab.nodes) {
      await pollUntil(
        () => node.docker.listContainers({ all: true, filters: { label: [`com.docker.stack.namespace=${project}`] } }),
        (containers) => containers.length === 0,
        {
          what: `${node.name} to have no container of ${project}`,
          timeoutMs: 60_000,
          intervalMs: 1000,
          timeoutError: (message, left) => new Error(`${message}; still there: ${left.map((c) => c.Names.join(',')).join(' ')}`),
        },
      );
    }
  }, 300_000);
});
