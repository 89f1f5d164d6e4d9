import { setTimeout as sleep } from 'node:timers/promises';
import type { TranscriptMessage } from '@asrctl/server';
import WebSocket, { type ClientOptions } from 'ws';

/** Without --realtime: audio goes out at most this many times real time, after HEAD_START_SECONDS at once. */
const FAST_PACE = 4;
const HEAD_START_SECONDS = 10;

export interface TranscribeOptions {
  url: string;
  /** Mono PCM16 samples. */
  samples: Int16Array;
  sampleRate: number;
  language?: string;
  /** A model by name (its language follows), after `language`. */
  model?: string;
  words?: boolean;
  /** Pace the audio at its own speed, as a microphone would. Otherwise as fast as the server takes it. */
  realtime?: boolean;
  /** Audio per message: 0.1 s in real time; 1 s otherwise, so a long file stays far below the server's message rate limit. */
  chunkSeconds?: number;
  /** How long to wait for the server after the last audio, in ms. */
  timeoutMs?: number;
  /**
   * For wss: trust exactly this PEM certificate (a self-signed one, say), whatever host name it
   * names. Without it, the system's CAs and host name checks apply.
   */
  pinnedCertificate?: string;
  onPartial?: (t: TranscriptMessage) => void;
  onFinal?: (t: TranscriptMessage) => void;
}

/** For a pinned certificate: the chain is checked against it, the host name it names is not. */
export const skipHostnameCheck = (() => undefined) as unknown as NonNullable<ClientOptions['checkServerIdentity']>;

export class TranscribeError extends Error {
  override readonly name = 'TranscribeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Streams audio through the asrctl protocol: greeting, optional language switch and configure,
 * audio in chunks, eof; resolves with the finals once the server confirms eof. Rejects on any
 * error message from the server, a refused or dropped connection, or a timeout.
 */
export async function transcribe(options: TranscribeOptions): Promise<TranscriptMessage[]> {
  const finals: TranscriptMessage[] = [];
  const ws = new WebSocket(options.url, {
    perMessageDeflate: false,
    // Node's TLS takes checkServerIdentity returning an Error or undefined (ws's typing says boolean).
    ...(options.pinnedCertificate !== undefined && { ca: options.pinnedCertificate, checkServerIdentity: skipHostnameCheck }),
  });
  const waiters: Array<{ type: string; resolve: () => void }> = [];
  let failure: TranscribeError | undefined;
  let fail: (e: TranscribeError) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = (e) => {
      failure ??= e;
      reject(failure);
    };
  });
  failed.catch(() => undefined);

  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return fail(new TranscribeError('protocol', `the server sent something that is not JSON: ${raw.toString('utf8').slice(0, 80)}`));
    }
    if (message.type === 'error')
      return fail(new TranscribeError(String(message.code), `server error ${String(message.code)}: ${String(message.message)}`));
    if (typeof message.is_final === 'boolean') {
      const t = message as unknown as TranscriptMessage;
      if (t.is_final) {
        finals.push(t);
        options.onFinal?.(t);
      } else {
        options.onPartial?.(t);
      }
      return;
    }
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve();
  });
  ws.on('error', (err: NodeJS.ErrnoException) => {
    const hint = err.code === 'ECONNREFUSED' ? ' (is the server running? start one with `asrctl serve`)' : '';
    fail(new TranscribeError('connection', `cannot connect to ${options.url}: ${err.message}${hint}`));
  });
  ws.on('unexpected-response', (_req, res) => {
    fail(
      new TranscribeError('connection', `${options.url} refused the WebSocket: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()),
    );
  });
  ws.on('close', (code: number, reason: Buffer) => {
    fail(
      new TranscribeError('connection', `the server closed the connection (code ${code}${reason.length ? `: ${reason.toString()}` : ''})`),
    );
  });

  const expect = (type: string, timeoutMs: number): Promise<void> =>
    Promise.race([
      failed,
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new TranscribeError('timeout', `no "${type}" from the server within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({ type, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    ]);

  const timeoutMs = options.timeoutMs ?? 30_000;
  try {
    await expect('connection_established', timeoutMs);
    if (options.language) {
      ws.send(JSON.stringify({ command: 'switch_language', language: options.language }));
      await expect('language_switched', timeoutMs);
    }
    if (options.model) {
      ws.send(JSON.stringify({ command: 'switch_model', model: options.model }));
      await expect('model_switched', timeoutMs);
    }
    ws.send(JSON.stringify({ command: 'configure', sample_rate: options.sampleRate, words: options.words ?? false }));
    await expect('configured', timeoutMs);

    const chunk = Math.max(1, Math.round((options.chunkSeconds ?? (options.realtime ? 0.1 : 1)) * options.sampleRate));
    const bytes = Buffer.from(options.samples.buffer, options.samples.byteOffset, options.samples.byteLength);
    const started = Date.now();
    for (let i = 0; i < options.samples.length; i += chunk) {
      if (failure) throw failure;
      ws.send(bytes.subarray(2 * i, 2 * Math.min(i + chunk, options.samples.length)));
      // At its own pace in real time; otherwise at most FAST_PACE times that after a head start: the
      // server drops audio more than --max-buffered-audio (20 s) ahead of its decoding, and nothing
      // in the protocol says how far it has got (automatic language decodes twice).
      const sent = (i + chunk) / options.sampleRate;
      const due = options.realtime ? started + sent * 1000 : started + Math.max(0, sent - HEAD_START_SECONDS) * (1000 / FAST_PACE);
      await sleep(Math.max(0, due - Date.now()));
      if (!options.realtime && ws.bufferedAmount > 1 << 20) {
        // Keep the socket's send buffer bounded on long files.
        while (ws.bufferedAmount > 1 << 18 && !failure) await sleep(5);
      }
    }
    ws.send(JSON.stringify({ command: 'eof' }));
    await expect('eof_complete', timeoutMs);
    return finals;
  } finally {
    ws.removeAllListeners('close');
    ws.on('error', () => undefined);
    ws.close(1000);
  }
}
