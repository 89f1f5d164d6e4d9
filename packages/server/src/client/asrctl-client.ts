import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { type ClientOptions } from 'ws';
import { AsrctlClientError, AsrctlSession } from './asrctl-session.js';

export interface AsrctlClientOptions {
  headers?: Record<string, string>;
  /** For wss: the PEM certificate(s) to trust instead of the system's CAs. */
  ca?: string;
  /** With `ca`: trust exactly that certificate (a self-signed one, say), whatever host name it names. */
  skipHostnameCheck?: boolean;
  /** Give up on the opening handshake after this long, ms. */
  handshakeTimeoutMs?: number;
}

export interface StreamOptions {
  /** Samples a second (PCM16 mono): sets the frame length and the pace. */
  sampleRate?: number;
  /** Audio per frame when `audio` is one buffer; default 0.1 s. */
  frameSeconds?: number;
  /** Multiple of real time to send at: 1 as a microphone would; Infinity as fast as the socket takes it. */
  pace?: number;
  /** Audio sent at once before the pace applies. */
  headStartSeconds?: number;
  /** Above this many unsent bytes, wait until a quarter of it is left (bounds memory on long files). */
  maxBufferedBytes?: number;
  /** With `maxBufferedBytes`: a server that takes none of the unsent audio for this long is a timeout error. */
  stallTimeoutMs?: number;
  /** Called as each frame goes out (bench timestamps them). */
  onFrame?: (index: number) => void;
  /** Checked before each frame: true stops the stream. */
  stop?: () => boolean;
}

/** For a pinned certificate: the chain is checked against it, the host name it names is not. */
// Node's TLS takes checkServerIdentity returning an Error or undefined (ws's typing says boolean).
const skipHostnameCheck = (() => undefined) as unknown as NonNullable<ClientOptions['checkServerIdentity']>;

/**
 * The asrctl protocol's client in Node, used by `asrctl transcribe`, the deploy probes, the load
 * generators, the benchmarks and the tests: the conversation is AsrctlSession's (the test page
 * runs the same code in the browser); this adds what only Node has: opening the WebSocket with
 * headers, a pinned certificate and a handshake timeout, the HTTP status of a refused upgrade, and
 * sending a recording at a pace.
 */
export class AsrctlClient extends AsrctlSession {
  /** Set when our own handshake timer gave up: the socket error that follows says so. */
  private handshakeTimedOutAfterMs: number | undefined;

  private constructor(
    url: string,
    readonly ws: WebSocket,
  ) {
    super(url, ws);
  }

  /** Opens the WebSocket; rejects with an AsrctlClientError saying why it could not (`HTTP 503`, ECONNREFUSED, ...). */
  static connect(url: string, options: AsrctlClientOptions = {}): Promise<AsrctlClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        perMessageDeflate: false,
        ...(options.headers && { headers: options.headers }),
        ...(options.ca !== undefined && { ca: options.ca }),
        ...(options.skipHostnameCheck && { checkServerIdentity: skipHostnameCheck }),
      });
      const client = new AsrctlClient(url, ws);
      // Our own timer rather than ws's handshakeTimeout, which says it timed out only in its message.
      const timer =
        options.handshakeTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              client.handshakeTimedOutAfterMs = options.handshakeTimeoutMs;
              ws.terminate();
            }, options.handshakeTimeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      // After the session's own listener: the failure it recorded is the reason.
      ws.on('error', () => {
        clearTimeout(timer);
        reject(client.failure);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        ws.on('error', () => undefined);
        void refusalText(res).then((said) => {
          ws.terminate();
          const retryAfter = Number(res.headers['retry-after']);
          const retry = Number.isInteger(retryAfter) && retryAfter >= 0 ? ` (retry after ${retryAfter} s)` : '';
          reject(
            new AsrctlClientError(
              'refused',
              `${`${client.shownUrl} refused the WebSocket: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()}${said ? `: ${said}` : ''}${retry}`,
              { status: res.statusCode },
            ),
          );
        });
      });
    });
  }

  protected override socketError(event: object): AsrctlClientError {
    if (this.handshakeTimedOutAfterMs === undefined) return super.socketError(event);
    return new AsrctlClientError('timeout', `no WebSocket handshake from ${this.shownUrl} within ${this.handshakeTimedOutAfterMs} ms`, {
      cause: 'error' in event ? event.error : undefined,
    });
  }

  /** Sends PCM16 bytes in frames of `frameBytes` (any length, odd included), all at once. */
  sendAudio(pcm: Buffer, frameBytes = 3200): void {
    for (let o = 0; o < pcm.length; o += frameBytes) this.ws.send(pcm.subarray(o, o + frameBytes));
  }

  /** Sends 100 ms frames 100 ms apart, as a microphone would. */
  sendAudioInRealTime(pcm: Buffer, sampleRate = 16000): Promise<number> {
    return this.stream(pcm, { sampleRate, pace: 1 });
  }

  /**
   * Sends audio (one PCM16 buffer cut into frames, or frames as given) at `pace` times real time;
   * returns how many frames went out (fewer when stopped or the connection closed).
   */
  async stream(audio: Buffer | readonly Buffer[], options: StreamOptions = {}): Promise<number> {
    const sampleRate = options.sampleRate ?? 16000;
    const frameBytes = 2 * Math.max(1, Math.round((options.frameSeconds ?? 0.1) * sampleRate));
    const frames: readonly Buffer[] = Buffer.isBuffer(audio)
      ? Array.from({ length: Math.ceil(audio.length / frameBytes) }, (_, i) => audio.subarray(i * frameBytes, (i + 1) * frameBytes))
      : audio;
    const pace = options.pace ?? Infinity;
    const headStart = options.headStartSeconds ?? 0;
    const limit = options.maxBufferedBytes;
    // With a limit: each frame's send callback (ws calls it once the frame is written to the
    // socket, or fails) wakes the wait below, so it waits on the socket rather than polling it.
    let written: (() => void) | undefined;
    const onWritten = (): void => written?.();
    const started = performance.now();
    let seconds = 0;
    let sent = 0;
    for (const frame of frames) {
      if (options.stop?.() || this.failure || this.ws.readyState !== WebSocket.OPEN) break;
      if (pace !== Infinity) {
        const wait = started + (Math.max(0, seconds - headStart) * 1000) / pace - performance.now();
        if (wait > 1) await sleep(wait);
      }
      if (limit !== undefined && this.ws.bufferedAmount > limit) {
        let stall: NodeJS.Timeout | undefined;
        try {
          while (this.ws.bufferedAmount > limit / 4 && this.ws.readyState === WebSocket.OPEN) {
            const stalled = new Promise<never>((_, reject) => {
              if (options.stallTimeoutMs === undefined) return;
              stall = setTimeout(
                () =>
                  reject(
                    new AsrctlClientError(
                      'timeout',
                      `the server read none of ${this.ws.bufferedAmount} bytes of audio waiting to be sent for ${options.stallTimeoutMs} ms`,
                    ),
                  ),
                options.stallTimeoutMs,
              );
            });
            await Promise.race([new Promise<void>((resolve) => (written = resolve)), this.closed, stalled]);
            clearTimeout(stall);
          }
        } finally {
          clearTimeout(stall);
          written = undefined;
        }
      }
      if (this.ws.readyState !== WebSocket.OPEN) break;
      options.onFrame?.(sent);
      if (limit === undefined) this.ws.send(frame);
      else this.ws.send(frame, onWritten);
      sent++;
      seconds += frame.length / 2 / sampleRate;
    }
    return sent;
  }
}

/**
 * What the server said with a refused upgrade: the `message` of its JSON body (`{"error", "message"}`),
 * or its text; at most 1 kB, read for at most a second, control characters dropped.
 */
async function refusalText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      res.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= 1024) done();
    };
    const timer = setTimeout(done, 1000);
    res.on('data', onData).once('end', done).once('error', done);
  });
  const text = Buffer.concat(chunks).subarray(0, 1024).toString('utf8');
  let said: unknown = text;
  try {
    said = (JSON.parse(text) as { message?: unknown }).message;
  } catch {
    // Not JSON: the text itself.
  }
  return typeof said === 'string' ? said.replace(/\p{Cc}+/gu, ' ').trim() : '';
}
