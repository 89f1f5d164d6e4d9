import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './docker-fixture.js';
import { pollUntil } from '@asrctl/server';

/**
 * A real image registry on loopback (Debian's docker-registry, installed by
 * scripts/start-docker-engine); the engine allows plain HTTP to 127.0.0.0/8 without configuration.
 */
export async function startTestRegistry(): Promise<{ address: string; pushed(): Promise<string[]>; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'asrctl-registry-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      'http:',
      `  addr: ${address}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(new Error(`docker-registry did not start (scripts/start-docker-engine installs it): ${err.message}`)),
    ),
  );
  const ready = (async () => {
    await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${stderr}`);
        return fetch(`http://${address}/v2/`).then(
          (r) => r.ok,
          () => false,
        );
      },
      (ok) => ok,
      {
        what: `docker-registry to answer on ${address}`,
        timeoutMs: 10_000,
        intervalMs: 100,
        timeoutError: (message) => new Error(`${message}: ${stderr}`),
      },
    );
  })();
  await Promise.race([ready, spawnFailed]);
  return {
    address,
    async pushed() {
      const catalog = (await (await fetch(`http://${address}/v2/_catalog`)).json()) as { repositories?: string[] };
      return catalog.repositories ?? [];
    },
    async stop() {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
