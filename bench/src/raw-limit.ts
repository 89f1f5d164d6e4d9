import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { SAMPLE_RATE } from './bench-audio.js';

export interface RawResult {
  threads: number;
  audioSeconds: number;
  wallSeconds: number;
  /** Audio seconds decoded per wall second, all threads together. */
  throughput: number;
  /** Audio times at which libvosk reported endpoints (thread 0). */
  endpoints: number[];
}

/** N threads each decoding the same audio with libvosk directly, started together. */
export async function rawLimit(modelDir: string, pcm: Buffer, threads: number, chunkSeconds: number): Promise<RawResult> {
  const chunkBytes = Math.round(chunkSeconds * SAMPLE_RATE) * 2;
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL('./raw-worker.js', import.meta.url), { workerData: { modelDir, pcm, chunkBytes, sampleRate: SAMPLE_RATE } }),
  );
  await Promise.all(workers.map((w) => once(w, 'message')));
  const started = performance.now();
  const done = workers.map((w) => once(w, 'message') as Promise<[{ seconds: number; endpoints: number[] }]>);
  for (const w of workers) w.postMessage('go');
  const results = await Promise.all(done);
  const wallSeconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  const audioSeconds = (threads * pcm.length) / 2 / SAMPLE_RATE;
  return { threads, audioSeconds, wallSeconds, throughput: audioSeconds / wallSeconds, endpoints: results[0]![0].endpoints };
}
