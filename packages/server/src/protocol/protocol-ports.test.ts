import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { freePort, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** The three protocols side by side: by path on the main port, and on their own ports. */
describe('asrctl, vosk-server and FunASR clients on one server', () => {
  let models: ToneModelSet;
  let server: AsrServer;

  beforeAll(async () => {
    models = await makeToneModels();
    server = await startTestServer(
      { cn: models.cn, en: models.en },
      { defaultLanguage: 'cn', voskPort: await freePort(), funasrPort: await freePort() },
    );
  });

  afterAll(async () => {
    await server.drain(1000);
    await models.remove();
  });

  const clip = pcmBytes(lowHighClip(16000));

  async function asrctl(url: string): Promise<string[]> {
    const client = await AsrctlClient.connect(url);
    await client.next((m) => m.type === 'connection_established');
    client.send({ command: 'switch_language', language: 'en' });
    await client.sendAudioInRealTime(clip);
    client.send({ command: 'eof' });
    await client.next((m) => m.type === 'eof_complete');
    client.ws.close();
    return client.messages.filter((m) => m.is_final && m.text).map((m) => m.text!);
  }

  async function vosk(url: string): Promise<string[]> {
    const client = await AsrctlClient.connect(url);
    client.send({ config: { sample_rate: 16000 } }); // as vosk-server's test.py does
    await client.sendAudioInRealTime(clip);
    client.send('{"eof" : 1}');
    await client.closed;
    return client.messages.filter((m) => m.text).map((m) => m.text!);
  }

  async function funasr(url: string): Promise<string[]> {
    const client = await AsrctlClient.connect(url);
    client.send({ mode: '2pass', wav_name: 'w', is_speaking: true, audio_fs: 16000 });
    await client.sendAudioInRealTime(clip);
    client.send({ is_speaking: false });
    await client.next((m) => m.is_final === true);
    client.ws.close();
    return client.messages.filter((m) => m.mode === '2pass-offline' && m.text).map((m) => m.text!);
  }

  it('serves all three at once, by path and by port, each with its own results', async () => {
    const main = `ws://127.0.0.1:${server.port}`;
    const voskPort = `ws://127.0.0.1:${server.portFor('vosk')}`;
    const funasrPort = `ws://127.0.0.1:${server.portFor('funasr')}`;
    const results = await Promise.all([
      asrctl(`${main}/`),
      vosk(`${main}/vosk/en`),
      vosk(`${voskPort}/`),
      vosk(`${voskPort}/any/path?language=en`),
      funasr(`${main}/funasr`),
      funasr(`${funasrPort}/`),
      funasr(`${funasrPort}/en`),
    ]);
    expect(results).toEqual([['low high'], ['low high'], ['低 高'], ['low high'], ['低高'], ['低高'], ['low high']]);
  });

  it('refuses an unknown language on a protocol port, and serves health checks there too', async () => {
    await expect(AsrctlClient.connect(`ws://127.0.0.1:${server.portFor('vosk')}/fr`)).rejects.toThrow(/HTTP 400/u);
    const res = await fetch(`http://127.0.0.1:${server.portFor('funasr')}/readyz`);
    expect(res.status).toBe(200);
  });
});
