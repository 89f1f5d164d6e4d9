import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { resolveDeployConfig } from '../deployment/deploy-config.js';
import { probeProtocolPorts } from './recognition-probe.js';

describe('the deploy’s protocol port probe', () => {
  it('gives up on a port that accepts and never answers the handshake, naming it', async () => {
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    // No model directory: the probe sends its generated two-tone clip.
    const config = resolveDeployConfig([{ project: 'asr', model: ['cn=/nonexistent/cn'], voskPort: String(port), funasrPort: '0' }], '/x');
    const shown = `ws://127.0.0.1:${port}/`;
    try {
      await expect(probeProtocolPorts('127.0.0.1', config)).rejects.toMatchObject({
        code: 'recognition_probe_failed',
        message: `vosk client through ${shown} failed: no WebSocket handshake from ${shown} within 20000 ms`,
      });
    } finally {
      silent.close();
    }
  });
});
