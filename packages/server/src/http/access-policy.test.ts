import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../testing/self-signed-certificate.js';
import type { ConfigInput } from '../config.js';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** Tokens, address and origin allowlists, TLS: checked through real sockets before any session exists. */
describe('access: tokens, allowlists, TLS', () => {
  let models: ToneModelSet;
  let work: string;
  let server: AsrServer | undefined;
  const start = async (config: ConfigInput, host = '127.0.0.1'): Promise<AsrServer> => {
    server = await startTestServer({ en: models.en }, { host, config });
    return server;
  };

  beforeAll(async () => {
    models = await makeToneModels();
    work = await mkdtemp(join(tmpdir(), 'asr-access-'));
  });
  afterEach(async () => {
    await server?.drain(500);
    server = undefined;
  });
  afterAll(async () => {
    await models.remove();
    await rm(work, { recursive: true, force: true });
  });

  it('takes a token from the Authorization header or ?token=, refuses a wrong or missing one with 401, no session made', async () => {
    const tokens = join(work, 'tokens');
    await writeFile(tokens, '# operators\nalpha-7d1c\nbeta-92fe\n');
    const s = await start({ tokensFile: tokens });
    const url = `ws://127.0.0.1:${s.port}/`;
    await (await AsrctlClient.connect(url, { headers: { authorization: 'Bearer beta-92fe' } })).close();
    await (await AsrctlClient.connect(`${url}?token=alpha-7d1c`)).close();
    await expect(AsrctlClient.connect(url, { headers: { authorization: 'Bearer beta-92ff' } })).rejects.toThrow(/HTTP 401/u);
    await expect(AsrctlClient.connect(`${url}?token=alpha`)).rejects.toThrow(/HTTP 401/u);
    await expect(AsrctlClient.connect(url)).rejects.toThrow(/HTTP 401/u);
    await expect(AsrctlClient.connect(`ws://127.0.0.1:${s.port}/vosk?token=nope`)).rejects.toThrow(/HTTP 401/u);
    expect(await metric(s, 'asr_rejected_total{reason="unauthorized"}')).toBe(4);
    expect(await metric(s, 'asr_sessions_total')).toBe(2);
  });

  // Found under load in the deploy tests: a refused client that reset its connection crashed the server.
  it('survives refused clients that reset their connection at once', async () => {
    const s = await start({ tokens: 'only-token' });
    for (let i = 0; i < 300; i++) {
      const socket = connect(s.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`http://127.0.0.1:${s.port}/healthz`)).status).toBe(200);
    await (await AsrctlClient.connect(`ws://127.0.0.1:${s.port}/?token=only-token`)).close();
  });

  it('admits only allowed client addresses, IPv4 and IPv6', async () => {
    const s = await start({ allowIp: ['10.0.0.0/8', '::1/128'] }, '::');
    const v4 = `ws://127.0.0.1:${s.port}/`;
    const v6 = `ws://[::1]:${s.port}/`;
    await expect(AsrctlClient.connect(v4)).rejects.toThrow(/HTTP 403/u);
    await (await AsrctlClient.connect(v6)).close();
    // Plain HTTP too (before, the page and /metrics were open to every address), but not the probes:
    // Docker's health check and load balancers must reach them.
    for (const path of ['/', '/metrics', '/nowhere']) expect((await fetch(`http://127.0.0.1:${s.port}${path}`)).status, path).toBe(403);
    for (const path of ['/healthz', '/readyz']) expect((await fetch(`http://127.0.0.1:${s.port}${path}`)).status, path).toBe(200);
    expect((await fetch(`http://[::1]:${s.port}/`)).status).toBe(200);
    expect(await metric(s, 'asr_rejected_total{reason="ip_not_allowed"}', '[::1]')).toBe(1);
    await s.drain(500);
    const t = await start({ allowIp: ['127.0.0.0/8'] }, '::');
    await (await AsrctlClient.connect(`ws://127.0.0.1:${t.port}/`)).close();
    await expect(AsrctlClient.connect(`ws://[::1]:${t.port}/`)).rejects.toThrow(/HTTP 403/u);
  });

  it('admits browsers only from allowed origins; clients without an Origin pass', async () => {
    const s = await start({ allowOrigin: ['https://app.example', 'null'] });
    const url = `ws://127.0.0.1:${s.port}/`;
    await expect(AsrctlClient.connect(url, { headers: { origin: 'https://evil.example' } })).rejects.toThrow(/HTTP 403/u);
    await (await AsrctlClient.connect(url, { headers: { origin: 'https://app.example' } })).close();
    await (await AsrctlClient.connect(url, { headers: { origin: 'null' } })).close();
    await (await AsrctlClient.connect(url)).close();
    expect(await metric(s, 'asr_rejected_total{reason="origin_not_allowed"}')).toBe(1);
  });

  it('serves wss and https with --tls-cert/--tls-key: a real recognition through a client that trusts the certificate', async () => {
    const { cert, key } = await selfSignedCertificate(work);
    const s = await start({ tlsCert: cert, tlsKey: key });
    expect(s.url).toMatch(/^wss:/u);
    const ca = await readFile(cert, 'utf8');
    const client = await AsrctlClient.connect(`wss://127.0.0.1:${s.port}/?language=en`, { ca });
    await client.greeting();
    client.sendAudio(pcmBytes(lowHighClip(16000)), 1 << 20);
    await client.request({ command: 'eof' });
    await client.close();
    expect(client.finals().map((m) => m.text)).toEqual(['low high']);
    const status = await new Promise<number>((resolve, reject) =>
      get(`https://127.0.0.1:${s.port}/healthz`, { ca }, (res) => resolve(res.statusCode ?? 0)).on('error', reject),
    );
    expect(status).toBe(200);
    // Plain ws on the TLS port gets no session; an untrusted certificate is refused by the client.
    await expect(AsrctlClient.connect(`ws://127.0.0.1:${s.port}/`)).rejects.toThrow();
    await expect(AsrctlClient.connect(`wss://127.0.0.1:${s.port}/`)).rejects.toThrow(/self[- ]signed/iu);
  });
});
