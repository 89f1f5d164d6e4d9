import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecodeThreads } from './decode-threads.js';
import { loadLibvosk } from './libvosk-locator.js';

describe('DecodeThreads', () => {
  // Found in CI: a decode thread stopped from outside while koffi was still loading in it aborted the
  // whole process (node-addon-api's napi_throw on a terminating thread is fatal).
  it('close lets threads still starting finish starting, then each ends itself (exit code 0)', async () => {
    const { path } = loadLibvosk();
    for (let round = 0; round < 5; round++) {
      const threads = new DecodeThreads(2, path);
      const started = threads.start();
      await new Promise((r) => setTimeout(r, 3 * round));
      expect(await threads.close(), `round ${round}`).toEqual([0, 0]);
      await started;
    }
  });

  // Found in review: a thread that never started left the server loading for good, and then a
  // SIGTERM never ended it.
  it('start gives up on a thread that has not started in time; close still ends it', async () => {
    const threads = new DecodeThreads(1, loadLibvosk().path);
    await expect(threads.start(1)).rejects.toThrow('a decode thread did not start within 0.001 s');
    expect(await threads.close()).toEqual([0]);
  });

  it('start resolves once every thread can decode', async () => {
    const threads = new DecodeThreads(3, loadLibvosk().path);
    await threads.start();
    expect(await threads.close()).toEqual([0, 0, 0]);
  });

  // Found in review: an absolute niceness of 10 failed to start a non-root server begun at niceness
  // 15 (lowering it needs a privilege) and put decoding above such an event loop when run as root.
  it('put the threads 10 below the event loop, at most 19, also for a non-root server started with nice', () => {
    const script = `
      import { readFileSync, readdirSync } from 'node:fs';
      import { DecodeThreads } from ${JSON.stringify(new URL('./decode-threads.js', import.meta.url).href.replace('/src/', '/dist/'))};
      const threads = new DecodeThreads(1, ${JSON.stringify(loadLibvosk().path)});
      await threads.start();
      const nice = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
      const main = nice(process.pid);
      const others = readdirSync('/proc/self/task').filter((t) => Number(t) !== process.pid).map(nice);
      console.log(JSON.stringify({ main, others, codes: await threads.close() }));`;
    // A file, not -e: a worker inherits the parent's execArgv, and --input-type would stop it.
    const dir = mkdtempSync(join(tmpdir(), 'asr-nice-'));
    const file = join(dir, 'nice.mjs');
    writeFileSync(file, script, { mode: 0o644 });
    chmodSync(dir, 0o755); // readable by the unprivileged user below
    const run = (prefix: string[]): { main: number; others: number[]; codes: number[] } =>
      JSON.parse(execFileSync(prefix[0]!, [...prefix.slice(1), process.execPath, file], { encoding: 'utf8' })) as {
        main: number;
        others: number[];
        codes: number[];
      };
    const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    for (const [start, expected] of [
      [0, 10],
      [5, 15],
      [15, 19],
    ] as const) {
      const { main, others, codes } = run([...(process.getuid?.() === 0 ? asNobody : []), 'nice', '-n', String(start)]);
      expect(main, `started at ${start}`).toBe(start);
      expect(
        others.filter((n) => n !== start),
        `started at ${start}`,
      ).toEqual([expected]);
      expect(codes).toEqual([0]);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
