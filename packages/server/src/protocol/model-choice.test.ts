import { lowHighClip, parseToneWords, pcmBytes, writeToneModel } from '@asrctl/tone-model';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { freePort, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/**
 * Several models per language, loaded at once and chosen per session by name, as the original
 * service's later test page does (small and standard Chinese side by side). The second Chinese
 * model hears the same tones as other words, so every result shows which model made it.
 */
describe('several models per language, chosen by name', () => {
  let models: ToneModelSet;
  let standard: string;
  let server: AsrServer;
  const url = (path: string): string => `ws://127.0.0.1:${server.port}${path}`;
  const clip = pcmBytes(lowHighClip(16000));

  beforeAll(async () => {
    models = await makeToneModels();
    standard = join(models.root, 'vosk-model-cn-0.22');
    await writeToneModel(standard, { words: parseToneWords('甲:500,丙:1000,乙:2000') });
    server = await startTestServer(
      {},
      {
        voskPort: await freePort(),
        config: { model: [`cn=${models.cn}`, `cn=${standard}`, `en=${models.en}`], defaultLanguage: 'cn' },
      },
    );
  });

  afterAll(async () => {
    await server.drain(1000);
    await models.remove();
  });

  /** A vosk-server client's session (16 kHz config, the clip, eof): the texts it got. */
  async function vosk(where: string): Promise<string[]> {
    const client = await AsrctlClient.connect(where);
    client.send({ config: { sample_rate: 16000 } });
    client.sendAudio(clip, 8000);
    client.send('{"eof" : 1}');
    await client.closed;
    return client.messages.filter((m) => m.text).map((m) => m.text!);
  }

  async function finalOf(client: AsrctlClient): Promise<{ text: string; mode: string; language: string }> {
    client.sendAudio(clip);
    client.send({ command: 'eof' });
    const final = await client.nextFinal();
    await client.nextType('eof_complete');
    return { text: final.text!, mode: final.mode as string, language: final.language as string };
  }

  it('greets with every model and the current one; switch_model flushes a final, then decodes with the named model', async () => {
    const client = await AsrctlClient.connect(url('/'));
    const greeting = await client.nextType('connection_established');
    expect(greeting).toMatchObject({
      supported_languages: ['cn', 'en'],
      current_language: 'cn',
      current_model: 'tone-cn',
      available_models: [
        { name: 'tone-cn', language: 'cn' },
        { name: 'vosk-model-cn-0.22', language: 'cn' },
        { name: 'tone-en', language: 'en' },
      ],
    });
    expect(await finalOf(client)).toEqual({ text: '低 高', mode: 'tone-cn', language: 'cn' });

    // Audio sent before the switch is finished by the model it was sent to.
    client.sendAudio(clip);
    client.send({ command: 'switch_model', model: 'vosk-model-cn-0.22' });
    expect(await client.nextFinal()).toMatchObject({ text: '低 高', mode: 'tone-cn' });
    expect(await client.nextType('model_switched')).toEqual({
      type: 'model_switched',
      model: 'vosk-model-cn-0.22',
      language: 'cn',
      message: 'switched to vosk-model-cn-0.22 (cn)',
    });
    expect(await finalOf(client)).toEqual({ text: '甲 乙', mode: 'vosk-model-cn-0.22', language: 'cn' });

    // Another language means its default model; back to Chinese, the language's default again.
    client.send({ command: 'switch_language', language: 'en' });
    expect(await client.nextType('language_switched')).toMatchObject({ language: 'en', model: 'tone-en' });
    expect(await finalOf(client)).toEqual({ text: 'low high', mode: 'tone-en', language: 'en' });
    client.send({ command: 'switch_model', model: 'vosk-model-cn-0.22' });
    await client.nextType('model_switched');
    client.send({ command: 'switch_language', language: 'cn' });
    expect(await client.nextType('language_switched')).toMatchObject({ language: 'cn', model: 'tone-cn' });
    await client.close();
  });

  it('refuses a model it has not loaded, and the session goes on', async () => {
    const client = await AsrctlClient.connect(url('/'));
    client.send({ command: 'switch_model', model: 'vosk-model-cn-0.99' });
    expect(await client.nextType('error')).toMatchObject({
      code: 'unknown_model',
      message: expect.stringContaining('tone-cn, vosk-model-cn-0.22, tone-en') as string,
    });
    client.send({ command: 'switch_model' });
    expect(await client.nextType('error')).toMatchObject({ code: 'unknown_model' });
    expect(await finalOf(client)).toMatchObject({ text: '低 高', mode: 'tone-cn' });
    await client.close();
  });

  it('lets every protocol choose a model on connect: ?model=, or the name as the path', async () => {
    const connected = await AsrctlClient.connect(url('/?model=vosk-model-cn-0.22'));
    expect(await connected.nextType('connection_established')).toMatchObject({ current_model: 'vosk-model-cn-0.22' });
    expect(await finalOf(connected)).toMatchObject({ text: '甲 乙', mode: 'vosk-model-cn-0.22' });
    await connected.close();

    expect(await vosk(url('/vosk/vosk-model-cn-0.22'))).toEqual(['甲 乙']);
    expect(await vosk(url('/vosk?model=vosk-model-cn-0.22'))).toEqual(['甲 乙']);
    expect(await vosk(`ws://127.0.0.1:${server.portFor('vosk')}/vosk-model-cn-0.22`)).toEqual(['甲 乙']);
    expect(await vosk(`ws://127.0.0.1:${server.portFor('vosk')}/cn`)).toEqual(['低 高']);

    const funasr = await AsrctlClient.connect(url('/funasr/vosk-model-cn-0.22'));
    funasr.send({ mode: 'offline', wav_name: 'w', is_speaking: true });
    funasr.sendAudio(clip);
    funasr.send({ is_speaking: false });
    await funasr.next((m) => m.is_final === true);
    expect(funasr.messages.map((m) => m.text).join('')).toBe('甲乙');
    funasr.ws.close();

    await expect(AsrctlClient.connect(url('/?model=nope'))).rejects.toThrow(/HTTP 400/u);
    await expect(AsrctlClient.connect(url('/vosk/nope'))).rejects.toThrow(/HTTP 400/u);
  });

  it('reads a path segment as a language first; a model named like one is reached by ?model=; conflicting asks are refused', async () => {
    // A Chinese model whose directory is named "en" (a collision an operator can make by accident).
    const named = join(models.root, 'collide', 'en');
    await writeToneModel(named, { words: parseToneWords('甲:500,丙:1000,乙:2000') });
    const other = await startTestServer({}, { voskPort: await freePort(), config: { model: [`cn=${named}`, `en=${models.en}`] } });
    try {
      const main = `ws://127.0.0.1:${other.port}`;
      const port = `ws://127.0.0.1:${other.portFor('vosk')}`;
      expect(await vosk(`${main}/vosk/en`)).toEqual(['low high']);
      expect(await vosk(`${port}/en`)).toEqual(['low high']);
      // The main port's path works on the protocol's own port too.
      expect(await vosk(`${port}/vosk/en`)).toEqual(['low high']);
      expect(await vosk(`${main}/vosk?model=en`)).toEqual(['甲 乙']);
      for (const refused of [`${main}/?model=en&language=auto`, `${main}/?model=en&language=en`, `${main}/vosk/nope`, `${port}/nope`])
        await expect(AsrctlClient.connect(refused)).rejects.toThrow(/HTTP 400/u);
    } finally {
      await other.drain(500);
    }
  });
});
