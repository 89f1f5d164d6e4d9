import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { RawWebSocket, clientFrame, sampleRss } from '../testing/raw-websocket.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { pollUntil } from '../poll-until.js';
import { httpUrl, metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** Waits until a metric reaches `at least`, or fails after `timeoutMs` with what it got. */
function metricReaches(server: AsrServer, name: string, atLeast: number, timeoutMs = 30_000): Promise<number> {
  return pollUntil(
    () => metric(server, name),
    (value) => value >= atLeast,
    { what: `${name} to reach ${atLeast}`, timeoutMs, intervalMs: 100 },
  );
}

async function legitimateTranscript(server: AsrServer): Promise<string | undefined> {
  const client = await AsrctlClient.connect(`ws://127.0.0.1:${server.port}/?language=en`);
  client.sendAudio(pcmBytes(lowHighClip(16000)));
  client.send({ command: 'eof' });
  const final = await client.nextFinal();
  await client.close();
  return final.text;
}

/** Finding 2 of issue 15: a client that never reads its replies must not exhaust the server's memory. */
describe('clients that never read', () => {
  let models: ToneModelSet;
  let server: AsrServer;

  beforeAll(async () => {
    models = await makeToneModels();
  });
  afterEach(async () => {
    await server.drain(500);
  });
  afterAll(async () => {
    await models.remove();
  });

  it('a flood of bad JSON from a client that never reads: cut with 1008 at the send bound, RSS bounded, others served', async () => {
    server = await startTestServer({ en: models.en }, { config: { maxSendBuffer: String(256 * 1024) } });
    const rss = sampleRss();
    const before = process.memoryUsage.rss() / 1024 / 1024;
    const attacker = await RawWebSocket.open(server.port, '/?language=en');
    // 300,000 one-byte frames (2 MiB on the wire), each answered with an invalid_json error.
    const brace = clientFrame(1, '{');
    await attacker.send(Array.from({ length: 300_000 }, () => brace));
    expect(await metricReaches(server, 'asr_clients_cut_total{reason="slow_reader"}', 1)).toBe(1);
    expect(await legitimateTranscript(server)).toBe('low high');
    expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
    // Before the bound: about 250 MiB more for every 2 MiB of braces.
    expect(rss.stop() - before).toBeLessThan(150);
    attacker.destroy();
  });

  it('a FunASR wav_name is length-limited, so error replies cannot amplify what a client sends', async () => {
    server = await startTestServer({ en: models.en });
    const rss = sampleRss();
    const before = process.memoryUsage.rss() / 1024 / 1024;
    const attacker = await RawWebSocket.open(server.port, '/funasr/en');
    // Before the limit every reply echoed the 60 kB name: 5,000 one-byte messages, 300 MB of replies.
    const frames = [clientFrame(1, JSON.stringify({ mode: 'online', wav_name: 'w'.repeat(60_000), is_speaking: true }))];
    for (let i = 0; i < 5000; i++) frames.push(clientFrame(1, 'x'));
    await attacker.send(frames);
    expect(await metricReaches(server, 'asr_errors_total{code="invalid_option"}', 1)).toBe(1);
    expect(await legitimateTranscript(server)).toBe('low high');
    expect(rss.stop() - before).toBeLessThan(150);
    attacker.destroy();
  });

  it('liveness counts only a pong answering the server own ping; unsolicited pongs do not keep a dead peer', async () => {
    server = await startTestServer({ en: models.en }, { config: { pingInterval: '1' } });
    const attacker = await RawWebSocket.open(server.port, '/?language=en');
    // A pong every 100 ms, but never with the payload of the server's ping (it never reads one).
    const pongs = setInterval(() => void attacker.send([clientFrame(10, 'alive')]).catch(() => undefined), 100);
    const closed = new Promise<void>((resolve) => attacker.socket.once('close', () => resolve()));
    attacker.socket.resume();
    attacker.socket.on('data', () => undefined);
    attacker.socket.on('error', () => undefined);
    // Before: kept alive by them for as long as it liked.
    await closed;
    clearInterval(pongs);
  });
});
