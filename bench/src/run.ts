/**
 * `pnpm bench`: the server's throughput and real-time capacity against the raw libvosk limit, on
 * the heavy tone model, in one run on this machine. Writes BENCHMARKS.md and bench/results/.
 * Not a test: figures are printed and recorded, never asserted.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { type BenchAudio, FRAME_SECONDS, benchAudio } from './bench-audio.js';
import { type StreamRecord, finalLatencies, partialLatencies, streamAudio } from './load-client.js';
import { type MachineFacts, machineFacts } from './machine-facts.js';
import { rawLimit } from './raw-limit.js';
import { ServerProcess } from './server-process.js';
import { median, percentile, round } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const THREADS = [1, 2, 4, 8];
/**
 * Server runs per N, each bracketed by raw runs (raw, server, raw, server, ..., raw): this
 * machine's speed drifts by ±10% between consecutive identical runs, so one pair says little.
 */
const REPEATS = 7;
const LATENCY_TARGET_MS = 500;
const quick = process.argv.includes('--quick');

interface ThroughputRow {
  clients: number;
  /** Medians over the runs. */
  raw: number;
  server: number;
  /** Median of the bracketed ratios: each server run over the mean of the raw runs either side. */
  ratio: number;
  ratios: number[];
  /** Control: each raw run over the raw run before it; its spread is the machine's own noise. */
  rawOverRaw: number[];
  /** The worst of the runs. */
  eventLoopP99Ms: number;
  healthzMedianMs: number;
  healthzP99Ms: number;
}

interface RealtimeTrial {
  clients: number;
  pass: boolean;
  worstClientP95FinalMs: number;
  missingFinals: number;
  errors: number;
  eventLoopP99Ms: number;
  healthzP99Ms: number;
  records: StreamRecord[];
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Runs `load` while another process polls /healthz every 100 ms; the poller is started and warm
 * before `load` begins. Returns the load's value and the response times in ms.
 */
async function withHealthzPoller<T>(server: ServerProcess, load: () => Promise<T>): Promise<{ value: T; times: number[] }> {
  const poller = spawn(process.execPath, [fileURLToPath(new URL('./healthz-poller.js', import.meta.url)), `${server.httpUrl}/healthz`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  poller.stdout.on('data', (d: Buffer) => (output += d.toString()));
  await once(poller.stderr, 'data');
  const value = await load();
  poller.stdin.end();
  await once(poller, 'exit');
  return { value, times: JSON.parse(output) as number[] };
}

/** prom-client samples the event loop with a 10 ms timer and its histogram includes that interval. */
const EVENT_LOOP_SAMPLING_MS = 10;

/** p99 event-loop delay since the last scrape, beyond the sampling interval (an idle loop reads ~0.6 ms). */
async function eventLoopP99Ms(server: ServerProcess): Promise<number> {
  const p99 = ((await server.metrics()).get('nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000;
  return Math.max(0, p99 - EVENT_LOOP_SAMPLING_MS);
}

async function serverRun(
  server: ServerProcess,
  audio: BenchAudio,
  clients: number,
): Promise<{ throughput: number; loopMs: number; healthz: number[] }> {
  const { value: wall, times } = await withHealthzPoller(server, async () => {
    await server.metrics(); // resets the event-loop histogram
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, () => streamAudio({ url: server.url, frames: audio.frames, pace: 'max' })));
    return (performance.now() - started) / 1000;
  });
  return { throughput: (clients * audio.seconds) / wall, loopMs: await eventLoopP99Ms(server), healthz: times };
}

/**
 * Raw and server runs alternated and each server run compared with the raw runs either side of
 * it, so slow drift of the machine cancels; raw against raw is the control.
 */
async function throughput(
  server: ServerProcess,
  model: string,
  audio: BenchAudio,
  clients: number,
  repeats: number,
): Promise<ThroughputRow> {
  const raw = async (): Promise<number> => (await rawLimit(model, audio.pcm, clients, FRAME_SECONDS)).throughput;
  const raws = [await raw()];
  const servers: number[] = [];
  const ratios: number[] = [];
  const loops: number[] = [];
  const healthz: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const run = await serverRun(server, audio, clients);
    raws.push(await raw());
    const bracket = (raws.at(-2)! + raws.at(-1)!) / 2;
    servers.push(run.throughput);
    ratios.push(run.throughput / bracket);
    loops.push(run.loopMs);
    healthz.push(...run.healthz);
    log(
      `  ${clients} streams, run ${i + 1}: server ${round(run.throughput, 1)} audio s per s, raw either side ${round(raws.at(-2)!, 1)} and ${round(raws.at(-1)!, 1)} (${round(ratios.at(-1)!, 2)}), event-loop p99 ${round(run.loopMs, 1)} ms`,
    );
  }
  return {
    clients,
    raw: median(raws),
    server: median(servers),
    ratio: median(ratios),
    ratios,
    rawOverRaw: raws.slice(1).map((v, i) => v / raws[i]!),
    eventLoopP99Ms: Math.max(...loops),
    healthzMedianMs: median(healthz),
    healthzP99Ms: percentile(healthz, 99),
  };
}

async function realtimeTrial(server: ServerProcess, audio: BenchAudio, endpoints: number[], clients: number): Promise<RealtimeTrial> {
  const stagger = (FRAME_SECONDS * 1000) / clients;
  const { value: outcomes, times } = await withHealthzPoller(server, async () => {
    await server.metrics(); // resets the event-loop histogram
    return Promise.allSettled(
      Array.from({ length: clients }, (_, i) =>
        streamAudio({ url: server.url, frames: audio.frames, pace: 'realtime', offsetMs: i * stagger, timeoutMs: 30_000 }),
      ),
    );
  });
  const loop = await eventLoopP99Ms(server);
  const records = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const failures = outcomes.length - records.length;
  const expected = endpoints.length;
  const missingFinals = records.reduce((n, r) => n + Math.max(0, expected - r.finals.length), 0) + failures * expected;
  const errors = records.reduce((n, r) => n + r.errors.length, 0) + failures;
  const worst = Math.max(...records.map((r) => percentile(finalLatencies(r, endpoints), 95)));
  const pass = failures === 0 && missingFinals === 0 && errors === 0 && worst < LATENCY_TARGET_MS;
  log(
    `  realtime ${clients} clients: worst client p95 final latency ${round(worst, 0)} ms, missing finals ${missingFinals}, errors ${errors} -> ${pass ? 'pass' : 'fail'}`,
  );
  return {
    clients,
    pass,
    worstClientP95FinalMs: worst,
    missingFinals,
    errors,
    eventLoopP99Ms: loop,
    healthzP99Ms: percentile(times, 99),
    records,
  };
}

/** The largest client count whose every client keeps p95 final latency under the target. */
async function realtimeCapacity(
  server: ServerProcess,
  audio: BenchAudio,
  endpoints: number[],
): Promise<{ capacity: number; atCapacity: RealtimeTrial | undefined; trials: RealtimeTrial[] }> {
  const trials: RealtimeTrial[] = [];
  const trial = async (n: number): Promise<RealtimeTrial> => {
    const t = await realtimeTrial(server, audio, endpoints, n);
    trials.push(t);
    return t;
  };
  let lo = 0;
  let hi = 0;
  for (let n = quick ? 2 : 8; n <= 512; n *= 2) {
    if ((await trial(n)).pass) lo = n;
    else {
      hi = n;
      break;
    }
  }
  if (hi === 0) hi = lo * 2;
  if (lo === 0) {
    for (let n = Math.floor(hi / 2); n >= 1 && lo === 0; n = Math.floor(n / 2)) if ((await trial(n)).pass) lo = n;
    hi = Math.min(hi, lo * 2);
  }
  while (lo > 0 && hi - lo > Math.max(1, Math.round(lo * 0.08))) {
    const mid = Math.round((lo + hi) / 2);
    if ((await trial(mid)).pass) lo = mid;
    else hi = mid;
  }
  const atCapacity = trials.filter((t) => t.clients === lo && t.pass).at(-1);
  return { capacity: lo, atCapacity, trials };
}

async function memory(server: ServerProcess, audio: BenchAudio): Promise<{ idleMiB: number; perSessionMiB: number; sessions: number }> {
  const sessions = quick ? 10 : 50;
  const idleMiB = await server.rssMiB();
  // Each client streams 2 s, gets eof_complete, then holds its session open until RSS is read.
  let holding = 0;
  let allHolding: () => void = () => undefined;
  let release: () => void = () => undefined;
  const everyoneHolds = new Promise<void>((resolve) => (allHolding = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const streams = Array.from({ length: sessions }, () =>
    streamAudio({
      url: server.url,
      frames: audio.frames.slice(0, 20),
      pace: 'max',
      beforeClose: async () => {
        if (++holding === sessions) allHolding();
        await released;
      },
    }),
  );
  await everyoneHolds;
  const loadedMiB = await server.rssMiB();
  release();
  await Promise.all(streams);
  return { idleMiB, perSessionMiB: (loadedMiB - idleMiB) / sessions, sessions };
}

function markdown(
  facts: MachineFacts,
  rows: ThroughputRow[],
  repeats: number,
  capacity: number,
  atCapacity: RealtimeTrial | undefined,
  half: { clients: number; partial: number[]; final: number[] },
  mem: { idleMiB: number; perSessionMiB: number; sessions: number },
  audioSeconds: number,
): string {
  const ms = (n: number): string => `${round(n, 0)} ms`;
  const spread = (v: number[]): string => `${round(percentile(v, 25), 2)}–${round(percentile(v, 75), 2)}`;
  const lines = [
    '<!-- server-bench:start (written by `pnpm bench`; edit bench/src/run.ts instead) -->',
    '## Server capacity against the raw libvosk limit',
    '',
    `Command: \`pnpm bench\` · ${facts.date} · ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGiB} GiB · Node ${facts.node} · libvosk ${facts.libvosk} · koffi ${facts.koffi} · load average at start ${facts.loadAverageAtStart.join(' ')}`,
    '',
    `Model: the heavy generated tone model (TDNN-F-shaped, 6.8 M parameters, really computed), cn and en loaded. Audio: ${round(audioSeconds, 1)} s of two-tone utterances with pauses, sent in ${FRAME_SECONDS * 1000} ms frames. The server runs in its own process; the load clients run in the benchmark process on the same cores.`,
    '',
    '### Throughput (as fast as the server takes the audio)',
    '',
    '| clients / threads | raw libvosk (audio s per s) | server (audio s per s) | server / raw (median) | server / raw, middle half of runs | control: raw / raw, middle half | event-loop delay p99 (worst run) | /healthz median / p99 |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.clients} | ${round(r.raw, 1)} | ${round(r.server, 1)} | **${round(r.ratio, 2)}** | ${spread(r.ratios)} | ${spread(r.rawOverRaw)} | ${ms(r.eventLoopP99Ms)} | ${ms(r.healthzMedianMs)} / ${ms(r.healthzP99Ms)} |`,
    ),
    '',
    '/healthz is polled every 100 ms by a separate process (started before the timed run).',
    '',
    `Raw: N worker threads each calling \`vosk_recognizer_accept_waveform\` (and \`partial_result\`) directly on the same audio in ${FRAME_SECONDS * 1000} ms chunks, no sockets or queues. Server: N WebSocket clients each sending the same audio in ${FRAME_SECONDS * 1000} ms frames as fast as the server takes it, then \`eof\`; wall time until the last \`eof_complete\`. Per N, ${repeats} server runs alternate with ${repeats + 1} raw runs (raw, server, raw, ...); each server run is divided by the mean of the raw runs either side of it, and the table gives the median of those ratios with their interquartile range. The control column divides each raw run by the one before it: the same measurement against itself, so its spread is what this machine's noise alone produces. Event-loop delay: the server's p99 over the run (prom-client's monitor, less its ${EVENT_LOOP_SAMPLING_MS} ms sampling interval). Decoding runs on libuv's thread pool, sized to the cores (${facts.cores} threads here). One raw thread decodes ${round(rows[0]!.raw, 1)} audio s per s: a real-time factor of ${round(1 / rows[0]!.raw, 3)} per core.`,
    '',
    '### Real-time capacity',
    '',
    `Clients streaming at real-time pace (one ${FRAME_SECONDS * 1000} ms frame per ${FRAME_SECONDS * 1000} ms, staggered). A client count passes when every client gets every final and every client's 95th-percentile final latency is under ${LATENCY_TARGET_MS} ms. Final latency: from sending the frame that holds the endpoint (where libvosk reports it when fed 10 ms chunks) to receiving the final.`,
    '',
    `- **Capacity: ${capacity} concurrent real-time streams** (worst client p95 final latency ${atCapacity ? ms(atCapacity.worstClientP95FinalMs) : 'n/a'}; event-loop delay p99 ${atCapacity ? ms(atCapacity.eventLoopP99Ms) : 'n/a'}; /healthz p99 ${atCapacity ? ms(atCapacity.healthzP99Ms) : 'n/a'})`,
    '',
    `### Latency at half capacity (${half.clients} clients)`,
    '',
    '| | median | p95 |',
    '|---|---|---|',
    `| partial (tone onset to first partial with the word) | ${ms(median(half.partial))} | ${ms(percentile(half.partial, 95))} |`,
    `| final (endpoint to final) | ${ms(median(half.final))} | ${ms(percentile(half.final, 95))} |`,
    '',
    'The partial latency includes what the model needs to hear: at least 3 output frames of tone plus the network’s 25-frame (0.25 s) right context.',
    '',
    '### Memory',
    '',
    `- Server RSS with both heavy models loaded, idle: **${round(mem.idleMiB, 0)} MiB**`,
    `- Per open session (recognizer after 2 s of audio, measured over ${mem.sessions} sessions): **${round(mem.perSessionMiB, 2)} MiB**`,
    '',
    'Raw figures: `bench/results/server-bench.json`.',
    '<!-- server-bench:end -->',
  ];
  return lines.join('\n');
}

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
    const mem = await memory(server, throughputAudio);
    log(`  memory: idle ${round(mem.idleMiB, 0)} MiB, ${round(mem.perSessionMiB, 2)} MiB per session`);
    const rows: ThroughputRow[] = [];
    for (const n of threads) rows.push(await throughput(server, en, throughputAudio, n, repeats));
    const { capacity, atCapacity, trials } = await realtimeCapacity(server, realtimeAudio, endpoints);
    const halfClients = Math.max(1, Math.floor(capacity / 2));
    const halfTrial = await realtimeTrial(server, realtimeAudio, endpoints, halfClients);
    const half = {
      clients: halfClients,
      partial: halfTrial.records.flatMap((r) => partialLatencies(r, realtimeAudio.onsets)),
      final: halfTrial.records.flatMap((r) => finalLatencies(r, endpoints)),
    };
    const section = markdown(facts, rows, repeats, capacity, atCapacity, half, mem, throughputAudio.seconds);
    process.stdout.write(`${section}\n`);
    if (!quick) {
      await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
      const strip = (t: RealtimeTrial): Omit<RealtimeTrial, 'records'> => ({ ...t, records: undefined }) as Omit<RealtimeTrial, 'records'>;
      await writeFile(
        join(ROOT, 'bench', 'results', 'server-bench.json'),
        `${JSON.stringify({ facts, throughput: rows, capacity, trials: trials.map(strip), halfCapacity: { clients: halfClients, partialMs: half.partial, finalMs: half.final }, memory: mem }, null, 2)}\n`,
      );
      await writeSection(join(ROOT, 'BENCHMARKS.md'), section);
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Replaces this benchmark's section of BENCHMARKS.md, keeping whatever else the file holds. */
async function writeSection(path: string, section: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch(
    () => '# Benchmarks\n\nFigures measured in one run each on the machine named with them. Regenerate with the command shown.\n',
  );
  const pattern = /<!-- server-bench:start[\s\S]*?<!-- server-bench:end -->/u;
  await writeFile(path, pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}\n`);
}

await main();
