/**
 * `pnpm bench`: the server's throughput against the raw libvosk limit on two generated models (heavy
 * and lighter), final latency at 1 and 2 real-time streams, and on the heavy model real-time
 * capacity and memory, in one run on this machine. `--baseline <dist/main.cjs>` measures another
 * build (e.g. main's) in the same run, alternating with this one; `--repeats N` sets the runs per row. Writes BENCHMARKS.md and bench/results/.
 * Not a test: figures are printed and recorded, never asserted.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { type BenchAudio, benchAudio } from './bench-audio.js';
import { finalLatencies, partialLatencies } from './load-client.js';
import { machineFacts } from './machine-facts.js';
import { rawLimit } from './raw-limit.js';
import {
  type FinalLatency,
  type RealtimeTrial,
  type ThroughputRow,
  finalLatency,
  log,
  memory,
  realtimeCapacity,
  realtimeTrial,
  throughput,
} from './server-measures.js';
import { type BenchModel, type HeavyFigures, type ModelFigures, markdown, writeSection } from './server-report.js';
import { ServerProcess } from './server-process.js';
import { round } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Streams per throughput row: 3 is uneven on 2 cores (a stream moves to a thread that ran dry). */
const THREADS = [1, 2, 3, 4, 8];
/** Real-time stream counts at which final latency is reported. */
const LATENCY_STREAMS = [1, 2];
/**
 * The two generated models: the heavy one (the small-model TDNN-F stack) and one with 4 of its 11
 * TDNN-F layers, which costs about half as much per audio second: the lighter the model, the more
 * any gap between two decode calls shows.
 */
const MODELS: readonly BenchModel[] = [
  { name: 'heavy', tdnnfLayers: 11 },
  { name: 'lighter', tdnnfLayers: 4 },
];
/**
 * Server runs per N, each bracketed by raw runs (raw, server, raw, server, ..., raw): this
 * machine's speed drifts by ±10% between consecutive identical runs, so one pair says little.
 */
const REPEATS = 7;
const quick = process.argv.includes('--quick');
const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** Another build's server (its dist/main.cjs), measured in the same run against this one. */
const baselineMain = option('--baseline');
const repeats = Number(option('--repeats') ?? (quick ? 1 : REPEATS));

async function main(): Promise<void> {
  const facts = machineFacts();
  log(`machine: ${JSON.stringify(facts)}`);
  const dir = await mkdtemp(join(tmpdir(), 'asr-bench-'));
  const throughputAudio = benchAudio(quick ? 6 : 20);
  const realtimeAudio = benchAudio(quick ? 4 : 7);
  const threads = quick ? [1, 2] : THREADS;
  const models: ModelFigures[] = [];
  let heavyOnly: HeavyFigures | undefined;
  try {
    for (const model of MODELS) {
      const cn = join(dir, `tone-cn-${model.name}`);
      const en = join(dir, `tone-en-${model.name}`);
      await writeToneModel(cn, { words: toneWordsFor('cn'), heavy: true, tdnnfLayers: model.tdnnfLayers });
      await writeToneModel(en, { words: toneWordsFor('en'), heavy: true, tdnnfLayers: model.tdnnfLayers });
      log(`${model.name} model: reference endpoints (1 thread, 10 ms chunks)`);
      const reference = await rawLimit(en, throughputAudio.pcm, 1, 0.01);
      const endpoints = reference.endpoints.slice(0, realtimeAudio.onsets.length);
      if (reference.endpoints.length !== throughputAudio.onsets.length)
        throw new Error(`reference decode found ${reference.endpoints.length} utterances, expected ${throughputAudio.onsets.length}`);
      const servers = [{ design: 'this build', server: await ServerProcess.start({ cn, en }, 'en') }];
      if (baselineMain) servers.push({ design: 'baseline', server: await ServerProcess.start({ cn, en }, 'en', 'bench', baselineMain) });
      try {
        const rows: ThroughputRow[] = [];
        for (const n of threads) rows.push(...(await throughput(servers, en, throughputAudio, n, repeats)));
        const latency: FinalLatency[] = [];
        for (const n of LATENCY_STREAMS) latency.push(...(await finalLatency(servers, realtimeAudio, endpoints, n)));
        models.push({ ...model, rows, latency });
        if (model === MODELS[0]) heavyOnly = await heavyFigures(servers[0]!.server, throughputAudio, realtimeAudio, endpoints);
      } finally {
        for (const { server } of servers) await server.stop();
      }
    }
    const section = markdown(facts, models, repeats, heavyOnly!, throughputAudio.seconds, baselineMain !== undefined);
    process.stdout.write(`${section}\n`);
    if (!quick) {
      await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
      const strip = (t: RealtimeTrial): Omit<RealtimeTrial, 'records'> => ({ ...t, records: undefined }) as Omit<RealtimeTrial, 'records'>;
      const h = heavyOnly!;
      await writeFile(
        join(ROOT, 'bench', 'results', 'server-bench.json'),
        `${JSON.stringify({ facts, repeats, models, capacity: h.capacity.capacity, trials: h.trials.map(strip), halfCapacity: { clients: h.half.clients, partialMs: h.half.partial, finalMs: h.half.final }, memory: h.memory }, null, 2)}\n`,
      );
      await writeSection(join(ROOT, 'BENCHMARKS.md'), 'server-bench', section);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Real-time capacity, latency at half of it, and memory: on the heavy model and this build only. */
async function heavyFigures(
  server: ServerProcess,
  throughputAudio: BenchAudio,
  realtimeAudio: BenchAudio,
  endpoints: number[],
): Promise<HeavyFigures> {
  const mem = await memory(server, throughputAudio, quick);
  log(`  memory: idle ${round(mem.idleMiB, 0)} MiB, ${round(mem.perSessionMiB, 2)} MiB per session`);
  const { capacity, atCapacity, trials } = await realtimeCapacity(server, server.url, realtimeAudio, endpoints, quick);
  const halfClients = Math.max(1, Math.floor(capacity / 2));
  const halfTrial = await realtimeTrial(server, server.url, realtimeAudio, endpoints, halfClients);
  const half = {
    clients: halfClients,
    partial: halfTrial.records.flatMap((r) => partialLatencies(r, realtimeAudio.onsets)),
    final: halfTrial.records.flatMap((r) => finalLatencies(r, endpoints)),
  };
  return { memory: mem, capacity: { capacity, atCapacity }, trials, half };
}

await main();
