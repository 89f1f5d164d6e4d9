import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { RawWebSocket, clientFrame } from '../testing/raw-websocket.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { httpUrl, metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** Finding 5 of issue 15: floods of tiny messages (empty vosk frames included) had no rate limit. */
describe('the per-connection message rate limit', () => {
  let models: ToneModelSet;
  let server: AsrServer;

  beforeAll(async () => {
    models = await makeToneModels();
    // The default rate (100 a second, bursts of 1,000), as a client meets it.
    server = await startTestServer({ en: models.en }, { config: { maxMessagesPerSecond: '100' } });
  });
  afterAll(async () => {
    await server.drain(500);
    await models.remove();
  });

  it.each([
    { path: '/?language=en', frame: clientFrame(2, Buffer.alloc(2)) },
    { path: '/vosk/en', frame: clientFrame(2, Buffer.alloc(0)) },
    { path: '/funasr/en', frame: clientFrame(2, Buffer.alloc(2)) },
    // Unsolicited pongs (opcode 0xA) are messages too.
    { path: '/?language=en', frame: clientFrame(10, Buffer.from('12345678')) },
  ])('$path: 5,000 tiny frames at once: rate_limited, close 1008, others served', async ({ path, frame }) => {
    const cutBefore = await metric(server, 'asr_clients_cut_total{reason="rate_limited"}');
    const attacker = await RawWebSocket.open(server.port, path);
    let received = Buffer.alloc(0);
    attacker.socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d]))).resume();
    attacker.socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => attacker.socket.once('close', () => resolve()));
    await attacker.send(Array.from({ length: 5000 }, () => frame)).catch(() => undefined);
    await closed;
    expect(await metric(server, 'asr_clients_cut_total{reason="rate_limited"}')).toBe(cutBefore + 1);
    // The error reply, then a close frame with 1008 (0x03f0).
    expect(received.toString('latin1')).toContain('rate_limited');
    expect(received.includes(Buffer.from([0x88]))).toBe(true);
    expect(received.includes(Buffer.from([0x03, 0xf0]))).toBe(true);

    const client = await AsrctlClient.connect(`ws://127.0.0.1:${server.port}/?language=en`);
    client.sendAudio(pcmBytes(lowHighClip(16000)));
    client.send({ command: 'eof' });
    expect(await client.nextFinal()).toMatchObject({ text: 'low high' });
    await client.close();
    expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
  });

  it("does not count audio frames of 20 ms or more: FunASR's offline client streams a long file in 60 ms frames a millisecond apart", async () => {
    const clip = pcmBytes(lowHighClip(16000));
    const long = Buffer.concat(Array.from({ length: 40 }, () => clip)); // 3,000+ frames of 60 ms
    const client = await AsrctlClient.connect(`ws://127.0.0.1:${server.port}/funasr/en`);
    client.send({ mode: 'offline', wav_name: 'long', is_speaking: true });
    for (let o = 0; o < long.length; o += 1920) client.ws.send(long.subarray(o, o + 1920));
    client.send({ is_speaking: false });
    expect(await client.next((m) => m.is_end === true, 'the end of input', 120_000)).toMatchObject({ is_final: true });
    // Offline mode: the whole transcript in the one final message, sentences separated by a space.
    expect(client.messages.filter((m) => m.text).map((m) => m.text)).toEqual([Array.from({ length: 40 }, () => 'low high').join(' ')]);
    expect(client.messages.some((m) => m.code === 'rate_limited')).toBe(false);
    client.ws.close();
  }, 150_000);
});
