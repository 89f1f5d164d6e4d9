import { lowHighClip, pcmBytes, synthesize } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { pollUntil } from '../poll-until.js';
import { httpUrl, metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

let models: ToneModelSet;
let server: AsrServer;
const clients: AsrctlClient[] = [];

beforeAll(async () => {
  models = await makeToneModels();
  server = await startTestServer({ cn: models.cn, en: models.en });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.drain(1000);
  await models.remove();
});

async function connect(path = '/'): Promise<AsrctlClient> {
  const client = await AsrctlClient.connect(`${server.url}${path}`);
  clients.push(client);
  await client.nextType('connection_established');
  return client;
}

const LOW_HIGH = pcmBytes(lowHighClip());
/** Two tones and no trailing silence: no endpoint, only a flush finishes it. */
const LOW_HIGH_UNFINISHED = pcmBytes(
  synthesize([{ silence: 0.5 }, { tone: 500, seconds: 0.4 }, { silence: 0.3 }, { tone: 2000, seconds: 0.4 }]),
);
const tones = (...hz: number[]): Buffer =>
  pcmBytes(synthesize([{ silence: 0.5 }, ...hz.flatMap((tone) => [{ tone, seconds: 0.4 }, { silence: 0.3 }]), { silence: 1.2 }]));

describe('asrctl protocol over a real WebSocket', () => {
  it('greets with the languages and the default language', async () => {
    const client = await AsrctlClient.connect(server.url);
    clients.push(client);
    expect(await client.nextType('connection_established')).toEqual({
      type: 'connection_established',
      supported_languages: ['cn', 'en'],
      current_language: 'cn',
      mode: 'manual_switch',
      available_models: [
        { name: 'tone-cn', language: 'cn' },
        { name: 'tone-en', language: 'en' },
      ],
      current_model: 'tone-cn',
    });
  });

  it('streams partials to a real-time client, then the final 低 高 in the guide’s shape', async () => {
    const client = await connect();
    await client.sendAudioInRealTime(LOW_HIGH);
    const final = await client.nextFinal();
    expect(final).toEqual({
      is_final: true,
      mode: 'tone-cn',
      text: '低 高',
      wav_name: 'h5',
      language: 'cn',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    const partials = client.messages.filter((m) => m.is_final === false).map((m) => m.text);
    expect(partials).toEqual(['低', '低 高']); // sent only when the text changes
  });

  it('switches language: the final of audio already sent comes first, in the old language', async () => {
    const client = await connect();
    const lowThenSilence = pcmBytes(synthesize([{ silence: 0.5 }, { tone: 500, seconds: 0.4 }, { silence: 0.2 }]));
    client.sendAudio(lowThenSilence);
    client.send({ command: 'switch_language', language: 'en' });
    client.sendAudio(tones(2000));
    const flushed = await client.nextFinal();
    expect(flushed).toMatchObject({ text: '低', language: 'cn', mode: 'tone-cn' });
    expect(await client.nextType('language_switched')).toEqual({ type: 'language_switched', language: 'en', model: 'tone-en' });
    expect(await client.nextFinal()).toMatchObject({ text: 'high', language: 'en', mode: 'tone-en' });
  });

  it('accepts zh as an alias of cn', async () => {
    const client = await connect();
    client.send({ command: 'switch_language', language: 'en' });
    await client.nextType('language_switched');
    client.send({ command: 'switch_language', language: 'zh' });
    expect(await client.nextType('language_switched')).toMatchObject({ language: 'cn' });
  });

  it('reset discards the utterance in progress', async () => {
    const client = await connect();
    client.sendAudio(pcmBytes(synthesize([{ silence: 0.5 }, { tone: 500, seconds: 0.4 }, { silence: 0.4 }])));
    await client.next((m) => m.text === '低', 'the partial 低');
    client.send({ command: 'reset' });
    await client.nextType('reset_complete');
    client.sendAudio(tones(2000));
    expect(await client.nextFinal()).toMatchObject({ text: '高' });
    expect(client.finals().map((f) => f.text)).toEqual(['高']);
  });

  it('reset after one frame holding a finished and an unfinished utterance: the finished one keeps its final', async () => {
    const client = await connect();
    client.sendAudio(
      pcmBytes(
        synthesize([{ silence: 0.3 }, { tone: 500, seconds: 0.4 }, { silence: 1.5 }, { tone: 2000, seconds: 0.4 }, { silence: 0.2 }]),
      ),
    );
    client.send({ command: 'reset' });
    await client.nextType('reset_complete');
    client.send({ command: 'eof' });
    await client.nextType('eof_complete');
    expect(client.finals().map((f) => f.text)).toEqual(['低']);
  });

  it('eof flushes trailing audio, confirms, and keeps the session open', async () => {
    const client = await connect();
    client.sendAudio(LOW_HIGH_UNFINISHED);
    client.send({ command: 'eof' });
    expect(await client.nextFinal()).toMatchObject({ text: '低 高' });
    await client.nextType('eof_complete');
    client.sendAudio(tones(1000));
    expect(await client.nextFinal()).toMatchObject({ text: '中' });
  });

  it('eof with nothing pending answers eof_complete alone', async () => {
    const client = await connect();
    client.send({ command: 'eof' });
    await client.nextType('eof_complete');
    expect(client.finals()).toEqual([]);
  });

  it('decodes 8 kHz and 48 kHz input after configure', async () => {
    for (const rate of [8000, 48000]) {
      const client = await connect();
      client.send({ command: 'configure', sample_rate: rate });
      expect(await client.nextType('configured')).toEqual({ type: 'configured', sample_rate: rate, words: false, wav_name: 'h5' });
      client.sendAudio(pcmBytes(lowHighClip(rate)), Math.round(rate * 0.1) * 2);
      expect(await client.nextFinal(), `${rate} Hz`).toMatchObject({ text: '低 高' });
    }
  });

  it('carries an odd trailing byte to the next frame: odd-length frames decode exactly', async () => {
    for (const frameBytes of [3201, 1001, 7]) {
      const client = await connect();
      client.send({ command: 'switch_language', language: 'en' });
      await client.nextType('language_switched');
      client.sendAudio(LOW_HIGH, frameBytes);
      expect(await client.nextFinal(), `${frameBytes}-byte frames`).toMatchObject({ text: 'low high' });
    }
  });

  it('adds word times to finals when asked, and a custom wav_name', async () => {
    const client = await connect();
    client.send({ command: 'configure', words: true, wav_name: 'call-42' });
    await client.nextType('configured');
    client.sendAudio(LOW_HIGH);
    const final = await client.nextFinal();
    expect(final.wav_name).toBe('call-42');
    expect(final.words).toEqual([
      { word: '低', start: expect.closeTo(0.51, 1), end: expect.closeTo(0.9, 1), conf: 1 },
      { word: '高', start: expect.closeTo(1.2, 1), end: expect.closeTo(1.62, 1), conf: 1 },
    ]);
  });

  it('answers configure commands sent back to back each with the settings as that command left them', async () => {
    const client = await connect();
    client.send({ command: 'configure', words: true });
    client.send({ command: 'configure', wav_name: 'x' });
    client.send({ command: 'configure', sample_rate: 22050 });
    const replies = [await client.nextType('configured'), await client.nextType('configured'), await client.nextType('configured')];
    expect(replies).toEqual([
      { type: 'configured', sample_rate: 16000, words: true, wav_name: 'h5' },
      { type: 'configured', sample_rate: 16000, words: true, wav_name: 'x' },
      { type: 'configured', sample_rate: 22050, words: true, wav_name: 'x' },
    ]);
  });

  it('answers switch_language commands sent back to back each with the model that command chose', async () => {
    const client = await connect();
    const languages = ['en', 'cn', 'en', 'cn', 'en', 'cn'];
    for (const language of languages) client.send({ command: 'switch_language', language });
    const replies = [];
    while (replies.length < languages.length) replies.push(await client.nextType('language_switched'));
    expect(replies).toEqual(languages.map((language) => ({ type: 'language_switched', language, model: `tone-${language}` })));
  });

  it('keeps concurrent sessions in different languages apart', async () => {
    const plan = [
      { language: 'cn', hz: [500, 2000], expected: '低 高' },
      { language: 'en', hz: [1000], expected: 'mid' },
      { language: 'en', hz: [2000, 500], expected: 'high low' },
      { language: 'cn', hz: [1000, 1000], expected: '中 中' },
    ];
    const sessions = await Promise.all(plan.map(() => connect()));
    await Promise.all(
      sessions.map(async (client, i) => {
        client.send({ command: 'switch_language', language: plan[i]!.language });
        await client.nextType('language_switched');
      }),
    );
    // Interleave the frames of all sessions.
    const audio = plan.map((p) => tones(...p.hz));
    for (let o = 0; o < Math.max(...audio.map((a) => a.length)); o += 3200) {
      sessions.forEach((client, i) => audio[i]!.length > o && client.ws.send(audio[i]!.subarray(o, o + 3200)));
    }
    const finals = await Promise.all(sessions.map((c) => c.nextFinal()));
    expect(finals.map((f) => f.text)).toEqual(plan.map((p) => p.expected));
    expect(finals.map((f) => f.language)).toEqual(plan.map((p) => p.language));
    await Promise.all(sessions.map((c) => c.next(() => false, 'nothing more', 300).catch(() => undefined)));
    sessions.forEach((c, i) => expect(c.finals().map((f) => f.text)).toEqual([plan[i]!.expected]));
  });

  it('answers every bad input with a stable error code and keeps decoding', async () => {
    const client = await connect();
    const cases: Array<[string | object, string]> = [
      ['{not json', 'invalid_json'],
      ['[1,2]', 'invalid_message'],
      ['"text"', 'invalid_message'],
      [{ language: 'en' }, 'invalid_message'],
      [{ command: 'dance' }, 'unknown_command'],
      [{ command: 'switch_language', language: 'fr' }, 'unsupported_language'],
      [{ command: 'switch_language' }, 'unsupported_language'],
      [{ command: 'configure', sample_rate: 7999 }, 'invalid_sample_rate'],
      [{ command: 'configure', sample_rate: 48001 }, 'invalid_sample_rate'],
      [{ command: 'configure', sample_rate: '16000' }, 'invalid_sample_rate'],
      [{ command: 'configure', sample_rate: 16000.5 }, 'invalid_sample_rate'],
      [{ command: 'configure', words: 'yes' }, 'invalid_option'],
    ];
    for (const [message, code] of cases) {
      client.send(message);
      const error = await client.nextType('error');
      expect(error.code, JSON.stringify(message)).toBe(code);
      expect(String(error.message).length).toBeGreaterThan(10);
    }
    // JSON has no Infinity: this rate was shown as "sample_rate null".
    client.send('{"command":"configure","sample_rate":1e400}');
    expect((await client.nextType('error')).message).toContain('sample_rate Infinity is not supported');
    client.sendAudio(LOW_HIGH);
    expect(await client.nextFinal()).toMatchObject({ text: '低 高', language: 'cn' });
  });

  it('replies in message order, errors included', async () => {
    const client = await connect();
    client.sendAudio(LOW_HIGH_UNFINISHED);
    client.send({ command: 'eof' });
    client.send('oops');
    client.send({ command: 'reset' });
    const replies: string[] = [];
    while (replies.length < 3) {
      const m = await client.next((x) => typeof x.type === 'string', 'a reply');
      replies.push(m.type === 'error' ? `error:${String(m.code)}` : String(m.type));
    }
    expect(replies).toEqual(['eof_complete', 'error:invalid_json', 'reset_complete']);
  });

  it('frees the recognizer of a client that disconnects mid-utterance', async () => {
    const client = await connect();
    client.sendAudio(LOW_HIGH_UNFINISHED);
    await client.next((m) => m.is_final === false, 'a partial');
    const before = await metric(server, 'asr_recognizers');
    expect(before).toBeGreaterThan(0);
    client.ws.terminate();
    await pollUntil(
      () => metric(server, 'asr_recognizers'),
      (recognizers) => recognizers === before - 1,
      { what: 'the closed session to free its recognizer', timeoutMs: 10_000, intervalMs: 20 },
    );
    expect(await metric(server, 'asr_recognizers')).toBe(before - 1);
  });
});

describe('HTTP endpoints', () => {
  it('serves liveness, readiness and Prometheus metrics', async () => {
    expect(await (await fetch(httpUrl(server, '/healthz'))).json()).toEqual({ status: 'ok' });
    const ready = await fetch(httpUrl(server, '/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, status: 'ready', languages: ['cn', 'en'] });
    const metrics = await (await fetch(httpUrl(server, '/metrics'))).text();
    for (const name of [
      'asr_sessions_open',
      'asr_sessions_total',
      'asr_audio_seconds_total',
      'asr_decode_seconds_total',
      'asr_results_total',
      'asr_errors_total',
      'asr_model_load_seconds',
      'asr_native_calls_in_flight',
      'process_resident_memory_bytes',
    ]) {
      expect(metrics).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(await metric(server, 'asr_audio_seconds_total')).toBeGreaterThan(10);
    expect(metrics).toMatch(/asr_errors_total\{code="invalid_json"\} [1-9]/);
  });

  it('answers unknown paths and methods with JSON errors', async () => {
    const missing = await fetch(httpUrl(server, '/nope'));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    expect((await fetch(httpUrl(server, '/healthz'), { method: 'POST' })).status).toBe(405);
    await expect(AsrctlClient.connect(`${server.url}/elsewhere`)).rejects.toThrow(/HTTP 404/);
  });
});
