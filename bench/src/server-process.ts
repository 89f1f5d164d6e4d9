import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pollUntil } from '@asrctl/server';

const SERVER_MAIN = fileURLToPath(new URL('../../packages/server/dist/main.cjs', import.meta.url));

/** The server as deployed: its own process, so load clients do not share its event loop. */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /**
   * `limits`: 'bench' lifts the per-client limits (see below); 'defaults' keeps the server's own.
   * `main`: another build's main.cjs (e.g. an earlier commit's, to compare designs in one run).
   */
  static async start(
    models: Record<string, string>,
    defaultLanguage: string,
    limits: 'bench' | 'defaults' = 'bench',
    main = SERVER_MAIN,
  ): Promise<ServerProcess> {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as { port: number }).port;
    probe.close();
    const args = [main, '--host', '127.0.0.1', '--port', String(port), '--default-language', defaultLanguage, '--log-level', 'warn'];
    // Under attack every cut client is a warning: only errors are worth printing.
    if (limits === 'defaults') args.splice(args.indexOf('warn'), 1, 'error');
    for (const [lang, dir] of Object.entries(models)) args.push('--model', `${lang}=${dir}`);
    // The load comes from one address and throughput clients queue a whole file: the per-client
    // limits (which protect a real server) would measure themselves, not the engine.
    if (limits === 'bench')
      args.push(
        '--max-sessions',
        '100000',
        '--max-sessions-per-ip',
        '100000',
        '--max-buffered-audio',
        '3600',
        '--max-message-bytes',
        '67108864',
        '--max-messages-per-second',
        '1000000',
        '--max-connections',
        '100000',
        '--max-connections-per-ip',
        '100000',
      );
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const server = new ServerProcess(child, port);
    await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
        return fetch(`${server.httpUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      (ready) => ready,
      { what: 'the server to be ready', timeoutMs: 30_000, intervalMs: 50 },
    );
    return server;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resident memory from the kernel, in MiB. */
  async rssMiB(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+) kB/u.exec(status)?.[1]);
    return kb / 1024;
  }

  /** One sample of a metric from /metrics (summed over labels). Scraping resets the event-loop histogram. */
  async metrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.httpUrl}/metrics`)).text();
    const values = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !line) continue;
      const name = line.slice(0, line.search(/[{ ]/u));
      values.set(name, (values.get(name) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return values;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await once(this.child, 'exit');
  }
}
