/**
 * `pnpm bench`: the server's throughput and real-time capacity against the raw libvosk limit, on
 * the heavy tone model, in one run on this machine. Writes BENCHMARKS.md and bench/results/.
 * Not a test: figures are printed and recorded, never asserted.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { benchAudio } from './bench-audio.js';
import { finalLatencies, partialLatencies } from './load-client.js';
import { machineFacts } from './machine-facts.js';
import { rawLimit } from './raw-limit.js';
import { type RealtimeTrial, type ThroughputRow, log, memory, realtimeCapacity, realtimeTrial, throughput } from './server-measures.js';
import { markdown, writeSection } from './server-report.js';
import { ServerProcess } from './server-process.js';
import { round } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const THREADS = [1, 2, 4, 8];
/**
 * Server runs per N, each bracketed by raw runs (raw, server, raw, server, ..., raw): this
 * machine's speed drifts by ±10% between consecutive identical runs, so one pair says little.
 */
const REPEATS = 7;
const quick = process.argv.includes('--quick');

async function main(): Promise<void> {
  const facts = machineFacts();
  log(`machine: ${JSON.stringify(facts)}`);
  const dir = await mkdtemp(join(tmpdir(), 'asr-bench-'));
  const cn = join(dir, 'tone-cn-heavy');
  const en = join(dir, 'tone-en-heavy');
  await writeToneModel(cn, { words: toneWordsFor('cn'), heavy: true });
  await writeToneModel(en, { words: toneWordsFor('en'), heavy: true });
  const throughputAudio = benchAudio(quick ? 6 : 20);
  const realtimeAudio = benchAudio(quick ? 4 : 7);

  log('reference endpoints (1 thread, 10 ms chunks)');
  const reference = await rawLimit(en, throughputAudio.pcm, 1, 0.01);
  const endpoints = reference.endpoints.slice(0, realtimeAudio.onsets.length);
  if (reference.endpoints.length !== throughputAudio.onsets.length)
    throw new Error(`reference decode found ${reference.endpoints.length} utterances, expected ${throughputAudio.onsets.length}`);

  const threads = quick ? [1, 2] : THREADS;
  const repeats = quick ? 1 : REPEATS;
  const server = await ServerProcess.start({ cn, en }, 'en');
  try {
    const mem = await memory(server, throughputAudio, quick);
    log(`  memory: idle ${round(mem.idleMiB, 0)} MiB, ${round(mem.perSessionMiB, 2)} MiB per session`);
    const rows: ThroughputRow[] = [];
    for (const n of threads) rows.push(await throughput(server, en, throughputAudio, n, repeats));
    const { capacity, atCapacity, trials } = await realtimeCapacity(server, server.url, realtimeAudio, endpoints, quick);
    const halfClients = Math.max(1, Math.floor(capacity / 2));
    const halfTrial = await realtimeTrial(server, server.url, realtimeAudio, endpoints, halfClients);
    const half = {
      clients: halfClients,
      partial: halfTrial.records.flatMap((r) => partialLatencies(r, realtimeAudio.onsets)),
      final: halfTrial.records.flatMap((r) => finalLatencies(r, endpoints)),
    };
    const section = markdown(facts, rows, repeats, { capacity, atCapacity }, half, mem, throughputAudio.seconds);
    process.stdout.write(`${section}\n`);
    if (!quick) {
      await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
      const strip = (t: RealtimeTrial): Omit<RealtimeTrial, 'records'> => ({ ...t, records: undefined }) as Omit<RealtimeTrial, 'records'>;
      await writeFile(
        join(ROOT, 'bench', 'results', 'server-bench.json'),
        `${JSON.stringify({ facts, throughput: rows, capacity, trials: trials.map(strip), halfCapacity: { clients: halfClients, partialMs: half.partial, finalMs: half.final }, memory: mem }, null, 2)}\n`,
      );
      await writeSection(join(ROOT, 'BENCHMARKS.md'), 'server-bench', section);
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
