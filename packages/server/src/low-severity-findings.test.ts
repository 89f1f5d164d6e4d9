import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from './config.js';
import { type AsrServer, canonicalAddress } from './server.js';
import { AsrctlClient } from './client/asrctl-client.js';
import { httpUrl, startTestServer } from './testing/test-server.js';
import { type ToneModelSet, makeToneModels } from './testing/tone-models.js';

/** Finding 7 of issue 15, the low ones: each through real sockets. */
describe('low-severity findings', () => {
  let models: ToneModelSet;
  let work: string;
  let server: AsrServer | undefined;
  const start = async (config: ConfigInput = {}): Promise<AsrServer> => {
    server = await startTestServer({ en: models.en }, { config });
    return server;
  };

  beforeAll(async () => {
    models = await makeToneModels();
    work = await mkdtemp(join(tmpdir(), 'asr-low-'));
  });
  afterEach(async () => {
    await server?.drain(500);
    server = undefined;
  });
  afterAll(async () => {
    await models.remove();
    await rm(work, { recursive: true, force: true });
  });

  it('--metrics-token-file protects /metrics; /healthz and /readyz stay open', async () => {
    const file = join(work, 'metrics-token');
    await writeFile(file, 'scrape-secret\n');
    const s = await start({ metricsTokenFile: file });
    const refused = await fetch(httpUrl(s, '/metrics'));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'unauthorized' });
    expect((await fetch(httpUrl(s, '/metrics'), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const scraped = await fetch(httpUrl(s, '/metrics'), { headers: { authorization: 'Bearer scrape-secret' } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('asr_sessions_open');
    expect((await fetch(httpUrl(s, '/healthz'))).status).toBe(200);
    expect((await fetch(httpUrl(s, '/readyz'))).status).toBe(200);
  });

  it('shutdown does not wait for a client that left right after SIGTERM with commands queued', async () => {
    const s = await start();
    const client = await AsrctlClient.connect(`ws://127.0.0.1:${s.port}/?language=en`);
    await client.nextType('connection_established');
    // A minute of audio, then commands that wait behind its decoding.
    const minute = pcmBytes(lowHighClip(16000));
    for (let i = 0; i < 20; i++) client.sendAudio(minute, 64_000);
    for (let i = 0; i < 10; i++) client.send({ command: 'configure', sample_rate: i % 2 ? 16000 : 8000 });
    await new Promise((r) => setTimeout(r, 50));
    // The shutdown timeout is ten minutes: before the fix, drain waited all of it for commands of a closed session.
    const drained = s.drain(600_000);
    client.ws.terminate();
    await drained;
    server = undefined;
  }, 30_000);

  it('answers each of 100 empty binary frames on /vosk (vosk-server clients count replies)', async () => {
    const s = await start();
    const client = await AsrctlClient.connect(`ws://127.0.0.1:${s.port}/vosk/en`);
    for (let i = 0; i < 100; i++) client.ws.send(Buffer.alloc(0));
    for (let i = 0; i < 100; i++) await client.next(() => true, `reply ${i + 1} of 100`);
    expect(client.messages).toHaveLength(100);
    await client.close();
  });

  it('counts one client address once, however IPv4 is written', async () => {
    expect(['10.7.7.7', '::ffff:10.7.7.7', '::ffff:a07:707', '0:0:0:0:0:ffff:0a07:0707'].map(canonicalAddress)).toEqual(
      Array(4).fill('10.7.7.7'),
    );
    expect(canonicalAddress('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    const s = await start({ maxSessionsPerIp: '1', trustProxy: 'true' });
    const open = (forwardedFor: string): Promise<AsrctlClient> =>
      AsrctlClient.connect(`ws://127.0.0.1:${s.port}/`, { headers: { 'x-forwarded-for': forwardedFor } });
    const first = await open('10.7.7.7');
    await expect(open('::ffff:10.7.7.7')).rejects.toThrow(/HTTP 429/u);
    await expect(open('::ffff:a07:707')).rejects.toThrow(/HTTP 429/u);
    await first.close();
  });
});
