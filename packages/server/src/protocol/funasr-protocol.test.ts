import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';
import { funasrText, sentenceSeparator } from './funasr-protocol.js';

/**
 * FunASR's runtime protocol as its clients use it (funasr_wss_client.py: a JSON opening message,
 * PCM16, `{"is_speaking": false}`; online text appended, offline text per sentence, `is_final`).
 */
describe('the FunASR protocol at /funasr', () => {
  let models: ToneModelSet;
  let server: AsrServer;
  const url = (path: string): string => `ws://127.0.0.1:${server.port}${path}`;

  beforeAll(async () => {
    models = await makeToneModels();
    server = await startTestServer({ cn: models.cn, en: models.en }, { defaultLanguage: 'cn' });
  });

  afterAll(async () => {
    await server.drain(1000);
    await models.remove();
  });

  /** A FunASR client session: opening message, audio at real-time pace, end of speech; all messages. */
  async function funasrSession(path: string, opening: object, options: { rate?: number; end?: object } = {}) {
    const rate = options.rate ?? 16000;
    const client = await AsrctlClient.connect(url(path));
    client.send({
      chunk_size: [5, 10, 5],
      chunk_interval: 10,
      wav_name: 'microphone',
      is_speaking: true,
      hotwords: '',
      itn: true,
      ...opening,
    });
    await client.sendAudioInRealTime(pcmBytes(lowHighClip(rate)), rate);
    client.send(options.end ?? { is_speaking: false });
    await client.next((m) => m.is_final === true, 'the message with is_final true');
    client.ws.close();
    return client.messages as Array<{ mode: string; text: string; wav_name: string; is_final: boolean }>;
  }

  it('2pass: online increments, the sentence offline without spaces, is_final only on the last message', async () => {
    const messages = await funasrSession('/funasr', { mode: '2pass', audio_fs: 16000, wav_name: 'mic-1', hotwords: '{"低": 20}' });
    for (const m of messages.slice(0, -1)) expect(Object.keys(m).sort()).toEqual(['is_final', 'mode', 'text', 'wav_name']);
    // The last one acknowledges the end of input, as FunASR's current client requires.
    expect(messages.at(-1)).toEqual({ mode: '2pass-offline', text: '', wav_name: 'mic-1', is_final: true, is_end: true });
    expect(messages.every((m) => m.wav_name === 'mic-1')).toBe(true);
    const online = messages.filter((m) => m.mode === '2pass-online');
    expect(online.length).toBeGreaterThan(0);
    expect('低高'.startsWith(online.map((m) => m.text).join(''))).toBe(true);
    expect(online.every((m) => m.text !== '')).toBe(true);
    expect(messages.filter((m) => m.mode === '2pass-offline').map((m) => [m.text, m.is_final])).toEqual([
      ['低高', false],
      ['', true],
    ]);
    expect(messages.filter((m) => m.is_final)).toHaveLength(1);
    expect(messages.at(-1)!.is_final).toBe(true);
  });

  it('online: English increments add up to the sentence; the last message carries is_final', async () => {
    const messages = await funasrSession('/funasr/en', { mode: 'online' });
    expect(new Set(messages.map((m) => m.mode))).toEqual(new Set(['online']));
    expect(messages.map((m) => m.text).join('')).toBe('low high');
    expect(messages.at(-1)!.is_final).toBe(true);
    expect(messages.filter((m) => m.is_final)).toHaveLength(1);
  });

  it('offline: one message with the whole text after the end of speech; is_finished ends speech too', async () => {
    const messages = await funasrSession('/funasr?language=en', { mode: 'offline' }, { end: { is_finished: true } });
    expect(messages.map((m) => [m.mode, m.text, m.is_final])).toEqual([['offline', 'low high', true]]);
  });

  it('offline: sentences decoded before the end of speech wait for it, so a client reading one message gets them all', async () => {
    const client = await AsrctlClient.connect(url('/funasr/en'));
    client.send({ mode: 'offline', wav_name: 'two', is_speaking: true });
    client.sendAudio(Buffer.concat([pcmBytes(lowHighClip(16000)), pcmBytes(lowHighClip(16000))]));
    // Long enough for the first sentence's endpoint to be decoded before the end of speech.
    await new Promise((r) => setTimeout(r, 1500));
    expect(client.messages).toEqual([]);
    client.send({ is_speaking: false });
    await client.next((m) => m.is_final === true);
    client.ws.close();
    expect(client.messages.map((m) => [m.mode, m.text, m.is_final])).toEqual([['offline', 'low high low high', true]]);
  });

  it.each([8000, 48000])('takes audio_fs %i', async (rate) => {
    const messages = await funasrSession('/funasr/en', { mode: 'offline', audio_fs: rate }, { rate });
    expect(messages[0]).toMatchObject({ mode: 'offline', text: 'low high' });
  });

  it.each([16000.5, 44100.1, 100])(
    'refuses audio_fs %s with invalid_sample_rate (a fraction of a hertz aborted the whole server)',
    async (rate) => {
      const client = await AsrctlClient.connect(url('/funasr/en'));
      client.send({ mode: 'online', audio_fs: rate, is_speaking: true });
      client.sendAudio(pcmBytes(lowHighClip(16000)).subarray(0, 6400), 3200);
      expect(await client.next((m) => m.code !== undefined, 'the error')).toMatchObject({ code: 'invalid_sample_rate' });
      client.ws.close();
      // Still serving.
      const messages = await funasrSession('/funasr/en', { mode: 'offline', audio_fs: 16000 });
      expect(messages[0]).toMatchObject({ mode: 'offline', text: 'low high' });
    },
  );

  it('sends is_final once even when the end of speech follows fast audio still being decoded', async () => {
    const client = await AsrctlClient.connect(url('/funasr/en'));
    client.send({ mode: '2pass', wav_name: 'fast', is_speaking: true });
    client.sendAudio(Buffer.concat([pcmBytes(lowHighClip(16000)), pcmBytes(lowHighClip(16000))]));
    client.send({ is_speaking: false });
    await client.next((m) => m.is_final === true);
    await new Promise((r) => setTimeout(r, 300));
    client.ws.close();
    const offline = client.messages.filter((m) => m.mode === '2pass-offline');
    // The second sentence starts with a space: clients concatenate sentences.
    expect(offline.map((m) => [m.text, m.is_final])).toEqual([
      ['low high', false],
      [' low high', false],
      ['', true],
    ]);
    expect(client.messages.filter((m) => m.is_final)).toHaveLength(1);
  });

  it.each(['online', '2pass'])('%s: English sentences add up with a space between them, as clients print them', async (mode) => {
    const client = await AsrctlClient.connect(url('/funasr/en'));
    client.send({ mode, wav_name: 'two', is_speaking: true });
    const clip = pcmBytes(lowHighClip(16000));
    await client.sendAudioInRealTime(Buffer.concat([clip, clip]));
    client.send({ is_speaking: false });
    await client.next((m) => m.is_end === true);
    client.ws.close();
    const texts = (suffix: string): string =>
      client.messages
        .filter((m) => m.mode === suffix)
        .map((m) => m.text)
        .join('');
    if (mode === 'online') expect(texts('online')).toBe('low high low high');
    else expect(texts('2pass-offline')).toBe('low high low high');
  });

  /** Sends `steps` (JSON messages, or the low-high clip for `'clip'`) without waiting, then waits for `ends` end-of-input messages. */
  async function funasrSegments(mode: string, steps: Array<object | 'clip'>, ends: number) {
    const client = await AsrctlClient.connect(url('/funasr/en'));
    for (const step of steps) {
      if (step === 'clip') client.sendAudio(pcmBytes(lowHighClip(16000)));
      else client.send(step);
    }
    for (let seen = 0; seen < ends; seen++) await client.next((m) => m.is_end === true, 'the end-of-input acknowledgement');
    client.ws.close();
    return client.messages as Array<{ mode: string; text: string; is_final: boolean; is_end?: true }>;
  }

  it.each(['offline', '2pass', 'online'])(
    '%s: an end of speech straight followed by a start of speech ends an empty segment, and the next segment is not lost',
    async (mode) => {
      const messages = await funasrSegments(
        mode,
        [{ mode, is_speaking: true }, { is_speaking: false }, { is_speaking: true }, 'clip', { is_speaking: false }],
        2,
      );
      const suffix = mode === 'online' ? 'online' : 'offline';
      // The first segment had no audio: its end is acknowledged with an empty text.
      expect(messages[0]).toMatchObject({ text: '', is_final: true, is_end: true });
      const second = messages.slice(1);
      expect(
        second
          .filter((m) => m.mode.endsWith(suffix))
          .map((m) => m.text)
          .join(''),
      ).toBe('low high');
      expect(second.filter((m) => m.is_final)).toEqual([second.at(-1)]);
      expect(second.at(-1)).toMatchObject({ is_final: true, is_end: true });
    },
  );

  it.each(['offline', '2pass', 'online'])(
    "%s: each end of speech gives that segment's text only, as upstream clears its frames",
    async (mode) => {
      const client = await AsrctlClient.connect(url('/funasr/en'));
      client.send({ mode, is_speaking: true });
      for (let segment = 0; segment < 2; segment++) {
        client.sendAudio(pcmBytes(lowHighClip(16000)));
        client.send({ is_speaking: false });
        await client.next((m) => m.is_end === true, 'the end-of-input acknowledgement');
      }
      client.ws.close();
      const messages = client.messages as Array<{ mode: string; text: string; is_final: boolean; is_end?: true }>;
      const suffix = mode === 'online' ? 'online' : 'offline';
      const firstEnd = messages.findIndex((m) => m.is_end);
      const text = (part: typeof messages): string =>
        part
          .filter((m) => m.mode.endsWith(suffix))
          .map((m) => m.text)
          .join('');
      expect([text(messages.slice(0, firstEnd + 1)), text(messages.slice(firstEnd + 1))]).toEqual(['low high', 'low high']);
      if (mode === 'offline')
        expect(messages.map((m) => [m.text, m.is_final])).toEqual([
          ['low high', true],
          ['low high', true],
        ]);
    },
  );

  it('refuses an unknown mode with an error, and keeps the mode it had', async () => {
    const client = await AsrctlClient.connect(url('/funasr/en'));
    client.send({ mode: 'foo', wav_name: 'w', is_speaking: true });
    expect(await client.next(() => true)).toMatchObject({ text: '', error: expect.stringContaining('unknown mode "foo"') as string });
    client.sendAudio(pcmBytes(lowHighClip(16000)));
    client.send({ is_speaking: false });
    expect(await client.next((m) => m.is_final === true)).toMatchObject({ mode: '2pass-offline', is_end: true });
    client.ws.close();
  });

  it('answers a message that is not JSON with an empty text and the reason, and goes on', async () => {
    const client = await AsrctlClient.connect(url('/funasr/en'));
    client.send('not json');
    expect(await client.next(() => true)).toEqual({
      mode: '2pass-online',
      text: '',
      wav_name: 'microphone',
      is_final: false,
      error: expect.stringContaining('not a FunASR JSON message') as string,
    });
    client.send({ mode: 'offline', wav_name: 'w', is_speaking: true });
    client.sendAudio(pcmBytes(lowHighClip(16000)));
    client.send({ is_speaking: false });
    expect(await client.next((m) => m.is_final === true)).toMatchObject({ mode: 'offline', wav_name: 'w' });
    client.ws.close();
  });
});

describe('sentenceSeparator', () => {
  it('puts a space between Latin words of two sentences, nothing around Chinese or existing space', () => {
    expect(sentenceSeparator('h', 'low')).toBe(' ');
    expect(sentenceSeparator('', 'low')).toBe('');
    expect(sentenceSeparator('高', '低')).toBe('');
    expect(sentenceSeparator('h', '低')).toBe('');
    expect(sentenceSeparator('高', 'low')).toBe('');
    expect(sentenceSeparator(' ', 'low')).toBe('');
  });
});

describe('funasrText', () => {
  it('removes the spaces Vosk puts between Chinese words, and only those', () => {
    expect(funasrText('低 高')).toBe('低高');
    expect(funasrText('今天 天气 很 好')).toBe('今天天气很好');
    expect(funasrText('low high')).toBe('low high');
    expect(funasrText('我 用 vosk 识别')).toBe('我用 vosk 识别');
  });
});
