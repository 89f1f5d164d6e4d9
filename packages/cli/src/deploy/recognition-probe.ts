import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AsrctlClient, funasrText } from '@asrctl/server';
import { firstAndLastWordsClip, lowHighClip, readToneWords } from '@asrctl/tone-model';
import { readWavFile } from '../audio/wav-file.js';
import { transcribe } from '../client/transcription-client.js';
import type { DeployConfig } from '../deployment/deploy-config.js';
import { type ModelMount, modelName } from '../deployment/model-mount.js';
import { CliError } from '../cli-error.js';
import { deploymentNames } from '../deployment/deployment-names.js';

/** How long a probe waits for each step: the WebSocket handshake, each reply, the final. */
const PROBE_TIMEOUT_MS = 20_000;

export interface ProbeClip {
  samples: Int16Array;
  sampleRate: number;
  /** Text the final results must join to; undefined checks only that a final arrives. */
  expectedText?: string;
  source: string;
}

/**
 * What a recognition probe sends to one language: `--verify-wav` (with `--verify-text`) when
 * given; else a generated two-tone clip, whose words a generated tone model must recognize (a
 * real model only has to answer it with a final result and no error).
 */
export async function probeClipFor(config: DeployConfig, model: ModelMount): Promise<ProbeClip> {
  if (config.verifyWav) {
    const wav = await readWavFile(config.verifyWav);
    return { samples: wav.samples, sampleRate: wav.sampleRate, expectedText: config.verifyText, source: config.verifyWav };
  }
  // A generated tone model says what it hears: its first and last words.
  const words = await readToneWords(model.hostDir);
  if (words && words.length > 0) {
    const clip = firstAndLastWordsClip(words);
    return { samples: clip.samples, sampleRate: 16000, expectedText: clip.text, source: 'a generated two-tone clip' };
  }
  return {
    samples: lowHighClip(16000),
    sampleRate: 16000,
    expectedText: await toneModelText(model.hostDir),
    source: 'a generated two-tone clip',
  };
}

/** "low high" (or "低 高") for a tone model generated before tone-words.txt; undefined for a real one. */
async function toneModelText(modelDir: string): Promise<string | undefined> {
  const words = await readFile(join(modelDir, 'graph', 'words.txt'), 'utf8').catch(() => '');
  const list = words.split('\n').map((l) => l.split(/\s+/u)[0]);
  if (list.length > 16) return undefined;
  if (list.includes('low') && list.includes('high')) return 'low high';
  if (list.includes('低') && list.includes('高')) return '低 高';
  return undefined;
}

/**
 * One real recognition per model language through `url`; returns what each language heard.
 * Through wss, the deployment's own certificate is the only one trusted.
 */
export async function probeRecognition(plainUrl: string, config: DeployConfig): Promise<Record<string, string>> {
  const heard: Record<string, string> = {};
  const url = await withToken(plainUrl, config);
  const pinnedCertificate = url.startsWith('wss:') && config.tls ? await readFile(config.tls.certPath, 'utf8') : undefined;
  for (const model of config.models) {
    const clip = await probeClipFor(config, model);
    // A language's first model is the language; any other is named too.
    const what =
      config.models.find((m) => m.language === model.language) === model ? model.language : `${model.language} ${modelName(model)}`;
    let text: string;
    try {
      const finals = await transcribe({
        url,
        samples: clip.samples,
        sampleRate: clip.sampleRate,
        language: model.language,
        // Each model by name: a language may have several, and only its first is the default.
        model: modelName(model),
        timeoutMs: PROBE_TIMEOUT_MS,
        ...(pinnedCertificate !== undefined && { pinnedCertificate }),
      });
      text = finals
        .map((f) => f.text)
        .filter(Boolean)
        .join(' ');
    } catch (err) {
      throw new CliError(
        'recognition_probe_failed',
        `recognition probe (${what}) through ${plainUrl} failed: ${(err as Error).message.replaceAll(url, plainUrl)}`,
        {
          cause: err,
          ...(refusedByAllow(err, config) && {
            hint: `--allow ${config.allow.join(',')} must admit this host too: the probes connect from here and arrive from the gateway of the network ${deploymentNames(config.project).network} (docker network inspect ${deploymentNames(config.project).network} --format '{{(index .IPAM.Config 0).Gateway}}' prints it)`,
          }),
        },
      );
    }
    if (clip.expectedText !== undefined && text !== clip.expectedText)
      throw new CliError(
        'recognition_probe_failed',
        `recognition probe (${what}) through ${plainUrl}: expected "${clip.expectedText}" for ${clip.source}, heard "${text}"`,
      );
    heard[what] = text;
  }
  return heard;
}

/**
 * A vosk-server client and a FunASR client, each through its own published port and in its own
 * protocol, recognizing the default language's clip. Returns what each heard.
 */
export async function probeProtocolPorts(host: string, config: DeployConfig): Promise<Record<string, string>> {
  const model = config.models.find((m) => m.language === config.defaultLanguage) ?? config.models[0]!;
  const clip = await probeClipFor(config, model);
  const pcm = Buffer.from(clip.samples.buffer, clip.samples.byteOffset, clip.samples.byteLength);
  const pinned = config.tls ? await readFile(config.tls.certPath, 'utf8') : undefined;
  const heard: Record<string, string> = {};
  for (const [protocol, port] of Object.entries(config.protocolPorts) as Array<['vosk' | 'funasr', number]>) {
    const shown = `${config.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const url = await withToken(shown, config);
    const texts = await exchange(url, pinned, (client) => {
      if (protocol === 'funasr') client.send({ mode: 'offline', wav_name: 'asrctl-verify', is_speaking: true, audio_fs: clip.sampleRate });
      else client.send({ config: { sample_rate: clip.sampleRate } });
      client.sendAudio(pcm, 8000);
      client.send(protocol === 'funasr' ? { is_speaking: false } : '{"eof" : 1}');
    }).catch((err: Error) => {
      throw new CliError('recognition_probe_failed', `${protocol} client through ${shown} failed: ${err.message.replaceAll(url, shown)}`, {
        cause: err,
      });
    });
    const text = texts.join(protocol === 'funasr' ? '' : ' ');
    const expected =
      clip.expectedText === undefined ? undefined : protocol === 'funasr' ? funasrText(clip.expectedText) : clip.expectedText;
    if (expected !== undefined && text !== expected)
      throw new CliError('recognition_probe_failed', `${protocol} client through ${shown}: expected "${expected}", heard "${text}"`);
    heard[protocol] = text;
  }
  return heard;
}

/** Connects, lets `talk` send, and collects the non-empty `text` fields until the server closes or says is_final. */
async function exchange(url: string, pinned: string | undefined, talk: (client: AsrctlClient) => void): Promise<string[]> {
  const client = await AsrctlClient.connect(url, {
    handshakeTimeoutMs: PROBE_TIMEOUT_MS,
    ...(pinned !== undefined && { ca: pinned, skipHostnameCheck: true }),
  });
  try {
    talk(client);
    const final = await client.nextFinal(PROBE_TIMEOUT_MS).catch((err: unknown) => {
      if (client.closeCode === undefined) throw err;
    });
    const upTo = final ? client.messages.indexOf(final) + 1 : client.messages.length;
    return client.messages.slice(0, upTo).flatMap((m) => (typeof m.text === 'string' && m.text ? [m.text] : []));
  } finally {
    void client.close();
  }
}

/** With --tokens-file, the probes present its first token, as a client would (`?token=`). */
async function withToken(url: string, config: DeployConfig): Promise<string> {
  if (config.tokensFile === undefined) return url;
  const token = (await readFile(config.tokensFile, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l && !l.startsWith('#'));
  if (!token) throw new CliError('recognition_probe_failed', `${config.tokensFile} holds no token: clients could not connect`);
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

/** A refusal --allow would give: 403 from the app itself (recreate), or a connection the edge drops. */
function refusedByAllow(err: unknown, config: DeployConfig): boolean {
  return config.allow.length > 0 && /HTTP 403|socket hang up|ECONNRESET/u.test((err as Error).message);
}
