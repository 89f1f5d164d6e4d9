/**
 * `pnpm soak [--minutes N] [--sessions N]`: many sessions streaming the heavy tone model in real
 * time for minutes, each reconnecting when its audio ends, while RSS, open sessions and
 * recognizers are sampled. A leak shows as a slope. Not a test: figures are printed, not asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { benchAudio } from './bench-audio.js';
import { streamAudio } from './load-client.js';
import { ServerProcess } from './server-process.js';
import { round } from './stats.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, sessions: { type: 'string', default: '20' } } });
const minutes = Number(values.minutes);
const sessions = Number(values.sessions);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

interface Sample {
  seconds: number;
  rssMiB: number;
  sessions: number;
  recognizers: number;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'asr-soak-'));
  await writeToneModel(join(dir, 'cn'), { words: toneWordsFor('cn'), heavy: true });
  await writeToneModel(join(dir, 'en'), { words: toneWordsFor('en'), heavy: true });
  const server = await ServerProcess.start({ cn: join(dir, 'cn'), en: join(dir, 'en') }, 'en');
  const audio = benchAudio(4);
  const deadline = performance.now() + minutes * 60_000;
  const started = performance.now();
  let completed = 0;
  let errors = 0;
  const samples: Sample[] = [];
  try {
    log(
      `soak: ${sessions} sessions streaming ${round(audio.seconds, 1)} s clips in real time for ${minutes} min (heavy tone model, cn and en loaded)`,
    );
    log('| minute | RSS (MiB) | open sessions | recognizers | sessions completed |');
    log('|---|---|---|---|---|');
    const clients = Array.from({ length: sessions }, async (_, i) => {
      while (performance.now() < deadline) {
        const record = await streamAudio({
          url: server.url,
          frames: audio.frames,
          pace: 'realtime',
          offsetMs: i === 0 ? 0 : (i * 100) / sessions,
        });
        completed++;
        errors += record.errors.length;
      }
    });
    const sampler = (async () => {
      while (performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10_000));
        const m = await server.metrics();
        const sample = {
          seconds: (performance.now() - started) / 1000,
          rssMiB: (m.get('process_resident_memory_bytes') ?? 0) / 2 ** 20,
          sessions: m.get('asr_sessions_open') ?? 0,
          recognizers: m.get('asr_recognizers') ?? 0,
        };
        samples.push(sample);
        log(
          `| ${round(sample.seconds / 60, 1)} | ${round(sample.rssMiB, 1)} | ${sample.sessions} | ${sample.recognizers} | ${completed} |`,
        );
      }
    })();
    await Promise.all([...clients, sampler]);
    await new Promise((r) => setTimeout(r, 1000));
    const after = await server.metrics();
    // The first minute includes warm-up (allocator growth, JIT); the slope is taken after it.
    const steady = samples.filter((s) => s.seconds >= 60);
    const rssSlope =
      steady.length > 2
        ? slope(
            steady.map((s) => s.seconds / 60),
            steady.map((s) => s.rssMiB),
          )
        : Number.NaN;
    log('');
    log(`sessions completed: ${completed}, client errors: ${errors}`);
    log(`RSS slope after the first minute: ${round(rssSlope, 2)} MiB per minute (a leak shows as a steady positive slope)`);
    log(
      `after the load: ${after.get('asr_sessions_open') ?? '?'} sessions open, ${after.get('asr_recognizers') ?? '?'} recognizers allocated (both should be 0)`,
    );
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
