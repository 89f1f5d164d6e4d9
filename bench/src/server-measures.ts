/**
 * What `pnpm bench` measures of a running server: throughput against the raw libvosk limit,
 * real-time capacity and latency, memory. Reporting is in server-report.ts.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type BenchAudio, FRAME_SECONDS } from './bench-audio.js';
import { type StreamRecord, finalLatencies, streamAudio } from './load-client.js';
import { rawLimit } from './raw-limit.js';
import type { ServerProcess } from './server-process.js';
import { median, percentile, round } from './stats.js';

export const LATENCY_TARGET_MS = 500;
/** prom-client samples the event loop with a 10 ms timer and its histogram includes that interval. */
export const EVENT_LOOP_SAMPLING_MS = 10;

export interface ThroughputRow {
  /** Which server design: this build's, or the baseline's. */
  design: string;
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

export interface RealtimeTrial {
  clients: number;
  pass: boolean;
  worstClientP95FinalMs: number;
  missingFinals: number;
  errors: number;
  eventLoopP99Ms: number;
  healthzP99Ms: number;
  records: StreamRecord[];
}

export const log = (line: string): void => void process.stderr.write(`${line}\n`);

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
    const records = await Promise.all(
      Array.from({ length: clients }, () => streamAudio({ url: server.url, frames: audio.frames, pace: 'max' })),
    );
    const wall = (performance.now() - started) / 1000;
    // Audio dropped (a limit, an error) would be counted as decoded, and faster than libvosk itself.
    for (const [i, r] of records.entries())
      if (r.errors.length > 0 || r.finals.length !== audio.onsets.length)
        throw new Error(
          `throughput run, client ${i + 1} of ${clients}: ${r.finals.length} of ${audio.onsets.length} finals, errors: ${r.errors.join('; ') || 'none'}`,
        );
    return wall;
  });
  return { throughput: (clients * audio.seconds) / wall, loopMs: await eventLoopP99Ms(server), healthz: times };
}

/**
 * Raw and server runs alternated and each server run compared with the raw runs either side of
 * it, so slow drift of the machine cancels; raw against raw is the control. With several servers
 * (designs), they take turns between the raw runs: raw, A, raw, B, raw, A, ...
 */
export async function throughput(
  servers: ReadonlyArray<{ design: string; server: ServerProcess }>,
  model: string,
  audio: BenchAudio,
  clients: number,
  repeats: number,
): Promise<ThroughputRow[]> {
  const raw = async (): Promise<number> => (await rawLimit(model, audio.pcm, clients, FRAME_SECONDS)).throughput;
  const raws = [await raw()];
  const runs = servers.map(() => ({ servers: [] as number[], ratios: [] as number[], loops: [] as number[], healthz: [] as number[] }));
  for (let i = 0; i < repeats; i++) {
    for (const [k, { design, server }] of servers.entries()) {
      const run = await serverRun(server, audio, clients);
      raws.push(await raw());
      const bracket = (raws.at(-2)! + raws.at(-1)!) / 2;
      const r = runs[k]!;
      r.servers.push(run.throughput);
      r.ratios.push(run.throughput / bracket);
      r.loops.push(run.loopMs);
      r.healthz.push(...run.healthz);
      log(
        `  ${design}, ${clients} streams, run ${i + 1}: server ${round(run.throughput, 1)} audio s per s, raw either side ${round(raws.at(-2)!, 1)} and ${round(raws.at(-1)!, 1)} (${round(r.ratios.at(-1)!, 2)}), event-loop p99 ${round(run.loopMs, 1)} ms`,
      );
    }
  }
  const rawOverRaw = raws.slice(1).map((v, i) => v / raws[i]!);
  return servers.map(({ design }, k) => {
    const r = runs[k]!;
    return {
      design,
      clients,
      raw: median(raws),
      server: median(r.servers),
      ratio: median(r.ratios),
      ratios: r.ratios,
      rawOverRaw,
      eventLoopP99Ms: Math.max(...r.loops),
      healthzMedianMs: median(r.healthz),
      healthzP99Ms: percentile(r.healthz, 99),
    };
  });
}

export interface FinalLatency {
  design: string;
  clients: number;
  /** Every final's latency after the frame holding libvosk's decision (10 ms chunks), in ms. */
  finalMs: number[];
  eventLoopP99Ms: number;
}

/** Final latency after the decision frame with `clients` real-time streams, each design in turn. */
export async function finalLatency(
  servers: ReadonlyArray<{ design: string; server: ServerProcess }>,
  audio: BenchAudio,
  endpoints: number[],
  clients: number,
): Promise<FinalLatency[]> {
  const results: FinalLatency[] = [];
  for (const { design, server } of servers) {
    const trial = await realtimeTrial(server, server.url, audio, endpoints, clients);
    const finalMs = trial.records.flatMap((r) => finalLatencies(r, endpoints));
    log(
      `  ${design}, ${clients} real-time streams: final latency median ${round(median(finalMs), 1)} ms, p95 ${round(percentile(finalMs, 95), 1)} ms`,
    );
    results.push({ design, clients, finalMs, eventLoopP99Ms: trial.eventLoopP99Ms });
  }
  return results;
}

/** `clients` real-time streams to `url` (the server's own, or with `?language=auto`), staggered across a frame. */
export async function realtimeTrial(
  server: ServerProcess,
  url: string,
  audio: BenchAudio,
  endpoints: number[],
  clients: number,
): Promise<RealtimeTrial> {
  const stagger = (FRAME_SECONDS * 1000) / clients;
  const { value: outcomes, times } = await withHealthzPoller(server, async () => {
    await server.metrics(); // resets the event-loop histogram
    return Promise.allSettled(
      Array.from({ length: clients }, (_, i) =>
        streamAudio({ url, frames: audio.frames, pace: 'realtime', offsetMs: i * stagger, timeoutMs: 30_000 }),
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
export async function realtimeCapacity(
  server: ServerProcess,
  url: string,
  audio: BenchAudio,
  endpoints: number[],
  quick: boolean,
): Promise<{ capacity: number; atCapacity: RealtimeTrial | undefined; trials: RealtimeTrial[] }> {
  const trials: RealtimeTrial[] = [];
  const trial = async (n: number): Promise<RealtimeTrial> => {
    const t = await realtimeTrial(server, url, audio, endpoints, n);
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

export async function memory(
  server: ServerProcess,
  audio: BenchAudio,
  quick: boolean,
): Promise<{ idleMiB: number; perSessionMiB: number; sessions: number }> {
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
