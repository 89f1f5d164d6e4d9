import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { type ConfigInput, resolveConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { AsrServer } from '../server.js';

/** A real server in this process on a free loopback port, models loaded. */
export async function startTestServer(
  models: Record<string, string>,
  overrides: {
    defaultLanguage?: string;
    waitReady?: boolean;
    port?: number;
    host?: string;
    voskPort?: number;
    funasrPort?: number;
    /** Any other setting, as a flag would give it (applied last). */
    config?: ConfigInput;
  } = {},
): Promise<AsrServer> {
  const config = resolveConfig(
    {},
    {
      host: overrides.host ?? '127.0.0.1',
      port: String(overrides.port ?? 0),
      model: Object.entries(models).map(([lang, dir]) => `${lang}=${dir}`),
      ...(overrides.defaultLanguage ? { defaultLanguage: overrides.defaultLanguage } : {}),
      logLevel: 'silent',
      // Tests open many sessions from one address; the limits have tests of their own.
      maxSessions: '10000',
      maxSessionsPerIp: '10000',
      maxBufferedAudio: '3600',
      // Some tests send a clip in thousands of tiny frames at once.
      maxMessagesPerSecond: '1000000',
      maxMessageBytes: String(64 * 1024 * 1024),
      ...(overrides.voskPort !== undefined && { voskPort: String(overrides.voskPort) }),
      ...(overrides.funasrPort !== undefined && { funasrPort: String(overrides.funasrPort) }),
      ...overrides.config,
    },
  );
  const server = await AsrServer.start(config, createLogger('silent'));
  if (overrides.waitReady ?? true) await server.ready;
  return server;
}

export function httpUrl(server: AsrServer, path: string, host = '127.0.0.1'): string {
  return `http://${host}:${server.port}${path}`;
}

/** A metric's value from /metrics (the sum over its label sets). */
export async function metric(server: AsrServer, name: string, host?: string): Promise<number> {
  const text = await (await fetch(httpUrl(server, '/metrics', host))).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** A TCP port nothing listens on right now (for listeners that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
