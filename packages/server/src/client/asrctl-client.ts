import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { type ClientOptions } from 'ws';
import {
  type ClientCommand,
  type ErrorMessage,
  type GreetingMessage,
  REPLY_TO,
  type ServerMessageType,
  type TranscriptMessage,
  type TypedServerMessage,
} from '../protocol/asrctl-messages.js';

/**
 * A message as received. The asrctl protocol's are `ServerMessage`s; the same client also records
 * what the vosk-server and FunASR endpoints send (tests of those protocols read it), so fields
 * are read loosely here and typed by `nextType`/`nextFinal`.
 */
export type ReceivedMessage = Record<string, unknown> & {
  type?: string;
  is_final?: boolean;
  text?: string;
  code?: string;
  message?: string;
};

export interface AsrctlClientOptions {
  headers?: Record<string, string>;
  /** For wss: the PEM certificate(s) to trust instead of the system's CAs. */
  ca?: string;
  /** With `ca`: trust exactly that certificate (a self-signed one, say), whatever host name it names. */
  skipHostnameCheck?: boolean;
  /** Give up on the opening handshake after this long, ms. */
  handshakeTimeoutMs?: number;
}

export type AsrctlClientErrorCode = 'connection' | 'refused' | 'closed' | 'timeout' | 'protocol' | ErrorMessage['code'];

/** A failed connection, a server error message, a dropped connection or a reply that did not come. */
export class AsrctlClientError extends Error {
  override readonly name = 'AsrctlClientError';
  constructor(
    readonly code: AsrctlClientErrorCode,
    message: string,
    options?: ErrorOptions & { status?: number },
  ) {
    super(message, options);
    this.status = options?.status;
  }
  /** The HTTP status of a refused WebSocket upgrade. */
  readonly status: number | undefined;
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
  /** Called as each frame goes out (bench timestamps them). */
  onFrame?: (index: number) => void;
  /** Checked before each frame: true stops the stream. */
  stop?: () => boolean;
}

/** For a pinned certificate: the chain is checked against it, the host name it names is not. */
// Node's TLS takes checkServerIdentity returning an Error or undefined (ws's typing says boolean).
const skipHostnameCheck = (() => undefined) as unknown as NonNullable<ClientOptions['checkServerIdentity']>;

/**
 * The one client of asrctl's protocol (docs/protocol.md), used by `asrctl transcribe`, the deploy
 * probes, the load generators, the benchmarks and the tests. It records every message and waits
 * for the next one matching a predicate (messages already received count), so callers read the
 * conversation in protocol order.
 */
export class AsrctlClient {
  readonly messages: ReceivedMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<number>;
  /** Set when the connection failed under us or the server sent something that is not JSON. */
  failure: AsrctlClientError | undefined;
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private listeners: Array<(message: ReceivedMessage) => void> = [];

  private constructor(
    readonly url: string,
    readonly ws: WebSocket,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      let message: ReceivedMessage;
      try {
        message = JSON.parse(data.toString('utf8')) as ReceivedMessage;
      } catch {
        this.failure ??= new AsrctlClientError(
          'protocol',
          `the server sent something that is not JSON: ${data.toString('utf8').slice(0, 80)}`,
        );
        this.wake();
        return;
      }
      this.messages.push(message);
      for (const listener of this.listeners) listener(message);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      }),
    );
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
      let timedOut = false;
      const timer =
        options.handshakeTimeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              ws.terminate();
            }, options.handshakeTimeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const error = timedOut
          ? new AsrctlClientError('timeout', `no WebSocket handshake from ${url} within ${options.handshakeTimeoutMs} ms`, { cause: err })
          : new AsrctlClientError('connection', `cannot connect to ${url}: ${err.message}`, { cause: err });
        client.failure ??= error;
        client.wake();
        reject(error);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        ws.on('error', () => undefined);
        ws.terminate();
        reject(
          new AsrctlClientError('refused', `${url} refused the WebSocket: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(), {
            status: res.statusCode,
          }),
        );
      });
    });
  }

  /** Calls `listener` with each message as it arrives (timestamps, live output). */
  onMessage(listener: (message: ReceivedMessage) => void): void {
    this.listeners.push(listener);
  }

  send(message: ClientCommand | object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
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
    const started = performance.now();
    let seconds = 0;
    let sent = 0;
    for (const frame of frames) {
      if (options.stop?.() || this.failure || this.ws.readyState !== WebSocket.OPEN) break;
      if (pace !== Infinity) {
        const wait = started + (Math.max(0, seconds - headStart) * 1000) / pace - performance.now();
        if (wait > 1) await sleep(wait);
      }
      const limit = options.maxBufferedBytes;
      if (limit !== undefined && this.ws.bufferedAmount > limit) {
        while (this.ws.bufferedAmount > limit / 4 && this.ws.readyState === WebSocket.OPEN) await sleep(1);
      }
      if (this.ws.readyState !== WebSocket.OPEN) break;
      options.onFrame?.(sent);
      this.ws.send(frame);
      sent++;
      seconds += frame.length / 2 / sampleRate;
    }
    return sent;
  }

  /**
   * The next message after the previous match that satisfies `predicate`. Throws when the
   * connection closes or fails first, or after `timeoutMs`.
   */
  async next(predicate: (m: ReceivedMessage) => boolean, what = 'message', timeoutMs = 20_000): Promise<ReceivedMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.cursor < this.messages.length; this.cursor++) {
        const m = this.messages[this.cursor]!;
        if (predicate(m)) {
          this.cursor++;
          return m;
        }
      }
      if (this.failure) throw this.failure;
      if (this.closeCode !== undefined) {
        const reason = this.closeReason ? `: ${this.closeReason}` : '';
        throw new AsrctlClientError(
          'closed',
          `the server closed the connection (code ${this.closeCode}${reason}) while waiting for ${what}${this.received()}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new AsrctlClientError('timeout', `no ${what} from the server within ${timeoutMs} ms${this.received()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  nextType<T extends ServerMessageType>(type: T, timeoutMs?: number): Promise<Extract<TypedServerMessage, { type: T }> & ReceivedMessage> {
    return this.next((m) => m.type === type, `"${type}"`, timeoutMs) as Promise<Extract<TypedServerMessage, { type: T }> & ReceivedMessage>;
  }

  greeting(timeoutMs?: number): Promise<GreetingMessage & ReceivedMessage> {
    return this.nextType('connection_established', timeoutMs);
  }

  nextFinal(timeoutMs?: number): Promise<TranscriptMessage & ReceivedMessage> {
    return this.next((m) => m.is_final === true, 'final result', timeoutMs) as Promise<TranscriptMessage & ReceivedMessage>;
  }

  /**
   * Sends a command and waits for its reply; a server error message before it (about this
   * command or anything else) is thrown as an AsrctlClientError with the server's code.
   */
  async request<C extends ClientCommand>(
    command: C,
    timeoutMs?: number,
  ): Promise<Extract<TypedServerMessage, { type: (typeof REPLY_TO)[C['command']] }>> {
    const reply = REPLY_TO[command.command];
    this.send(command);
    const m = await this.next((m) => m.type === reply || m.type === 'error', `"${reply}"`, timeoutMs);
    if (m.type === 'error') throw serverError(m);
    return m as Extract<TypedServerMessage, { type: (typeof REPLY_TO)[C['command']] }>;
  }

  /** The first error message the server sent, as an error to throw. */
  firstError(): AsrctlClientError | undefined {
    const m = this.messages.find((m) => m.type === 'error');
    return m && serverError(m);
  }

  /** Finals received so far, in order. */
  finals(): Array<TranscriptMessage & ReceivedMessage> {
    return this.messages.filter((m) => m.is_final === true) as Array<TranscriptMessage & ReceivedMessage>;
  }

  close(): Promise<number> {
    if (this.closeCode === undefined) this.ws.close(1000);
    return this.closed;
  }

  private received(): string {
    if (this.messages.length === 0) return '; nothing received';
    const last = JSON.stringify(this.messages.slice(-3));
    return `; received ${this.messages.length} messages, the last: ${last.length > 400 ? `${last.slice(0, 400)}...` : last}`;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function serverError(m: ReceivedMessage): AsrctlClientError {
  return new AsrctlClientError(String(m.code) as AsrctlClientErrorCode, `server error ${String(m.code)}: ${String(m.message)}`);
}
