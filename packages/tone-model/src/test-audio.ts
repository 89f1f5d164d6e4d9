import { seededGaussian } from './prng.js';

/** One piece of synthetic audio. Levels are in dBFS (0 = full scale sine peak). */
export type Segment = { tone: number; seconds: number; dbfs?: number } | { silence: number } | { noise: number; sigma: number };

export interface SynthOptions {
  sampleRate?: number;
  /** Gaussian noise (sigma as a fraction of full scale) added under the whole clip. */
  noiseFloor?: number;
  seed?: number;
}

const DEFAULT_TONE_DBFS = -8;
/** Short raised-cosine ramps keep tone edges from splattering energy into other bins. */
const RAMP_SECONDS = 0.005;

/** Renders segments to mono PCM16 samples. Deterministic for a given seed. */
export function synthesize(segments: readonly Segment[], options: SynthOptions = {}): Int16Array {
  const rate = options.sampleRate ?? 16000;
  const gaussian = seededGaussian(options.seed ?? 1);
  const parts: Float64Array[] = segments.map((seg) => {
    if ('silence' in seg) return new Float64Array(Math.round(seg.silence * rate));
    if ('noise' in seg) {
      const out = new Float64Array(Math.round(seg.noise * rate));
      for (let i = 0; i < out.length; i++) out[i] = gaussian() * seg.sigma;
      return out;
    }
    const out = new Float64Array(Math.round(seg.seconds * rate));
    const amplitude = 10 ** ((seg.dbfs ?? DEFAULT_TONE_DBFS) / 20);
    const ramp = Math.min(Math.round(RAMP_SECONDS * rate), Math.floor(out.length / 2));
    for (let i = 0; i < out.length; i++) {
      const edge = Math.min(i, out.length - 1 - i);
      const gain = edge < ramp ? 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp) : 1;
      out[i] = amplitude * gain * Math.sin((2 * Math.PI * seg.tone * i) / rate);
    }
    return out;
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const pcm = new Int16Array(total);
  let o = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      const v = part[i]! + (options.noiseFloor ? gaussian() * options.noiseFloor : 0);
      pcm[o++] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
    }
  }
  return pcm;
}

/** The samples as little-endian bytes, as sent over the wire. */
export function pcmBytes(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, 2 * i);
  return out;
}

/** A canonical 44-byte-header PCM16 WAV. Interleaved samples when `channels` > 1. */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const data = pcmBytes(samples);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/**
 * The canonical test utterance: "low high" (or 低 高) with the timing libvosk endpoints on.
 * 1.5 s of trailing silence lets even the heavy model report the endpoint.
 */
export function lowHighClip(sampleRate = 16000): Int16Array {
  return toneSequenceClip([500, 2000], sampleRate);
}

/** The tones one after another, with the canonical utterance's timing: one final with one word per tone. */
export function toneSequenceClip(tones: readonly number[], sampleRate = 16000): Int16Array {
  const segments: Segment[] = [{ silence: 0.5 }];
  tones.forEach((hz, i) => segments.push(...(i > 0 ? [{ silence: 0.3 }] : []), { tone: hz, seconds: 0.4 }));
  segments.push({ silence: 1.5 });
  return synthesize(segments, { sampleRate });
}
