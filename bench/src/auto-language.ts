/**
 * `pnpm bench:auto`: real-time capacity with automatic language (every stream decoded by both
 * languages' models) next to a set language, on the heavy tone models, in one run. Capacity is
 * searched for a set language, then automatic, then a set language again, so a drift of the
 * machine during the run shows. Writes its section of BENCHMARKS.md. Figures only, never asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { FRAME_SECONDS, benchAudio } from './bench-audio.js';
import { type MachineFacts, machineFacts } from './machine-facts.js';
import { rawLimit } from './raw-limit.js';
import { LATENCY_TARGET_MS, log, realtimeCapacity } from './server-measures.js';
import { type Capacity, capacityDetails, writeSection } from './server-report.js';
import { ServerProcess } from './server-process.js';
import { round } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function markdown(facts: MachineFacts, manual: [Capacity, Capacity], auto: Capacity, audioSeconds: number): string {
  const set = Math.max(1, (manual[0].capacity + manual[1].capacity) / 2);
  return [
    '<!-- auto-language:start (written by `pnpm bench:auto`; edit bench/src/auto-language.ts instead) -->',
    '## Automatic language: capacity against a set language',
    '',
    `Command: \`pnpm bench:auto\` · ${facts.date} · ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGiB} GiB · Node ${facts.node} · load average at start ${facts.loadAverageAtStart.join(' ')}`,
    '',
    `The heavy generated tone models, cn and en loaded; ${round(audioSeconds, 1)} s of two-tone utterances per client, at real-time pace in ${FRAME_SECONDS * 1000} ms frames, staggered. A client count passes when every client gets every final with every client's p95 final latency under ${LATENCY_TARGET_MS} ms (as in the section above). Searched in this order in one run: set language, automatic, set language again.`,
    '',
    '| | real-time streams at capacity | at that load |',
    '|---|---|---|',
    `| set language (\`?language=en\`), first search | **${manual[0].capacity}** | ${capacityDetails(manual[0])} |`,
    `| automatic language (\`?language=auto\`) | **${auto.capacity}** | ${capacityDetails(auto)} |`,
    `| set language, second search | **${manual[1].capacity}** | ${capacityDetails(manual[1])} |`,
    '',
    `Automatic language holds **${round(auto.capacity / set, 2)}** of the streams a set language holds (against the mean of the two searches): each automatic stream is decoded by both models, so about half is what the design predicts. No shortcut (decoding the other language less often) is offered: none was measured to keep accuracy.`,
    '<!-- auto-language:end -->',
  ].join('\n');
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const facts = machineFacts();
  log(`machine: ${JSON.stringify(facts)}`);
  const dir = await mkdtemp(join(tmpdir(), 'asr-bench-auto-'));
  const cn = join(dir, 'tone-cn-heavy');
  const en = join(dir, 'tone-en-heavy');
  await writeToneModel(cn, { words: toneWordsFor('cn'), heavy: true });
  await writeToneModel(en, { words: toneWordsFor('en'), heavy: true });
  const audio = benchAudio(quick ? 4 : 7);
  const reference = await rawLimit(en, audio.pcm, 1, 0.01);
  const server = await ServerProcess.start({ cn, en }, 'en');
  try {
    const capacity = async (url: string): Promise<Capacity> => {
      log(url);
      const { capacity: n, atCapacity } = await realtimeCapacity(server, url, audio, reference.endpoints, quick);
      return { capacity: n, atCapacity };
    };
    const first = await capacity(`${server.url}?language=en`);
    const auto = await capacity(`${server.url}?language=auto`);
    const second = await capacity(`${server.url}?language=en`);
    const section = markdown(facts, [first, second], auto, audio.seconds);
    process.stdout.write(`${section}\n`);
    if (!quick) await writeSection(join(ROOT, 'BENCHMARKS.md'), 'auto-language', section);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
