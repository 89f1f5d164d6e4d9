import { pollUntil } from '@asrctl/server';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELS, deploymentNames } from '../../deployment/deployment-names.js';
import { createService, inspectService, removeService, serviceTasks } from '../../docker/swarm.js';
import { BASE_IMAGES } from '../../images/base-images.js';
import { dockerForTests } from '../../testing/docker-fixture.js';
import { swarmForTests } from '../../testing/swarm-fixture.js';
import { dockerTarget } from './docker-target.js';

const project = `asrswarmtask${process.pid}`;
const names = deploymentNames(project);

/**
 * A Swarm task's container carries the project's labels (as on a worker node, where the services
 * cannot be seen). The plain-Docker target must leave it to Swarm: stopped, Swarm starts it again
 * and its sessions are cut for nothing.
 */
describe('the docker target beside Swarm task containers of the same project (single-node Swarm)', () => {
  let docker: Docker;
  let swarm: { leave(): Promise<void> };

  beforeAll(async () => {
    docker = await dockerForTests();
    swarm = await swarmForTests(docker);
  }, 120_000);

  afterAll(async () => {
    if (!docker) return;
    await removeService(docker, names.appService).catch(() => undefined);
    await swarm?.leave();
  }, 120_000);

  it('neither stops them nor reports them as a deployment of its own', async () => {
    const labels = { [LABELS.project]: project, [LABELS.role]: 'app' };
    await createService(docker, {
      Name: names.appService,
      Labels: labels,
      TaskTemplate: {
        ContainerSpec: { Image: BASE_IMAGES.node, Labels: labels, Command: ['node', '-e', 'setTimeout(() => undefined, 600_000)'] },
      },
      Mode: { Replicated: { Replicas: 1 } },
    });
    const service = await inspectService(docker, names.appService);
    const [task] = await pollUntil(
      async () => (await serviceTasks(docker, service!.id)).filter((t) => t.state === 'running' && t.containerId),
      (running) => running.length === 1,
      { what: 'the task to run', timeoutMs: 60_000, intervalMs: 500 },
    );

    expect(await dockerTarget.stop(docker, names, () => undefined)).toEqual([]);
    expect((await docker.getContainer(task!.containerId!).inspect()).State.Running).toBe(true);
    expect((await dockerTarget.status(docker, names)).kind).toBe('fresh');
    const logs = dockerTarget.logs(docker, names, {
      service: 'app',
      follow: false,
      timestamps: false,
      stdout: process.stdout,
      stderr: process.stderr,
      signal: new AbortController().signal,
    });
    await expect(logs).rejects.toThrow(/has no app container/u);
  }, 120_000);
});
