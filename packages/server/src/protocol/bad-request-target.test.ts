import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { freePort, httpUrl, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** Sends one raw HTTP request and returns the status line the server answers with ('' if it only closed). */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let reply = '';
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('close', () => resolve(reply.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
  });
}

// Request-targets that `new URL()` rejects: each one used to end the process from the upgrade handler.
const TARGETS = ['//[', 'http://a:-1/', '//%', '//x:99999', '//ab:c/'];

describe('request-targets no URL parser accepts', () => {
  let models: ToneModelSet;
  let server: AsrServer;

  beforeAll(async () => {
    models = await makeToneModels();
    server = await startTestServer({ cn: models.cn, en: models.en }, { voskPort: await freePort() });
  });

  afterAll(async () => {
    await server.drain(1000);
    await models.remove();
  });

  it.each(TARGETS)('%s: an upgrade gets 400 on every listener, and the server stays up', async (target) => {
    for (const port of [server.port, server.portFor('vosk')!]) {
      const status = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      expect(status).toBe('HTTP/1.1 400 Bad Request');
      // Any Upgrade value reaches the same handler.
      expect(await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n`)).toBe(
        'HTTP/1.1 400 Bad Request',
      );
      expect(await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toBe('HTTP/1.1 400 Bad Request');
    }
    expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
  });
});
