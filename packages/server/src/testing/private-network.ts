import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_MAIN = fileURLToPath(new URL('../../dist/main.cjs', import.meta.url));

export interface ClientRun {
  /** The client's exit code. */
  code: number;
  stdout: string;
  stderr: string;
  /** What the server logged (warnings and errors). */
  serverLog: string;
}

const quote = (s: string): string => `'${s.replace(/'/gu, `'\\''`)}'`;

/**
 * Runs the built server and one client command inside a private network namespace (`unshare -n`,
 * root only), so the client connects to the customary ports (2700, 10095, 8765 on localhost)
 * without taking them on this machine. The server's main port is 8765; pass the protocol ports and
 * models in `serverArgs`. The client runs in a directory of its own (give it absolute paths).
 * Resolves when the client exits; the server is stopped with SIGTERM.
 */
export async function runClientInPrivateNetwork(
  serverArgs: readonly string[],
  client: readonly string[],
  options: { tls?: boolean; timeoutMs?: number } = {},
): Promise<ClientRun> {
  const cwd = await mkdtemp(join(tmpdir(), 'asrctl-client-'));
  try {
    return await run(cwd, serverArgs, client, options);
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

function run(
  cwd: string,
  serverArgs: readonly string[],
  client: readonly string[],
  options: { tls?: boolean; timeoutMs?: number },
): Promise<ClientRun> {
  const scheme = options.tls ? 'https' : 'http';
  const script = `
set -u
ip link set lo up
node ${quote(SERVER_MAIN)} --host :: --port 8765 --log-level warn ${serverArgs.map(quote).join(' ')} >server.log 2>&1 &
server=$!
for _ in $(seq 1 300); do
  NODE_TLS_REJECT_UNAUTHORIZED=0 node -e "fetch('${scheme}://127.0.0.1:8765/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null && break
  sleep 0.1
done
${client.map(quote).join(' ')} >client.out 2>client.err
code=$?
kill -TERM $server
wait $server
cat client.out; printf '\\0'; cat client.err; printf '\\0'; cat server.log
exit $code
`;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'bash', '-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const [stdout = '', stderr = '', serverLog = ''] = Buffer.concat(out).toString('utf8').split('\0');
      const failure = Buffer.concat(err).toString('utf8');
      if (failure.includes('unshare:')) reject(new Error(`cannot make a private network namespace (needs root): ${failure}`));
      else resolve({ code: code ?? -1, stdout, stderr, serverLog: serverLog + failure });
    });
  });
}
