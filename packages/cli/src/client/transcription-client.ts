import { AsrctlClient, type AsrctlClientError, type TranscriptMessage } from '@asrctl/server';
import { CliError } from '../cli-error.js';

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

/**
 * Streams audio through the asrctl protocol: greeting, optional language switch and configure,
 * audio in chunks, eof; resolves with the finals once the server confirms eof. Rejects on any
 * error message from the server, a refused or dropped connection, or a timeout.
 */
export async function transcribe(options: TranscribeOptions): Promise<TranscriptMessage[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const client = await AsrctlClient.connect(options.url, {
    handshakeTimeoutMs: timeoutMs,
    ...(options.pinnedCertificate !== undefined && { ca: options.pinnedCertificate, skipHostnameCheck: true }),
  }).catch((err: AsrctlClientError) => {
    throw new CliError('server_unreachable', err.message, { cause: err, hint: connectionHint(err) });
  });
  client.onMessage((m) => {
    if (m.is_final === true) options.onFinal?.(m as unknown as TranscriptMessage);
    else if (m.is_final === false) options.onPartial?.(m as unknown as TranscriptMessage);
  });
  try {
    await client.greeting(timeoutMs);
    if (options.language) await client.request({ command: 'switch_language', language: options.language }, timeoutMs);
    if (options.model) await client.request({ command: 'switch_model', model: options.model }, timeoutMs);
    await client.request({ command: 'configure', sample_rate: options.sampleRate, words: options.words ?? false }, timeoutMs);

    // At its own pace in real time; otherwise at most FAST_PACE times that after a head start: the
    // server drops audio more than --max-buffered-audio (20 s) ahead of its decoding, and nothing
    // in the protocol says how far it has got (automatic language decodes twice).
    const bytes = Buffer.from(options.samples.buffer, options.samples.byteOffset, options.samples.byteLength);
    await client.stream(bytes, {
      sampleRate: options.sampleRate,
      frameSeconds: options.chunkSeconds ?? (options.realtime ? 0.1 : 1),
      ...(options.realtime
        ? { pace: 1 }
        : // Keep the socket's send buffer bounded on long files.
          { pace: FAST_PACE, headStartSeconds: HEAD_START_SECONDS, maxBufferedBytes: 1 << 20, stallTimeoutMs: timeoutMs }),
      stop: () => client.firstError() !== undefined,
    });
    const error = client.firstError();
    if (error) throw error;
    await client.request({ command: 'eof' }, timeoutMs);
    return client.finals();
  } finally {
    client.ws.on('error', () => undefined);
    void client.close();
  }
}

/** What to do when `transcribe` cannot open its WebSocket. */
function connectionHint(err: AsrctlClientError): string | undefined {
  if (err.code === 'timeout')
    return 'check that the URL names an asrctl server (its host, port and ws:// or wss://); on a slow link raise --timeout';
  if ((err.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED')
    return 'is the server running? start one with `asrctl serve`';
  return undefined;
}
