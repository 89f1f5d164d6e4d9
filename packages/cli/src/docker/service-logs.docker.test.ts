import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGES } from '../images/base-images.js';
import { dockerForTests } from '../testing/docker-fixture.js';
import { swarmForTests } from '../testing/swarm-fixture.js';
import { copyServiceLogs } from './logs.js';
import { pollUntil } from '@asrctl/server';

const service = `asrctl-logs-test-${process.pid}`;
let docker: Docker;
let swarm: { leave(): Promise<void> };

beforeAll(async () => {
  docker = await dockerForTests();
  swarm = await swarmForTests(docker);
  await docker.createService({
    Name: service,
    TaskTemplate: {
      ContainerSpec: { Image: BASE_IMAGES.debian, Command: ['sh', '-c', 'echo "hello from $(hostname)"; echo oops >&2; exec sleep 600'] },
      RestartPolicy: { Condition: 'none' },
    },
    Mode: { Replicated: { Replicas: 2 } },
  });
}, 300_000);

afterAll(async () => {
  await docker
    .getService(service)
    .remove()
    .catch(() => undefined);
  await swarm.leave();
}, 120_000);

async function serviceLogs(): Promise<{ out: string; err: string }> {
  const [out, err] = [new PassThrough(), new PassThrough()];
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (b: Buffer) => chunks.out.push(b));
  err.on('data', (b: Buffer) => chunks.err.push(b));
  await copyServiceLogs(docker, service, { follow: false }, out, err);
  return { out: Buffer.concat(chunks.out).toString('utf8'), err: Buffer.concat(chunks.err).toString('utf8') };
}

describe('copyServiceLogs', () => {
  it('prefixes each line with the task that wrote it, stdout and stderr apart', async () => {
    const logs = await pollUntil(serviceLogs, (logs) => (logs.out.match(/hello/gu)?.length ?? 0) >= 2, {
      what: 'both tasks to log hello',
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const tasks = (await docker.listTasks({ filters: { service: [service] } })) as Array<{ ID: string; Slot: number }>;
    const expected = tasks.map((t) => `${service}.${t.Slot}.${t.ID.slice(0, 12)} | hello from `);
    const lines = logs.out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.replace(/[0-9a-f]{12}$/u, '')).sort()).toEqual(expected.sort());
    expect(logs.err).toMatch(new RegExp(`^${service}\\.[12]\\.[0-9a-z]{12} \\| oops\\n`, 'u'));
  }, 120_000);
});
