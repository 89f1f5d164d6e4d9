import { mkdtemp, rm } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from './testing/self-signed-certificate.js';
import type { ConfigInput } from './config.js';
import type { AsrServer } from './server.js';
import { AsrctlClient } from './client/asrctl-client.js';
import { metric, startTestServer } from './testing/test-server.js';
import { type ToneModelSet, makeToneModels } from './testing/tone-models.js';

/** A TCP connection that sends nothing (or what the test writes), from a chosen loopback address. */
function openSocket(port: number, from = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve(socket));
    socket.on('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('data', () => undefined).resume();
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** Finding 4 of issue 15: silent sockets held file descriptors for minutes and counted against no limit. */
describe('connection-level limits', () => {
  let models: ToneModelSet;
  let work: string;
  let server: AsrServer | undefined;
  const start = async (config: ConfigInput): Promise<AsrServer> => {
    server = await startTestServer({ en: models.en }, { config });
    return server;
  };

  async function transcript(s: AsrServer): Promise<unknown> {
    const client = await AsrctlClient.connect(`ws://127.0.0.1:${s.port}/?language=en`);
    client.sendAudio(pcmBytes(lowHighClip(16000)));
    client.send({ command: 'eof' });
    const final = await client.nextFinal();
    await client.close();
    return final.text;
  }

  beforeAll(async () => {
    models = await makeToneModels();
    work = await mkdtemp(join(tmpdir(), 'asr-conn-'));
  });
  afterEach(async () => {
    await server?.drain(500);
    server = undefined;
  });
  afterAll(async () => {
    await models.remove();
    await rm(work, { recursive: true, force: true });
  });

  it('counts sockets per peer address before any request: one address cannot lock others out', async () => {
    const s = await start({ maxConnectionsPerIp: '5' });
    const idle = await Promise.all(Array.from({ length: 5 }, () => openSocket(s.port, '127.0.0.2')));
    const sixth = await openSocket(s.port, '127.0.0.2');
    await closed(sixth);
    expect(await metric(s, 'asr_rejected_total{reason="max_connections_per_ip"}')).toBe(1);
    // Another address is served while the first holds its sockets.
    expect(await transcript(s)).toBe('low high');
    for (const socket of idle) socket.destroy();
  });

  it('caps open sockets in total, and says so in /metrics', async () => {
    const s = await start({ maxConnections: '4' });
    const idle = await Promise.all(Array.from({ length: 4 }, (_, i) => openSocket(s.port, `127.0.0.${i + 2}`)));
    await closed(await openSocket(s.port, '127.0.0.9'));
    await Promise.all(idle.map((socket) => (socket.destroy(), closed(socket))));
    // Read in-process: a scrape could race the server seeing those sockets close.
    expect((await s.metrics.registry.getSingleMetric('asr_rejected_total')?.get())?.values).toContainEqual(
      expect.objectContaining({ labels: { reason: 'max_connections' }, value: 1 }),
    );
  });

  it('closes silent sockets, trickled headers and trickled bodies after --request-timeout, and TLS without a handshake', async () => {
    const { cert, key } = await selfSignedCertificate(work);
    for (const tls of [false, true]) {
      const s = await start({ requestTimeout: '2', ...(tls && { tlsCert: cert, tlsKey: key }) });
      const silent = await openSocket(s.port);
      const trickled = await openSocket(s.port);
      trickled.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => trickled.writable && trickled.write('X: y\r\n'), 200);
      const body = await openSocket(s.port);
      body.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n');
      const drip = setInterval(() => body.writable && body.write('x'), 200);
      // Before: 60-120 s for each (Node's defaults), minutes for a trickled body.
      await Promise.all([closed(silent), closed(trickled), closed(body)]);
      clearInterval(trickle);
      clearInterval(drip);
      if (!tls) expect(await transcript(s)).toBe('low high');
      await s.drain(500);
      server = undefined;
    }
  }, 45_000);
});
