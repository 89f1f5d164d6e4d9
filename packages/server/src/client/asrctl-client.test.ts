import { once } from 'node:events';
import { createServer } from 'node:net';
import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { AsrServer } from '../server.js';
import { startTestServer } from '../testing/test-server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';
import { AsrctlClient } from './asrctl-client.js';
import { AsrctlClientError } from './asrctl-session.js';

describe('AsrctlClient', () => {
  let models: ToneModelSet;
  let server: AsrServer;
  const url = (path = '/?language=en'): string => `ws://127.0.0.1:${server.port}${path}`;

  beforeAll(async () => {
    models = await makeToneModels();
    server = await startTestServer({ en: models.en });
  });
  afterAll(async () => {
    await server.drain(500);
    await models.remove();
  });

  it('gives up on a listener that accepts and never answers the handshake, as a timeout naming the URL', async () => {
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const silentUrl = `ws://127.0.0.1:${(silent.address() as { port: number }).port}/`;
    try {
      await expect(AsrctlClient.connect(silentUrl, { handshakeTimeoutMs: 300 })).rejects.toMatchObject({
        code: 'timeout',
        message: `no WebSocket handshake from ${silentUrl} within 300 ms`,
      });
    } finally {
      silent.close();
    }
  });

  it('answers a command with its typed reply, and throws the server’s error with its code', async () => {
    const client = await AsrctlClient.connect(url());
    expect((await client.greeting()).supported_languages).toEqual(['en']);
    const configured = await client.request({ command: 'configure', sample_rate: 8000, words: true });
    expect(configured).toMatchObject({ type: 'configured', sample_rate: 8000, words: true });
    const refused = client.request({ command: 'switch_language', language: 'fr' });
    await expect(refused).rejects.toThrow(AsrctlClientError);
    await expect(refused).rejects.toMatchObject({
      code: 'unsupported_language',
      message: expect.stringMatching(/^server error unsupported_language: /u),
    });
    await client.close();
  });

  it('streams a buffer in frames, bounded by the send buffer, and reads the finals after eof', async () => {
    const client = await AsrctlClient.connect(url());
    await client.greeting();
    const clip = pcmBytes(lowHighClip(16000));
    const frames: number[] = [];
    const sent = await client.stream(clip, { frameSeconds: 0.1, maxBufferedBytes: 64 * 1024, onFrame: (i) => frames.push(i) });
    expect(sent).toBe(Math.ceil(clip.length / 3200));
    expect(frames).toEqual(Array.from({ length: sent }, (_, i) => i));
    await client.request({ command: 'eof' });
    expect(client.finals().map((f) => f.text)).toEqual(['low high']);
    await client.close();
  });

  it('waits while more than maxBufferedBytes are unsent, and goes on as the reader catches up', async () => {
    // A peer that stops reading: the kernel's buffers fill, then ws's send buffer grows.
    const peer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(peer, 'listening');
    let receivedBytes = 0;
    let resumeReading: (() => void) | undefined;
    peer.on('connection', (socket) => {
      socket.pause();
      resumeReading = () => socket.resume();
      socket.on('message', (data: Buffer) => (receivedBytes += data.length));
    });
    try {
      const client = await AsrctlClient.connect(`ws://127.0.0.1:${(peer.address() as { port: number }).port}/`);
      const limit = 256 * 1024;
      const frames = Array.from({ length: 1000 }, () => Buffer.alloc(32_000));
      let mostBuffered = 0;
      const streamed = client.stream(frames, {
        maxBufferedBytes: limit,
        onFrame: () => (mostBuffered = Math.max(mostBuffered, client.ws.bufferedAmount)),
      });
      await expect.poll(() => client.ws.bufferedAmount, { timeout: 15_000 }).toBeGreaterThan(limit);
      resumeReading!();
      expect(await streamed).toBe(frames.length);
      await expect.poll(() => receivedBytes, { timeout: 15_000 }).toBe(32_000 * frames.length);
      expect(mostBuffered).toBeLessThanOrEqual(limit);
      await client.close();
    } finally {
      peer.close();
    }
  });

  it('gives up with a timeout when the server reads none of the waiting audio for stallTimeoutMs (transcribe --timeout)', async () => {
    const peer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(peer, 'listening');
    peer.on('connection', (socket) => socket.pause());
    try {
      const client = await AsrctlClient.connect(`ws://127.0.0.1:${(peer.address() as { port: number }).port}/`);
      const frames = Array.from({ length: 1000 }, () => Buffer.alloc(32_000));
      // Before, this waited for good: a server that stops reading held the client forever.
      await expect(client.stream(frames, { maxBufferedBytes: 256 * 1024, stallTimeoutMs: 500 })).rejects.toMatchObject({
        code: 'timeout',
        message: expect.stringMatching(/^the server read none of \d+ bytes of audio waiting to be sent for 500 ms$/u),
      });
      client.ws.terminate();
    } finally {
      peer.close();
    }
  });

  it('says why it could not connect: a refused upgrade with its HTTP status, nobody listening with the cause', async () => {
    await expect(AsrctlClient.connect(url('/elsewhere'))).rejects.toMatchObject({
      code: 'refused',
      status: 404,
      message: `${url('/elsewhere')} refused the WebSocket: HTTP 404 Not Found: no WebSocket endpoint at /elsewhere; connect to / (asrctl protocol), /vosk (vosk-server protocol) or /funasr (FunASR protocol)`,
    });
    const closedPort = `ws://127.0.0.1:1/`;
    await expect(AsrctlClient.connect(closedPort)).rejects.toMatchObject({
      code: 'connection',
      message: expect.stringMatching(/^cannot connect to ws:\/\/127\.0\.0\.1:1\/: .*ECONNREFUSED/u),
      cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
    });
  });

  it('says what a refusing server said, and when to retry; a hostile body is cut to 1 kB without control characters', async () => {
    // Before, only the status: "HTTP 503 Service Unavailable", not why nor when to come back.
    const bodies = [
      ['Retry-After: 7', JSON.stringify({ error: 'max_sessions', message: 'the server is at its limit of 64 sessions; try again later' })],
      ['', `\u001b[2J${'x'.repeat(1024 * 1024)}`],
    ];
    const refusing = createServer((socket) => {
      // The client hangs up once it has read 1 kB of the megabyte.
      socket.on('error', () => undefined);
      const [header, body] = bodies.shift()!;
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\n${header ? `${header}\r\n` : ''}Content-Length: ${Buffer.byteLength(body!)}\r\n\r\n${body}`,
      );
    }).listen(0, '127.0.0.1');
    await once(refusing, 'listening');
    const refusingUrl = `ws://127.0.0.1:${(refusing.address() as { port: number }).port}/`;
    try {
      await expect(AsrctlClient.connect(refusingUrl)).rejects.toMatchObject({
        status: 503,
        message: `${refusingUrl} refused the WebSocket: HTTP 503 Service Unavailable: the server is at its limit of 64 sessions; try again later (retry after 7 s)`,
      });
      const hostile: unknown = await AsrctlClient.connect(refusingUrl).catch((err: unknown) => err);
      expect((hostile as Error).message).toMatch(/^ws:\S+ refused the WebSocket: HTTP 503 Service Unavailable: \[2Jx+$/u);
      expect((hostile as Error).message.length).toBeLessThan(1200);
    } finally {
      refusing.close();
    }
  });

  it('says, of a WebSocket that stays silent after the handshake, that the vosk-server and FunASR ports do not greet', async () => {
    // Before: only "no connection_established within N ms; nothing received".
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(silent, 'listening');
    try {
      const client = await AsrctlClient.connect(`ws://127.0.0.1:${(silent.address() as { port: number }).port}/`);
      await expect(client.greeting(300)).rejects.toMatchObject({
        code: 'timeout',
        message: expect.stringContaining(
          'an asrctl endpoint greets at once; the vosk-server and FunASR ports (--vosk-port, --funasr-port) do not',
        ),
      });
      client.ws.terminate();
    } finally {
      silent.close();
    }
  });

  it('never prints a token given in the URL (?token=T) in its errors', async () => {
    await expect(AsrctlClient.connect(`${url('/elsewhere')}?language=en&token=secret-1`)).rejects.toMatchObject({
      message: expect.stringMatching(/^ws:\/\/.*\/elsewhere\?language=en&token=\*\*\* refused the WebSocket: HTTP 404 Not Found: /u),
    });
    const error: unknown = await AsrctlClient.connect('ws://127.0.0.1:1/?token=secret-2&model=m').catch((err: unknown) => err);
    expect((error as Error).message).toMatch(/^cannot connect to ws:\/\/127\.0\.0\.1:1\/\?token=\*\*\*&model=m: /u);
    expect((error as Error).message).not.toContain('secret-2');
  });

  it('fails a wait when the server closes the connection, naming what it waited for', async () => {
    const client = await AsrctlClient.connect(url());
    await client.greeting();
    // Watched before the drain: the wait fails while the drain is still stopping the engine.
    const failed = expect(client.nextType('eof_complete')).rejects.toThrow(
      /^the server closed the connection \(code 1012: .*\) while waiting for "eof_complete"/u,
    );
    await server.drain(500);
    await failed;
  });
});
