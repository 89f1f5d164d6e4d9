import { type Segment, parseToneWords, pcmBytes, synthesize, toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { metric, startTestServer } from '../testing/test-server.js';
import { sentenceSeparator } from './funasr-protocol.js';

/**
 * Automatic language on the real engine: the Chinese tone model hears other frequencies than the
 * English one (700/1400/2800 Hz against 500/1000/2000 Hz), so each language's audio means words to
 * one model and nothing to the other, as speech in the wrong model's language comes out as little
 * or unsure. A clip of 12 utterances switching language every 1 to 3 utterances must come out with
 * every final in its own language, with no switch command.
 */
const CN = parseToneWords('低:700,中:1400,高:2800');
const EN = toneWordsFor('en');
const PLAN: Array<['cn' | 'en', number, number]> = [
  ['en', 0, 2],
  ['en', 1, 0],
  ['cn', 0, 2],
  ['en', 2, 0],
  ['cn', 1, 2],
  ['cn', 0, 1],
  ['cn', 2, 0],
  ['en', 0, 1],
  ['en', 2, 2],
  ['cn', 1, 0],
  ['en', 1, 2],
  ['cn', 2, 1],
];
const EXPECTED = PLAN.map(([language, a, b]) => {
  const words = language === 'cn' ? CN : EN;
  return { language, text: `${words[a]!.word} ${words[b]!.word}` };
});

function mixedClip(sampleRate: number): Buffer {
  const segments: Segment[] = [{ silence: 0.5 }];
  for (const [language, a, b] of PLAN) {
    const words = language === 'cn' ? CN : EN;
    segments.push({ tone: words[a]!.hz, seconds: 0.4 }, { silence: 0.3 }, { tone: words[b]!.hz, seconds: 0.4 }, { silence: 1.0 });
  }
  return pcmBytes(synthesize(segments, { sampleRate }));
}

describe('automatic language', () => {
  let root: string;
  let server: AsrServer;
  const url = (path: string): string => `ws://127.0.0.1:${server.port}${path}`;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'asr-auto-'));
    await writeToneModel(join(root, 'tone-cn'), { words: CN });
    await writeToneModel(join(root, 'tone-en'), { words: EN });
    server = await startTestServer({ cn: join(root, 'tone-cn'), en: join(root, 'tone-en') }, { defaultLanguage: 'cn' });
  });

  afterAll(async () => {
    await server.drain(1000);
    await rm(root, { recursive: true, force: true });
  });

  it.each([16000, 8000])(
    'asrctl protocol at %i Hz: every final in its language, one per utterance; partials never in the other language',
    async (rate) => {
      const client = await AsrctlClient.connect(url('/?language=auto'));
      expect(await client.nextType('connection_established')).toMatchObject({ current_language: 'auto', mode: 'auto' });
      client.send({ command: 'configure', sample_rate: rate });
      await client.nextType('configured');
      // 100 ms frames at four times real time: fast, yet paced, so partials are not all skipped as stale.
      const clip = mixedClip(rate);
      for (let o = 0; o < clip.length; o += rate / 5) {
        client.ws.send(clip.subarray(o, o + rate / 5));
        await new Promise((r) => setTimeout(r, 25));
      }
      client.send({ command: 'eof' });
      await client.nextType('eof_complete');
      await client.close();
      const finals = client.finals().filter((m) => m.text);
      expect(finals.map((m) => ({ language: m.language, text: m.text }))).toEqual(EXPECTED);
      expect(finals.map((m) => m.mode)).toEqual(EXPECTED.map((e) => `tone-${e.language}`));
      // Partials follow the utterance's language: each non-empty one is in the language of the
      // final that follows it, and every utterance has some.
      let next = 0;
      const partialsPerUtterance = EXPECTED.map(() => 0);
      for (const m of client.messages) {
        if (m.is_final === true && m.text) next++;
        else if (m.is_final === false && m.text) {
          expect(m.language).toBe(EXPECTED[next]!.language);
          partialsPerUtterance[next]!++;
        }
      }
      expect(partialsPerUtterance.every((n) => n > 0)).toBe(true);
    },
  );

  it('lets a model that hears only silence end its own utterance without cutting a long one in the other language', async () => {
    // 5 s of English is 5 s of silence to the Chinese model: its endpoint (empty) must not end the English utterance.
    const long: Segment[] = [
      { silence: 0.5 },
      { tone: CN[0]!.hz, seconds: 0.4 },
      { silence: 0.3 },
      { tone: CN[2]!.hz, seconds: 0.4 },
      { silence: 1.0 },
    ];
    for (let i = 0; i < 8; i++) long.push({ tone: EN[i % 3]!.hz, seconds: 0.4 }, { silence: 0.3 });
    long.push({ silence: 1.0 });
    const client = await AsrctlClient.connect(url('/?language=auto'));
    await client.nextType('connection_established');
    client.sendAudio(pcmBytes(synthesize(long, { sampleRate: 16000 })));
    client.send({ command: 'eof' });
    await client.nextType('eof_complete');
    await client.close();
    expect(
      client
        .finals()
        .filter((m) => m.text)
        .map((m) => [m.language, m.text]),
    ).toEqual([
      ['cn', '低 高'],
      ['en', 'low mid high low mid high low mid'],
    ]);
  });

  it('keeps utterances apart when one message holds the end of one and the start of the next (1 s frames)', async () => {
    const client = await AsrctlClient.connect(url('/?language=auto'));
    await client.nextType('connection_established');
    client.sendAudio(mixedClip(16000), 32000);
    client.send({ command: 'eof' });
    await client.nextType('eof_complete');
    await client.close();
    expect(
      client
        .finals()
        .filter((m) => m.text)
        .map((m) => ({ language: m.language, text: m.text })),
    ).toEqual(EXPECTED);
  });

  it('switch_language auto turns it on mid-session (after the final in the old language), and a language turns it off', async () => {
    const client = await AsrctlClient.connect(url('/'));
    expect(await client.nextType('connection_established')).toMatchObject({ current_language: 'cn', mode: 'manual_switch' });
    client.send({ command: 'switch_language', language: 'auto' });
    expect(await client.nextType('language_switched')).toMatchObject({ language: 'auto' });
    client.sendAudio(mixedClip(16000));
    client.send({ command: 'switch_language', language: 'en' });
    await client.nextType('language_switched');
    const finals = client.finals().filter((m) => m.text);
    expect(finals.map((m) => m.language)).toEqual(EXPECTED.map((e) => e.language));
    await client.close();
  });

  it('vosk-server clients at /vosk/auto (8 kHz, no config) and FunASR clients at /funasr/auto get every utterance in its words', async () => {
    const vosk = await AsrctlClient.connect(url('/vosk/auto'));
    vosk.sendAudio(mixedClip(8000), 1600);
    vosk.send('{"eof" : 1}');
    await vosk.closed;
    expect(vosk.messages.filter((m) => m.text).map((m) => m.text)).toEqual(EXPECTED.map((e) => e.text));

    const funasr = await AsrctlClient.connect(url('/funasr?language=auto'));
    funasr.send({ mode: 'offline', wav_name: 'mixed', is_speaking: true, audio_fs: 16000 });
    funasr.sendAudio(mixedClip(16000));
    funasr.send({ is_speaking: false });
    await funasr.next((m) => m.is_end === true);
    funasr.ws.close();
    // Offline mode: every utterance in its words, in one message, joined as FunASR clients join sentences.
    const sentences = EXPECTED.map((e) => (e.language === 'cn' ? e.text.replace(' ', '') : e.text));
    expect(funasr.messages.filter((m) => m.text).map((m) => m.text)).toEqual([
      sentences.reduce((text, sentence) => text + sentenceSeparator(text.slice(-1), sentence) + sentence),
    ]);
  });

  it('frees every recognizer of an automatic session', async () => {
    const client = await AsrctlClient.connect(url('/?language=auto'));
    await client.nextType('connection_established');
    expect(await metric(server, 'asr_recognizers')).toBe(2);
    expect(await metric(server, 'asr_sessions_auto_language')).toBe(1);
    await client.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(await metric(server, 'asr_recognizers')).toBe(0);
    expect(await metric(server, 'asr_sessions_auto_language')).toBe(0);
  });
});
