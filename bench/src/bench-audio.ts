import { type Segment, pcmBytes, synthesize } from '@asrctl/tone-model';

export const SAMPLE_RATE = 16000;
export const FRAME_SECONDS = 0.1;
const WORDS = [500, 1000, 2000];

export interface BenchAudio {
  pcm: Buffer;
  seconds: number;
  /** Client frames of FRAME_SECONDS each. */
  frames: Buffer[];
  /** Audio time at which each utterance's first tone starts. */
  onsets: number[];
}

/**
 * Utterances of two tones with pauses, like short spoken phrases: 0.5 s silence, tone, 0.3 s,
 * tone, then 1.5 s of silence so the heavy model reports an endpoint. 3.1 s each.
 */
export function benchAudio(utterances: number): BenchAudio {
  const segments: Segment[] = [];
  const onsets: number[] = [];
  let t = 0;
  for (let i = 0; i < utterances; i++) {
    const a = WORDS[i % 3]!;
    const b = WORDS[(i + 1 + Math.floor(i / 3)) % 3]!;
    onsets.push(t + 0.5);
    segments.push({ silence: 0.5 }, { tone: a, seconds: 0.4 }, { silence: 0.3 }, { tone: b, seconds: 0.4 }, { silence: 1.5 });
    t += 3.1;
  }
  const pcm = pcmBytes(synthesize(segments, { sampleRate: SAMPLE_RATE }));
  const frameBytes = Math.round(FRAME_SECONDS * SAMPLE_RATE) * 2;
  const frames: Buffer[] = [];
  for (let o = 0; o < pcm.length; o += frameBytes) frames.push(pcm.subarray(o, o + frameBytes));
  return { pcm, seconds: pcm.length / 2 / SAMPLE_RATE, frames, onsets };
}
