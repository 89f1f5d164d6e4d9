import { lowHighClip, pcmBytes, synthesize } from '@asrctl/tone-model';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ConfigInput } from '../config.js';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** Every limit through real sockets: over it, a client is refused or told, and the server goes on. */
describe('limits and backpressure', () => {
  let models: ToneModelSet;
  let server: AsrServer | undefined;
  const start = async (config: ConfigInput): Promise<AsrServer> => {
    server = await startTestServer({ en: models.en }, { config });
    return server;
  };
  const url = (s: AsrServer): string => `ws://127.0.0.1:${s.port}/`;

  beforeAll(async () => {
    models = await makeToneModels();
  });
  afterEach(async () => {
    await server?.drain(500);
    server = undefined;
  });
  afterAll(async () => {
    await models.remove();
  });

  it('refuses sessions over --max-sessions with 503 before the upgrade, and counts them', async () => {
    const s = await start({ maxSessions: '2' });
    const a = await AsrctlClient.connect(url(s));
    const b = await AsrctlClient.connect(url(s));
    await expect(AsrctlClient.connect(url(s))).rejects.toThrow(/HTTP 503/u);
    expect(await metric(s, 'asr_rejected_total{reason="max_sessions"}')).toBe(1);
    expect(await metric(s, 'asr_recognizers')).toBe(2);
    await a.close();
    await new Promise((r) => setTimeout(r, 100));
    const c = await AsrctlClient.connect(url(s));
    await b.close();
    await c.close();
  });

  it('refuses a client address over --max-sessions-per-ip with 429; behind a trusted proxy, by X-Forwarded-For', async () => {
    const s = await start({ maxSessionsPerIp: '1', trustProxy: 'true' });
    const open = (forwardedFor: string): Promise<AsrctlClient> =>
      AsrctlClient.connect(url(s), { headers: { 'x-forwarded-for': forwardedFor } });
    const a = await open('10.0.0.1');
    await expect(open('10.0.0.1')).rejects.toThrow(/HTTP 429/u);
    // The proxy appends the real peer: only the last entry counts.
    await expect(open('10.9.9.9, 10.0.0.1')).rejects.toThrow(/HTTP 429/u);
    const b = await open('10.0.0.2');
    expect(await metric(s, 'asr_rejected_total{reason="max_sessions_per_ip"}')).toBe(2);
    await a.close();
    await b.close();
  });

  it('answers a JSON message over --max-json-bytes with message_too_large and goes on', async () => {
    const s = await start({ maxJsonBytes: '256' });
    const client = await AsrctlClient.connect(url(s));
    await client.nextType('connection_established');
    client.send({ command: 'configure', wav_name: 'x'.repeat(300) });
    expect(await client.nextType('error')).toMatchObject({ code: 'message_too_large' });
    client.sendAudio(pcmBytes(lowHighClip(16000)));
    client.send({ command: 'eof' });
    expect(await client.nextFinal()).toMatchObject({ text: 'low high' });
    await client.close();
  });

  it('tells vosk-server and FunASR clients about limits in their own message shapes', async () => {
    const s = await start({ maxJsonBytes: '256' });
    const big = JSON.stringify({ config: { phrase_list: ['x'.repeat(300)] } });
    const vosk = await AsrctlClient.connect(`ws://127.0.0.1:${s.port}/vosk`);
    vosk.send(big);
    // vosk clients read `partial` from every reply; FunASR clients read `text`, `mode` and `is_final`.
    expect(await vosk.next((m) => m.code === 'message_too_large')).toMatchObject({
      partial: '',
      error: expect.stringMatching(/256 bytes/u),
    });
    expect(vosk.messages.some((m) => m.type === 'error')).toBe(false);
    const funasr = await AsrctlClient.connect(`ws://127.0.0.1:${s.port}/funasr`);
    funasr.send({ mode: '2pass', wav_name: 'w', hotwords: 'x'.repeat(300) });
    expect(await funasr.next((m) => m.code === 'message_too_large')).toMatchObject({
      mode: '2pass-online',
      text: '',
      wav_name: 'microphone',
      is_final: false,
    });
    await vosk.close();
    await funasr.close();
  });

  it('closes a session with 1009 when a frame is over --max-message-bytes', async () => {
    const s = await start({ maxMessageBytes: '2048' });
    const client = await AsrctlClient.connect(url(s));
    client.ws.send(Buffer.alloc(4096));
    expect(await client.closed).toBe(1009);
  });

  it('tells a client that sends faster than decoding (audio_backlog, once) and bounds what it buffers', async () => {
    const s = await start({ maxBufferedAudio: '1' });
    const client = await AsrctlClient.connect(url(s));
    await client.nextType('connection_established');
    // 30 s of audio at once, in 100 ms frames: at most about 1 s may wait.
    const audio = pcmBytes(synthesize([{ silence: 30 }]));
    client.sendAudio(audio);
    expect(await client.nextType('error')).toMatchObject({ code: 'audio_backlog' });
    client.send({ command: 'eof' });
    await client.nextType('eof_complete');
    // Told once per episode, not per dropped frame (about 280 here). An episode ends when the
    // backlog drains to half the limit, which takes 0.5 s of decoded audio; a busy machine can
    // let the decoder get there mid-burst, so one report is the usual count, not the only one.
    const decoded = await metric(s, 'asr_audio_seconds_total');
    expect(decoded).toBeLessThan(10);
    const reports = client.messages.filter((m) => m.code === 'audio_backlog').length;
    expect(reports).toBeGreaterThanOrEqual(1);
    expect(reports).toBeLessThanOrEqual(1 + Math.floor(decoded / 0.5));
    // Sent at a pace the server keeps up with, audio is decoded in full again.
    await client.sendAudioInRealTime(pcmBytes(lowHighClip(16000)));
    client.send({ command: 'eof' });
    expect(await client.nextFinal()).toMatchObject({ text: 'low high' });
    await client.close();
  });

  it('closes an idle session after --idle-timeout, with its final first', async () => {
    const s = await start({ idleTimeout: '1' });
    const client = await AsrctlClient.connect(url(s));
    await client.nextType('connection_established');
    client.sendAudio(pcmBytes(synthesize([{ silence: 0.5 }, { tone: 500, seconds: 0.4 }])));
    expect(await client.nextFinal()).toMatchObject({ text: 'low' });
    expect(await client.closed).toBe(1000);
    expect(client.closeReason).toBe('idle timeout');
  });

  it('ends a session at --max-session-seconds with 1008 after its final', async () => {
    const s = await start({ maxSessionSeconds: '1' });
    const client = await AsrctlClient.connect(url(s));
    await client.nextType('connection_established');
    client.sendAudio(pcmBytes(synthesize([{ silence: 0.5 }, { tone: 500, seconds: 0.4 }])));
    expect(await client.nextFinal()).toMatchObject({ text: 'low' });
    expect(await client.closed).toBe(1008);
    expect(client.closeReason).toBe('session time limit reached');
  });

  it('cuts a peer that stops answering pings, and frees its recognizer', async () => {
    const s = await start({ pingInterval: '1', idleTimeout: '60' });
    const dead = new WebSocket(url(s), { autoPong: false });
    const closed = new Promise<number>((resolve) => dead.on('close', (code: number) => resolve(code)));
    expect(await closed).toBe(1006);
    await new Promise((r) => setTimeout(r, 100));
    expect(await metric(s, 'asr_recognizers')).toBe(0);
    expect(await metric(s, 'asr_sessions_open')).toBe(0);
  });
});
