import { readFile } from 'node:fs/promises';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';

/**
 * The test page's AudioWorklet resampler, run outside a browser: the worklet source is taken
 * from the page itself and given the few globals an AudioWorkletGlobalScope provides.
 */
async function resampler(inputRate: number): Promise<(input: Float32Array[]) => Int16Array> {
  const html = await readFile(new URL('../../page/index.html', import.meta.url), 'utf8');
  const source = /(?:const|var) WORKLET = `([\s\S]*?)`;/u.exec(html)?.[1];
  if (!source) throw new Error('no worklet source in the page');
  const frames: Int16Array[] = [];
  let Processor: (new () => { process(inputs: Float32Array[][]): boolean }) | undefined;
  runInNewContext(source, {
    sampleRate: inputRate,
    AudioWorkletProcessor: class {
      port = { postMessage: (m: { pcm: ArrayBuffer }) => frames.push(new Int16Array(m.pcm)) };
    },
    registerProcessor: (_name: string, cls: typeof Processor) => (Processor = cls),
  });
  const processor = new Processor!();
  return (channels) => {
    for (let o = 0; o < channels[0]!.length; o += 128) processor.process([channels.map((c) => c.subarray(o, o + 128))]);
    const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames.splice(0)) {
      out.set(f, at);
      at += f.length;
    }
    return out;
  };
}

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

/** Amplitude of `hz` in `pcm` (16 kHz), by correlation with a sine and a cosine. */
function amplitudeAt(pcm: Int16Array, hz: number): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < pcm.length; i++) {
    s += (pcm[i]! / 32768) * Math.sin((2 * Math.PI * hz * i) / 16000);
    c += (pcm[i]! / 32768) * Math.cos((2 * Math.PI * hz * i) / 16000);
  }
  return (2 * Math.hypot(s, c)) / pcm.length;
}

describe("the test page's resampler (native rate to 16 kHz PCM16, 100 ms frames)", () => {
  it.each([44100, 48000, 16000])('keeps a 440 Hz tone at its level from %i Hz, in 1600-sample frames', async (rate) => {
    const run = await resampler(rate);
    const out = run([tone(440, rate, 2)]);
    expect(out.length).toBeGreaterThanOrEqual(16000 * 2 - 1600 * 2);
    expect(out.length % 1600).toBe(0);
    expect(amplitudeAt(out.subarray(1600), 440)).toBeCloseTo(0.5, 2);
  });

  it('low-passes before decimating: a 12 kHz tone at 44.1 kHz does not alias into the speech band', async () => {
    const run = await resampler(44100);
    const out = run([tone(12000, 44100, 2)]);
    // Without the filter, 12 kHz folds to 4 kHz at the same level (0.5).
    const aliased = amplitudeAt(out.subarray(1600), 4000);
    expect(20 * Math.log10(aliased / 0.5)).toBeLessThan(-40);
  });

  it('mixes stereo to mono', async () => {
    const run = await resampler(48000);
    const out = run([tone(440, 48000, 1, 0.8), new Float32Array(48000)]);
    expect(amplitudeAt(out.subarray(1600), 440)).toBeCloseTo(0.4, 2);
  });
});
