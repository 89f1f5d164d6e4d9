import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lowHighClip } from '@asrctl/tone-model';
import { readWavFile } from '../audio/wav-file.js';
import { transcribe } from '../client/transcription-client.js';
import type { DeployConfig, ModelMount } from './deploy-config.js';

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
  return {
    samples: lowHighClip(16000),
    sampleRate: 16000,
    expectedText: await toneModelText(model.hostDir),
    source: 'a generated two-tone clip',
  };
}

/** "low high" (or "低 高") for a generated tone model; undefined for a real one. */
async function toneModelText(modelDir: string): Promise<string | undefined> {
  const words = await readFile(join(modelDir, 'graph', 'words.txt'), 'utf8').catch(() => '');
  const list = words.split('\n').map((l) => l.split(/\s+/u)[0]);
  if (list.length > 16) return undefined;
  if (list.includes('low') && list.includes('high')) return 'low high';
  if (list.includes('低') && list.includes('高')) return '低 高';
  return undefined;
}

export class RecognitionProbeError extends Error {
  override readonly name = 'RecognitionProbeError';
}

/**
 * One real recognition per model language through `url`; returns what each language heard.
 * Through wss, the deployment's own certificate is the only one trusted.
 */
export async function probeRecognition(url: string, config: DeployConfig): Promise<Record<string, string>> {
  const heard: Record<string, string> = {};
  const pinnedCertificate = url.startsWith('wss:') && config.tls ? await readFile(config.tls.certPath, 'utf8') : undefined;
  for (const model of config.models) {
    const clip = await probeClipFor(config, model);
    let text: string;
    try {
      const finals = await transcribe({
        url,
        samples: clip.samples,
        sampleRate: clip.sampleRate,
        language: model.language,
        timeoutMs: 20_000,
        ...(pinnedCertificate !== undefined && { pinnedCertificate }),
      });
      text = finals
        .map((f) => f.text)
        .filter(Boolean)
        .join(' ');
    } catch (err) {
      throw new RecognitionProbeError(`recognition probe (${model.language}) through ${url} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (clip.expectedText !== undefined && text !== clip.expectedText)
      throw new RecognitionProbeError(
        `recognition probe (${model.language}) through ${url}: expected "${clip.expectedText}" for ${clip.source}, heard "${text}"`,
      );
    heard[model.language] = text;
  }
  return heard;
}
