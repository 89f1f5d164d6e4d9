import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { RawWebSocket, clientFrame } from '../testing/raw-websocket.js';
import { AsrctlClient } from '../client/asrctl-client.js';
import { httpUrl, metric, startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/** A command that flushes the stream, in each protocol. */
const FLUSHING_COMMANDS = [
  { path: '/?language=en', command: '{"command":"configure","sample_rate":16000}' },
  { path: '/vosk/en', command: '{"reset" : 1}' },
  { path: '/funasr/en', command: '{"is_speaking": false}' },
];

/**
 * Finding 3 of issue 15: flushing commands interleaved with one-byte audio frames queue behind one
 * another; the backlog was summed for every frame (quadratic) and had no bound.
 */
describe('a flood of flushing commands and tiny frames', () => {
  let models: ToneModelSet;
  let server: AsrServer;

  beforeAll(async () => {
    models = await makeToneModels();
    server = await startTestServer({ en: models.en });
  });
  afterAll(async () => {
    await server.drain(500);
    await models.remove();
  });

  it.each(FLUSHING_COMMANDS)(
    '$path: past the queued-command bound the client is told and cut, others are served',
    async ({ path, command }) => {
      const cutBefore = await metric(server, 'asr_clients_cut_total{reason="command_backlog"}');
      const attacker = await RawWebSocket.open(server.port, path);
      // It reads its replies (so it is not cut as a slow reader), and discards them.
      attacker.socket.on('data', () => undefined).resume();
      const closed = new Promise<void>((resolve) => attacker.socket.once('close', () => resolve()));
      attacker.socket.on('error', () => undefined);
      const text = clientFrame(1, command);
      const byte = clientFrame(2, Buffer.from([1]));
      const frames: Buffer[] = [];
      for (let i = 0; i < 500; i++) frames.push(text, ...Array.from({ length: 20 }, () => byte));
      await attacker.send(frames).catch(() => undefined);
      await closed;
      expect(await metric(server, 'asr_clients_cut_total{reason="command_backlog"}')).toBe(cutBefore + 1);
      expect(await metric(server, 'asr_errors_total{code="command_backlog"}')).toBeGreaterThan(0);

      const client = await AsrctlClient.connect(`ws://127.0.0.1:${server.port}/?language=en`);
      client.sendAudio(pcmBytes(lowHighClip(16000)));
      client.send({ command: 'eof' });
      expect(await client.nextFinal()).toMatchObject({ text: 'low high' });
      await client.close();
      expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
    },
  );
});
