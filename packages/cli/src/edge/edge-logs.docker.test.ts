import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAndRemove } from '../docker/containers.js';
import { copyLogs } from '../docker/logs.js';
import { BASE_IMAGES } from '../images/base-images.js';
import { dockerForTests } from '../testing/docker-fixture.js';
import { renderHaproxyConfig } from './haproxy-config.js';
import { pollUntil } from '@asrctl/server';

const name = `asrctl-edge-logs-test-${process.pid}`;
let docker: Docker;
let dir: string;

beforeAll(async () => {
  docker = await dockerForTests();
  dir = await mkdtemp(join(tmpdir(), 'asrctl-edge-logs-'));
  // Both colours on a port nothing listens on: their health checks fail, which HAProxy reports.
  const config = renderHaproxyConfig({
    listenPort: 8765,
    upstream: { kind: 'colors', hosts: { blue: '127.0.0.1', green: '127.0.0.1' }, active: 'green' },
    appPort: 9,
    protocolPorts: {},
    allow: [],
    drainTimeoutSeconds: 1,
  });
  await writeFile(join(dir, 'haproxy.cfg'), config, { mode: 0o644 });
  const container = await docker.createContainer({
    name,
    Image: BASE_IMAGES.edge,
    User: 'root',
    Cmd: ['sh', '-c', 'mkdir -p /run/haproxy && exec haproxy -W -db -f /cfg/haproxy.cfg'],
    HostConfig: { Binds: [`${dir}:/cfg:ro`], NetworkMode: 'none' },
  });
  await container.start();
}, 300_000);

afterAll(async () => {
  await stopAndRemove(docker, name, 0).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function edgeLogs(): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (b: Buffer) => chunks.push(b));
  await copyLogs(docker, name, { follow: false }, sink, sink);
  return Buffer.concat(chunks).toString('utf8');
}

describe('the edge’s logs', () => {
  it('hold each HAProxy event once (stdout and stderr together, as asrctl logs shows them)', async () => {
    // The backend is reported empty after both servers went down.
    const logs = await pollUntil(edgeLogs, (logs) => /has no server available/u.test(logs), {
      what: 'the edge to report the backend empty',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(logs).toMatch(/has no server available/u);
    expect(logs.match(/Server app\/green is DOWN/gu)).toHaveLength(1);
    expect(logs.match(/Server app\/blue is DOWN/gu)).toHaveLength(1);
    expect(logs.match(/has no server available/gu)).toHaveLength(1);
  }, 60_000);
});
