import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/**
 * vosk-server's protocol as its clients use it (alphacep/vosk-server websocket/asr_server.py and
 * its test.py): no greeting, one reply per message, libvosk's own result objects.
 */
describe('the vosk-server protocol at /vosk', () => {
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

  /** Sends audio in frames, then `{"eof" : 1}`; returns every reply, in order, once the server closes. */
  async function transcribeVosk(path: string, pcm: Buffer, options: { config?: object; frameBytes?: number } = {}) {
    const client = await AsrctlClient.connect(url(path));
    if (options.config) client.send({ config: options.config });
    const frames = Math.ceil(pcm.length / (options.frameBytes ?? 8000));
    client.sendAudio(pcm, options.frameBytes ?? 8000);
    client.send('{"eof" : 1}');
    const code = await client.closed;
    return { replies: client.messages, frames, code };
  }

  it('answers every audio frame with one partial or result, and eof with the final, then closes', async () => {
    const { replies, frames, code } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(8000)), { frameBytes: 4000 });
    expect(code).toBe(1000);
    expect(replies).toHaveLength(frames + 1);
    expect(replies.slice(0, frames).every((r) => 'partial' in r || 'text' in r)).toBe(true);
    expect(replies.filter((r) => 'text' in r).map((r) => r.text)).toEqual(['low high', '']);
    expect(replies.some((r) => r.partial === 'low')).toBe(true);
    expect(Object.keys(replies.at(-1)!)).toEqual(['text']);
  });

  it('sends no greeting and uses the server default language, or ?language=', async () => {
    expect((await transcribeVosk('/vosk', pcmBytes(lowHighClip(8000)))).replies.filter((r) => r.text).map((r) => r.text)).toEqual([
      '低 高',
    ]);
    expect((await transcribeVosk('/vosk?language=en', pcmBytes(lowHighClip(8000)))).replies[0]).not.toHaveProperty('type');
    const en = await transcribeVosk('/vosk?language=en', pcmBytes(lowHighClip(8000)));
    expect(en.replies.filter((r) => r.text).map((r) => r.text)).toEqual(['low high']);
  });

  it('assumes 8000 Hz, as vosk-server does, for a client that sends no config', async () => {
    const { replies } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(8000)), { frameBytes: 1600 });
    expect(replies.filter((r) => r.text).map((r) => r.text)).toEqual(['low high']);
  });

  it('gives word times and confidences in every final by default, as vosk-server does; {"words": false} turns them off', async () => {
    const { replies } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(8000)));
    const result = replies.find((r) => r.text === 'low high')!;
    expect(result.result).toEqual([
      { conf: expect.any(Number), end: expect.any(Number), start: expect.any(Number), word: 'low' },
      { conf: expect.any(Number), end: expect.any(Number), start: expect.any(Number), word: 'high' },
    ]);
    const [low, high] = result.result as Array<{ start: number; end: number }>;
    expect(low!.start).toBeGreaterThan(0.4);
    expect(high!.start).toBeGreaterThan(low!.end);
    const without = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(8000)), { config: { words: false } });
    expect(without.replies.find((r) => r.text === 'low high')).toEqual({ text: 'low high' });
  });

  it('gives alternatives with max_alternatives (with words: each with its result), in vosk-server shape', async () => {
    const { replies } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(8000)), { config: { max_alternatives: 3 } });
    const final = replies.find((r) => Array.isArray(r.alternatives) && (r.alternatives as Array<{ text: string }>)[0]?.text === 'low high');
    expect(final).toBeDefined();
    for (const alternative of final!.alternatives as Array<Record<string, unknown>>) {
      expect(alternative).toMatchObject({ confidence: expect.any(Number), text: expect.any(String) });
      expect(Object.keys(alternative).sort()).toEqual(['confidence', 'result', 'text']);
    }
  });

  it.each([8000, 16000, 48000])('decodes audio at %i Hz given as config sample_rate', async (rate) => {
    const { replies } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(rate)), {
      config: { sample_rate: rate },
      frameBytes: rate / 2,
    });
    expect(replies.filter((r) => r.text).map((r) => r.text)).toEqual(['low high']);
  });

  it.each([16000.7, 8000.5, 4000, '16k'])(
    'refuses config sample_rate %s with invalid_sample_rate (a fraction of a hertz aborted the whole server)',
    async (rate) => {
      const { replies, code } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(16000)).subarray(0, 6400), {
        config: { sample_rate: rate },
        frameBytes: 3200,
      });
      expect(code).toBe(1000);
      expect(replies[0]).toMatchObject({ partial: '', code: 'invalid_sample_rate' });
      expect(String(replies[0]!.error)).toContain('use a whole number of Hz from 8000 to 48000');
      // Still serving: the same client at a rate it may use.
      const again = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(16000)), { config: { sample_rate: 16000 } });
      expect(again.replies.filter((r) => r.text).map((r) => r.text)).toEqual(['low high']);
    },
  );

  it('answers {"eof" : 1} sent straight after a config (the config\'s own flush is not a reply, the eof\'s is)', async () => {
    for (let i = 0; i < 20; i++) {
      const { replies, code } = await transcribeVosk('/vosk/en', Buffer.alloc(0), { config: { sample_rate: 16000 } });
      expect(code).toBe(1000);
      expect(replies).toEqual([{ text: '' }]);
    }
  });

  it('accepts a phrase_list; a model without a runtime graph ignores it and keeps working', async () => {
    const { replies } = await transcribeVosk('/vosk/en', pcmBytes(lowHighClip(8000)), {
      config: { phrase_list: ['low', 'high', '[unk]'] },
    });
    expect(replies.filter((r) => r.text).map((r) => r.text)).toEqual(['low high']);
  });

  it('answers {"reset" : 1} with the final result and goes on; odd and empty frames get their reply too', async () => {
    const client = await AsrctlClient.connect(url('/vosk/en'));
    client.send({ config: { sample_rate: 16000 } }); // a config is not answered
    const pcm = pcmBytes(lowHighClip(16000));
    const half = pcm.subarray(0, 16000 * 2 * 1.0 + 1); // odd length: the last byte waits for the next frame
    client.ws.send(half);
    client.ws.send(Buffer.alloc(0));
    client.send('{"reset" : 1}');
    // Three messages, three replies: nothing more arrives before more is sent.
    for (let i = 0; i < 3; i++) await client.next(() => true);
    await new Promise((r) => setTimeout(r, 200));
    const afterReset = client.messages.length;
    client.sendAudio(pcm, 8000);
    client.send({ eof: 1 }); // ordinary JSON spacing too
    expect(await client.closed).toBe(1000);
    expect(afterReset).toBe(3);
    const replies = client.messages;
    expect(replies).toHaveLength(3 + Math.ceil(pcm.length / 8000) + 1);
    expect(replies[2]).toMatchObject({ text: 'low' });
    expect(replies.filter((r) => r.text).map((r) => r.text)).toEqual(['low', 'low high']);
  });

  it('answers a text message it does not know with an empty partial that says why', async () => {
    const client = await AsrctlClient.connect(url('/vosk/en'));
    client.send('hello');
    const reply = await client.next(() => true);
    expect(reply).toEqual({ partial: '', error: expect.stringContaining('{"eof" : 1}') as string });
    client.ws.close();
  });

  it('refuses an unknown language or path before the upgrade', async () => {
    await expect(AsrctlClient.connect(url('/vosk/fr'))).rejects.toThrow(/HTTP 400/u);
    await expect(AsrctlClient.connect(url('/vosk/en/extra'))).rejects.toThrow(/HTTP 404/u);
  });
});
