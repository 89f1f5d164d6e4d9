/**
 * `pnpm bench:attacks`: the attacks of issue 15 against a server with its default limits (its own
 * process, heavy tone models), each for a few seconds, while a legitimate client transcribes a
 * clip again and again and /healthz is polled. Prints, per attack: the legitimate client's
 * transcript latency (connect to final, median and worst), /healthz failures, the server's peak
 * RSS, and the time from the attack's end until a transcript is back under twice the quiet median.
 * Writes them to BENCHMARKS.md. Not a test: figures are printed, not asserted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { lowHighClip, pcmBytes, toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { AsrctlClient } from '@asrctl/server';
import { machineFacts } from './machine-facts.js';
import { ServerProcess } from './server-process.js';
import { median, round } from './stats.js';

const ATTACK_SECONDS = 8;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const log = (line: string): void => void process.stdout.write(`${line}\n`);

/** One masked client frame (opcode 1 text, 2 binary). */
function frame(opcode: 1 | 2, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const n = data.length;
  const header = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n]) : Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff]);
  const mask = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

/** A raw WebSocket: the handshake by hand; then it reads (and discards) its replies, or never reads. */
function rawSocket(port: number, path: string, options: { read: boolean; from?: string }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ...(options.from && { localAddress: options.from }) }, () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      ),
    );
    socket.on('error', () => undefined);
    socket.once('data', (head: Buffer) => {
      if (!head.toString('latin1').startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(head.toString('latin1').split('\r\n')[0]));
        return;
      }
      if (options.read) socket.on('data', () => undefined);
      else socket.pause();
      resolve(socket);
    });
    socket.once('close', () => reject(new Error('closed before the upgrade')));
  });
}

/** An attack: started, it runs until `stop` is called, which destroys its sockets. */
type Attack = (port: number) => { stop(): void };

/** Repeats `round` (which opens sockets and floods) until stopped; destroys what is left. */
function repeat(round: (sockets: Set<Socket>) => Promise<void>): { stop(): void } {
  const sockets = new Set<Socket>();
  let running = true;
  void (async () => {
    while (running) {
      await round(sockets).catch(() => undefined);
      await sleep(10);
    }
  })();
  return {
    stop() {
      running = false;
      for (const s of sockets) s.destroy();
    },
  };
}

const keep = (sockets: Set<Socket>, s: Socket): Socket => {
  sockets.add(s);
  s.once('close', () => sockets.delete(s));
  return s;
};

const ATTACKS: Array<{ name: string; finding: string; run: Attack }> = [
  {
    name: 'upgrades with request-targets URL() rejects (`GET //[`, ...)',
    finding: '1',
    run: (port) =>
      repeat(async (sockets) => {
        for (const target of ['//[', 'http://a:-1/', '//%', '//x:99999', '//ab:c/']) {
          const s = keep(sockets, connect(port, '127.0.0.1'));
          s.on('error', () => undefined);
          s.on('data', () => undefined);
          s.end(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
        }
        await sleep(5);
      }),
  },
  {
    name: 'clients that never read, flooding `{` frames (own protocol) and FunASR messages with a 60 kB wav_name',
    finding: '2',
    run: (port) =>
      repeat(async (sockets) => {
        const own = keep(sockets, await rawSocket(port, '/', { read: false }));
        own.write(Buffer.concat(Array.from({ length: 20_000 }, () => frame(1, '{'))));
        const funasr = keep(sockets, await rawSocket(port, '/funasr', { read: false }));
        funasr.write(
          Buffer.concat([
            frame(1, JSON.stringify({ mode: 'online', wav_name: 'w'.repeat(60_000), is_speaking: true })),
            ...Array.from({ length: 2000 }, () => frame(1, 'x')),
          ]),
        );
        await sleep(200);
      }),
  },
  {
    name: 'flushing commands interleaved with 1-byte frames, all three protocols',
    finding: '3',
    run: (port) =>
      repeat(async (sockets) => {
        const byte = frame(2, Buffer.from([1]));
        for (const [path, command] of [
          ['/', '{"command":"configure","sample_rate":16000}'],
          ['/vosk', '{"reset" : 1}'],
          ['/funasr', '{"is_speaking": false}'],
        ] as const) {
          const s = keep(sockets, await rawSocket(port, path, { read: true }));
          const text = frame(1, command);
          const frames: Buffer[] = [];
          for (let i = 0; i < 5000; i++) frames.push(text, ...Array.from({ length: 20 }, () => byte));
          s.write(Buffer.concat(frames));
        }
        await sleep(200);
      }),
  },
  {
    name: '1,100 silent sockets and trickled headers from another address (127.0.0.2)',
    finding: '4',
    run: (port) => {
      const sockets = new Set<Socket>();
      const trickle = setInterval(() => {
        for (const s of sockets) if (s.writable) s.write('X: y\r\n');
      }, 1000);
      const open = setInterval(() => {
        for (let i = 0; i < 50 && sockets.size < 1100; i++) {
          const s = keep(sockets, connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }));
          s.on('error', () => undefined);
          if (i % 2) s.write('GET / HTTP/1.1\r\nHost: x\r\n');
        }
      }, 20);
      return {
        stop() {
          clearInterval(trickle);
          clearInterval(open);
          for (const s of sockets) s.destroy();
        },
      };
    },
  },
  {
    name: '`reset` floods and empty vosk frames',
    finding: '5',
    run: (port) =>
      repeat(async (sockets) => {
        const resets = keep(sockets, await rawSocket(port, '/', { read: true }));
        resets.write(Buffer.concat(Array.from({ length: 20_000 }, () => frame(1, '{"command":"reset"}'))));
        const vosk = keep(sockets, await rawSocket(port, '/vosk', { read: true }));
        vosk.write(Buffer.concat(Array.from({ length: 20_000 }, () => frame(2, Buffer.alloc(0)))));
        await sleep(100);
      }),
  },
];

/** One legitimate transcription: connect, send the clip, eof, wait for the final. Milliseconds, or NaN on failure. */
async function transcribeOnce(port: number, clip: Buffer): Promise<number> {
  const started = performance.now();
  try {
    const client = await AsrctlClient.connect(`ws://127.0.0.1:${port}/?language=en`);
    try {
      client.sendAudio(clip);
      client.send({ command: 'eof' });
      await client.next((m) => m.is_final === true && m.text === 'low high', '"low high"', 30_000);
      return performance.now() - started;
    } finally {
      void client.close();
    }
  } catch {
    return Number.NaN;
  }
}

interface Window {
  latencies: number[];
  failures: number;
  healthFailures: number;
  peakRss: number;
}

/** Transcribes and polls /healthz until `until()` is true. */
async function observe(server: ServerProcess, clip: Buffer, until: () => boolean): Promise<Window> {
  const window: Window = { latencies: [], failures: 0, healthFailures: 0, peakRss: await server.rssMiB() };
  const rss = setInterval(
    () =>
      void server.rssMiB().then(
        (m) => (window.peakRss = Math.max(window.peakRss, m)),
        () => undefined,
      ),
    100,
  );
  const health = (async () => {
    while (!until()) {
      const ok = await fetch(`${server.httpUrl}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (!ok) window.healthFailures++;
      await sleep(200);
    }
  })();
  while (!until()) {
    const ms = await transcribeOnce(server.port, clip);
    if (Number.isNaN(ms)) window.failures++;
    else window.latencies.push(ms);
  }
  await health;
  clearInterval(rss);
  return window;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'asr-attacks-'));
  await writeToneModel(join(dir, 'en'), { words: toneWordsFor('en'), heavy: true });
  const server = await ServerProcess.start({ en: join(dir, 'en') }, 'en', 'defaults');
  const clip = pcmBytes(lowHighClip(16000));
  const rows: string[] = [];
  let quietLine = '';
  let upAfter = false;
  try {
    const quietEnd = performance.now() + 5000;
    const quiet = await observe(server, clip, () => performance.now() > quietEnd);
    const quietMedian = median(quiet.latencies);
    quietLine = `No attack: transcript median ${round(quietMedian, 0)} ms over ${quiet.latencies.length}, peak RSS ${round(quiet.peakRss, 0)} MiB.`;
    log(quietLine);
    for (const attack of ATTACKS) {
      const running = attack.run(server.port);
      const end = performance.now() + ATTACK_SECONDS * 1000;
      const during = await observe(server, clip, () => performance.now() > end);
      running.stop();
      const stopped = performance.now();
      // Recovered: a transcript back under twice the quiet median.
      let recovery = Number.NaN;
      for (let i = 0; i < 100; i++) {
        const ms = await transcribeOnce(server.port, clip);
        if (ms < 2 * quietMedian) {
          recovery = performance.now() - stopped;
          break;
        }
      }
      const worst = during.latencies.length > 0 ? Math.max(...during.latencies) : Number.NaN;
      rows.push(
        `| ${attack.finding} | ${attack.name} | ${round(median(during.latencies), 0)} ms | ${round(worst, 0)} ms | ${during.latencies.length} / ${during.failures} | ${during.healthFailures} | ${round(during.peakRss, 0)} MiB | ${round(recovery, 0)} ms |`,
      );
      log(rows.at(-1)!);
      await sleep(1500);
    }
    upAfter = (await fetch(`${server.httpUrl}/healthz`)).ok;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const facts = machineFacts();
  const section = [
    '<!-- attacks:start (written by `pnpm bench:attacks`; edit bench/src/attacks.ts instead) -->',
    '## Under attack (issue 15)',
    '',
    `Command: \`pnpm bench:attacks\` · ${facts.date} · ${facts.cpu}, ${facts.cores} cores · Node ${facts.node} · load average at start ${facts.loadAverageAtStart.join(' ')}`,
    '',
    `The server with its default limits, in its own process, on the heavy tone model. Each attack runs for ${ATTACK_SECONDS} s through raw sockets from the same machine while a legitimate client transcribes a ${round(clip.length / 32000, 1)} s clip again and again (connect, the clip sent at once, eof, final: its latency is that whole time) and /healthz is polled every 200 ms. Recovery: from the attack's end until a transcript takes under twice the quiet median. ${quietLine}`,
    '',
    '| finding | attack | transcript median | worst | transcripts / failed | /healthz failed | server peak RSS | recovery |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `After all attacks the server answers /healthz: ${upAfter ? 'yes' : 'NO'}.`,
    '<!-- attacks:end -->',
  ].join('\n');
  process.stdout.write(`\n${section}\n`);
  const path = join(ROOT, 'BENCHMARKS.md');
  const existing = await readFile(path, 'utf8');
  const pattern = /<!-- attacks:start[\s\S]*?<!-- attacks:end -->/u;
  await writeFile(path, pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}\n`);
}

await main();
