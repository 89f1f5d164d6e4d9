/** The `pnpm bench` section of BENCHMARKS.md, from what server-measures.ts measured. */
import { readFile, writeFile } from 'node:fs/promises';
import { FRAME_SECONDS } from './bench-audio.js';
import type { MachineFacts } from './machine-facts.js';
import { EVENT_LOOP_SAMPLING_MS, type FinalLatency, LATENCY_TARGET_MS, type RealtimeTrial, type ThroughputRow } from './server-measures.js';
import { median, percentile, round } from './stats.js';

export interface Capacity {
  capacity: number;
  atCapacity: RealtimeTrial | undefined;
}

export const ms = (n: number): string => `${round(n, 0)} ms`;

/** A capacity's figures at that load, in parentheses. */
export function capacityDetails({ atCapacity }: Capacity): string {
  return `(worst client p95 final latency ${atCapacity ? ms(atCapacity.worstClientP95FinalMs) : 'n/a'}; event-loop delay p99 ${atCapacity ? ms(atCapacity.eventLoopP99Ms) : 'n/a'}; /healthz p99 ${atCapacity ? ms(atCapacity.healthzP99Ms) : 'n/a'})`;
}

export interface BenchModel {
  name: string;
  tdnnfLayers: number;
}

export interface ModelFigures extends BenchModel {
  rows: ThroughputRow[];
  latency: FinalLatency[];
}

export interface HeavyFigures {
  memory: { idleMiB: number; perSessionMiB: number; sessions: number };
  capacity: Capacity;
  trials: RealtimeTrial[];
  half: { clients: number; partial: number[]; final: number[] };
}

export function markdown(
  facts: MachineFacts,
  models: ModelFigures[],
  repeats: number,
  heavy: HeavyFigures,
  audioSeconds: number,
  withBaseline: boolean,
): string {
  const spread = (v: number[]): string => `${round(percentile(v, 25), 2)}–${round(percentile(v, 75), 2)}`;
  const { memory: mem, capacity: manual, half } = heavy;
  const oneThread = (m: ModelFigures): number => m.rows.find((r) => r.clients === 1)?.raw ?? Number.NaN;
  const lines = [
    '<!-- server-bench:start (written by `pnpm bench`; edit bench/src/server-report.ts instead) -->',
    '## Server capacity against the raw libvosk limit',
    '',
    `Command: \`pnpm bench\` · ${facts.date} · ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGiB} GiB · Node ${facts.node} · libvosk ${facts.libvosk} · koffi ${facts.koffi} · load average at start ${facts.loadAverageAtStart.join(' ')}`,
    '',
    `Models: two generated tone models (TDNN-F-shaped, really computed), cn and en loaded: **heavy** (all 11 TDNN-F layers, 6.8 M parameters) and **lighter** (4 of them, about half the compute). One raw thread decodes ${models.map((m) => `${round(oneThread(m), 1)} audio s per s on the ${m.name} one`).join(' and ')}. Audio: ${round(audioSeconds, 1)} s of two-tone utterances with pauses, sent in ${FRAME_SECONDS * 1000} ms frames. The server runs in its own process; the load clients run in the benchmark process on the same cores. Decoding runs on the server's decode threads (one per core, ${facts.cores} here), each looping over its streams' queued audio.${withBaseline ? " *baseline*: the build given with `--baseline` (the previous design, a koffi async call per decode call on libuv's pool), measured in the same run, its runs alternating with this build's." : ''}`,
    '',
    '### Throughput (as fast as the server takes the audio)',
    '',
    '| model | clients / threads | design | raw libvosk (audio s per s) | server (audio s per s) | server / raw (median) | server / raw, middle half of runs | control: raw / raw, middle half | event-loop delay p99 (worst run) | /healthz median / p99 |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...models.flatMap((m) =>
      m.rows.map(
        (r) =>
          `| ${m.name} | ${r.clients} | ${r.design} | ${round(r.raw, 1)} | ${round(r.server, 1)} | **${round(r.ratio, 2)}** | ${spread(r.ratios)} | ${spread(r.rawOverRaw)} | ${ms(r.eventLoopP99Ms)} | ${ms(r.healthzMedianMs)} / ${ms(r.healthzP99Ms)} |`,
      ),
    ),
    '',
    '/healthz is polled every 100 ms by a separate process (started before the timed run).',
    '',
    `Raw: N worker threads each calling \`vosk_recognizer_accept_waveform\` (and \`partial_result\`) directly on the same audio in ${FRAME_SECONDS * 1000} ms chunks, no sockets or queues (more threads than cores share them as the kernel schedules them, each with its own copy of the model). Server: N WebSocket clients each sending the same audio in ${FRAME_SECONDS * 1000} ms frames as fast as the server takes it, then \`eof\`; wall time until the last \`eof_complete\`, from before the clients connect. The server runs with its per-client limits lifted (\`--max-buffered-audio 3600\`, \`--max-message-bytes 67108864\`, connection, session and message-rate limits): each client queues a whole file, which the defaults (20 s of queued audio) would refuse in part; a client with fewer finals than the audio has utterances, or with an error, stops the benchmark. The raw threads call libvosk every ${FRAME_SECONDS * 1000} ms and ask for a partial result after each chunk that ends no utterance; a backlogged server merges up to 0.5 s per call and skips partials while more audio waits, which is a little less work. Per N, ${repeats} server runs${withBaseline ? ' of each design' : ''} alternate with raw runs (raw, server, raw, ...); each server run is divided by the mean of the raw runs either side of it, and the table gives the median of those ratios with their interquartile range. The control column divides each raw run by the one before it: the same measurement against itself, so its spread is what this machine's noise alone produces. Event-loop delay: the server's p99 over the run (prom-client's monitor, less its ${EVENT_LOOP_SAMPLING_MS} ms sampling interval); the 8-client row is full load.`,
    '',
    '### Final latency after the decision frame',
    '',
    `From sending the frame that holds the endpoint (where libvosk reports it when fed 10 ms chunks) to receiving the final, every utterance of every client, clients streaming at real-time pace (one ${FRAME_SECONDS * 1000} ms frame per ${FRAME_SECONDS * 1000} ms, staggered).`,
    '',
    '| model | real-time streams | design | median | p95 | event-loop delay p99 |',
    '|---|---|---|---|---|---|',
    ...models.flatMap((m) =>
      m.latency.map(
        (l) =>
          `| ${m.name} | ${l.clients} | ${l.design} | ${round(median(l.finalMs), 1)} ms | ${round(percentile(l.finalMs, 95), 1)} ms | ${ms(l.eventLoopP99Ms)} |`,
      ),
    ),
    '',
    '### Real-time capacity (heavy model)',
    '',
    `A client count passes when every client gets every final and every client's 95th-percentile final latency is under ${LATENCY_TARGET_MS} ms.`,
    '',
    `- **Capacity: ${manual.capacity} concurrent real-time streams** ${capacityDetails(manual)}`,
    '',
    `### Latency at half capacity (${half.clients} clients, heavy model)`,
    '',
    '| | median | p95 |',
    '|---|---|---|',
    `| partial (tone onset to first partial with the word) | ${ms(median(half.partial))} | ${ms(percentile(half.partial, 95))} |`,
    `| final (endpoint to final) | ${ms(median(half.final))} | ${ms(percentile(half.final, 95))} |`,
    '',
    'The partial latency includes what the model needs to hear: at least 3 output frames of tone plus the network’s 25-frame (0.25 s) right context.',
    '',
    '### Memory (heavy model)',
    '',
    `- Server RSS with both heavy models loaded, idle: **${round(mem.idleMiB, 0)} MiB**`,
    `- Per open session (recognizer after 2 s of audio, measured over ${mem.sessions} sessions): **${round(mem.perSessionMiB, 2)} MiB**`,
    '',
    'Raw figures: `bench/results/server-bench.json`.',
    '<!-- server-bench:end -->',
  ];
  return lines.join('\n');
}

/** Replaces a benchmark's section of BENCHMARKS.md (between its markers), keeping whatever else the file holds. */
export async function writeSection(path: string, marker: string, section: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch(
    () => '# Benchmarks\n\nFigures measured in one run each on the machine named with them. Regenerate with the command shown.\n',
  );
  const pattern = new RegExp(`<!-- ${marker}:start[\\s\\S]*?<!-- ${marker}:end -->`, 'u');
  await writeFile(path, pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}\n`);
}
