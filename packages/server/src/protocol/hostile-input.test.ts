import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { httpUrl, metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** What a hostile or broken client may send, one WebSocket message at a time. */
type Frame =
  { kind: 'binary'; bytes: Uint8Array } | { kind: 'text'; text: string } | { kind: 'raw-text'; bytes: Uint8Array } | { kind: 'pause' };

const command = fc.oneof(
  fc.record({ command: fc.constantFrom('switch_language', 'reset', 'eof', 'configure', 'flush', '') }),
  fc.record({ command: fc.constant('switch_language'), language: fc.oneof(fc.constantFrom('en', 'cn', 'zh', 'xx', ''), fc.string()) }),
  fc.record({
    command: fc.constant('configure'),
    sample_rate: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(8000, 48000, 1e308, -1, Number.MAX_SAFE_INTEGER + 2)),
    words: fc.anything(),
    wav_name: fc.string(),
  }),
  fc.record({
    config: fc.record({
      // Fractions of a hertz in range once aborted the process in libvosk's resampler.
      sample_rate: fc.oneof(fc.anything(), fc.double({ min: 8000, max: 48000, noNaN: true })),
      words: fc.anything(),
      max_alternatives: fc.anything(),
      phrase_list: fc.anything(),
    }),
  }),
  fc.record({
    mode: fc.constantFrom('online', 'offline', '2pass', 'x'),
    is_speaking: fc.boolean(),
    audio_fs: fc.oneof(fc.anything(), fc.double({ min: 8000, max: 48000, noNaN: true })),
    wav_name: fc.anything(),
  }),
  fc.constant({ eof: 1 }),
  fc.constant({ reset: 1 }),
);

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 4000 }).map((bytes) => ({ kind: 'binary' as const, bytes })) },
  { weight: 3, arbitrary: command.map((c) => ({ kind: 'text' as const, text: JSON.stringify(c) })) },
  // Truncated JSON of a real command.
  {
    weight: 1,
    arbitrary: fc.tuple(command, fc.nat()).map(([c, n]) => ({ kind: 'text' as const, text: JSON.stringify(c).slice(0, n % 30) })),
  },
  // Deeply nested JSON.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 100, max: 20_000 }).map((d) => ({ kind: 'text' as const, text: `${'['.repeat(d)}${']'.repeat(d)}` })),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ kind: 'text' as const, text })) },
  // Invalid UTF-8 in a text frame: the WebSocket layer closes with 1007.
  { weight: 1, arbitrary: fc.constant({ kind: 'raw-text' as const, bytes: new Uint8Array([0x7b, 0xc3, 0x28, 0xff, 0x7d]) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
);

const path = fc.constantFrom('/', '/ws', '/vosk', '/vosk/en', '/funasr', '/funasr/cn', '/?language=en');
const ending = fc.constantFrom('close', 'terminate', 'mid-frame');

describe('hostile input through real sockets', () => {
  let models: ToneModelSet;
  let server: AsrServer;

  beforeAll(async () => {
    models = await makeToneModels();
    server = await startTestServer({ cn: models.cn, en: models.en }, { defaultLanguage: 'en' });
  });

  afterAll(async () => {
    await server.drain(1000);
    await models.remove();
  });

  async function attack(where: string, frames: Frame[], how: string): Promise<void> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${where}`, { perMessageDeflate: false });
    ws.on('error', () => undefined);
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
      ws.once('unexpected-response', () => resolve(false));
    });
    if (!opened) return;
    for (const f of frames) {
      if (ws.readyState !== WebSocket.OPEN) break;
      if (f.kind === 'binary') ws.send(f.bytes);
      else if (f.kind === 'text') ws.send(f.text);
      else if (f.kind === 'raw-text') ws.send(Buffer.from(f.bytes), { binary: false });
      else await new Promise((r) => setTimeout(r, 5));
    }
    if (how === 'mid-frame' && ws.readyState === WebSocket.OPEN) {
      // A frame header promising 64 KiB, then the connection drops.
      const socket = (ws as unknown as { _socket: Socket })._socket;
      socket.write(Buffer.from([0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4, 5, 6]));
      socket.destroy();
    } else if (how === 'terminate') ws.terminate();
    else ws.close();
    await new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())));
  }

  it('stays up, keeps other sessions decoding correctly, and leaks no session or recognizer', async () => {
    // A well-behaved client streams real audio in real time all along.
    const bystander = await AsrctlClient.connect(`ws://127.0.0.1:${server.port}/?language=en`);
    await bystander.nextType('connection_established');
    const clip = pcmBytes(lowHighClip(16000));
    let clipsSent = 0;
    let stop = false;
    const streaming = (async () => {
      while (!stop) {
        await bystander.sendAudioInRealTime(clip);
        clipsSent++;
      }
    })();

    await fc.assert(
      fc.asyncProperty(path, fc.array(frame, { maxLength: 25 }), ending, async (where, frames, how) => {
        await attack(where, frames, how);
        expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
      }),
      { numRuns: 1000 },
    );

    stop = true;
    await streaming;
    bystander.send({ command: 'eof' });
    await bystander.nextType('eof_complete');
    const finals = bystander.messages.filter((m) => m.is_final && m.text).map((m) => m.text);
    expect(clipsSent).toBeGreaterThanOrEqual(1);
    expect(finals).toEqual(Array(clipsSent).fill('low high'));
    await bystander.close();

    await new Promise((r) => setTimeout(r, 500));
    expect(await metric(server, 'asr_sessions_open')).toBe(0);
    expect(await metric(server, 'asr_recognizers')).toBe(0);
    expect(await metric(server, 'asr_native_calls_in_flight')).toBe(0);
  }, 120_000);

  // Found by the property above: a session closed while a command replaced its recognizer leaked the replacement.
  it('frees every recognizer of a client that disconnects during a language switch', async () => {
    for (let i = 0; i < 20; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(pcmBytes(lowHighClip(16000)));
      ws.send(JSON.stringify({ command: 'switch_language', language: i % 2 ? 'en' : 'cn' }));
      ws.terminate();
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(await metric(server, 'asr_recognizers')).toBe(0);
  });
});
