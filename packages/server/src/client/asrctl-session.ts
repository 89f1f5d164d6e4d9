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

/**
 * The part of the standard WebSocket interface a session uses: a browser's WebSocket has it, and
 * so has the `ws` package's, so one session runs in the test page and in Node.
 */
export interface ProtocolSocket {
  readonly readyState: number;
  binaryType: string;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: object) => void): void;
}

/** WebSocket.OPEN, the same in every implementation. */
const OPEN = 1;

/** A typed server message the session is waiting for, with the reply type of each command. */
type Reply<C extends ClientCommand> = Extract<TypedServerMessage, { type: (typeof REPLY_TO)[C['command']] }>;

/**
 * One conversation in asrctl's protocol (docs/protocol.md) over an open or opening WebSocket,
 * without anything of Node or of a browser: the test page uses it directly, and `AsrctlClient`
 * (Node: connecting, TLS, paced streaming) builds on it. It records every message and waits for
 * the next one matching a predicate (messages already received count), so callers read the
 * conversation in protocol order; listeners hear each message as it arrives.
 */
export class AsrctlSession {
  readonly messages: ReceivedMessage[] = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<number>;
  /** Set when the connection failed under us or the server sent something that is not JSON. */
  failure: AsrctlClientError | undefined;
  /** The URL as messages show it: a token in its query is a secret, never printed. */
  readonly shownUrl: string;
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private listeners: Array<(message: ReceivedMessage) => void> = [];

  constructor(
    readonly url: string,
    private readonly socket: ProtocolSocket,
  ) {
    this.shownUrl = withoutToken(url);
    // Binary messages are not part of the protocol from the server: read as ArrayBuffers, ignored.
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', ({ data }) => {
      if (typeof data !== 'string') return;
      let message: ReceivedMessage;
      try {
        message = JSON.parse(data) as ReceivedMessage;
      } catch {
        this.fail(new AsrctlClientError('protocol', `the server sent something that is not JSON: ${data.slice(0, 80)}`));
        return;
      }
      this.messages.push(message);
      for (const listener of this.listeners) listener(message);
      this.wake();
    });
    socket.addEventListener('error', (event) => this.fail(this.socketError(event)));
    this.closed = new Promise((resolve) =>
      socket.addEventListener('close', ({ code, reason }) => {
        this.closeCode = code;
        this.closeReason = reason;
        this.wake();
        resolve(code);
      }),
    );
  }

  get open(): boolean {
    return this.socket.readyState === OPEN;
  }

  /** Calls `listener` with each message as it arrives (timestamps, live output, the page's view). */
  onMessage(listener: (message: ReceivedMessage) => void): void {
    this.listeners.push(listener);
  }

  send(message: ClientCommand | object | string): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends one frame of PCM16 audio. */
  sendFrame(frame: ArrayBuffer | ArrayBufferView): void {
    this.socket.send(frame);
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

  async greeting(timeoutMs?: number): Promise<GreetingMessage & ReceivedMessage> {
    try {
      return await this.nextType('connection_established', timeoutMs);
    } catch (err) {
      // Silence after the handshake: most likely a vosk-server or FunASR port, whose protocols wait for the client.
      if (err instanceof AsrctlClientError && err.code === 'timeout' && this.messages.length === 0)
        throw new AsrctlClientError(
          'timeout',
          `${err.message}: an asrctl endpoint greets at once; the vosk-server and FunASR ports (--vosk-port, --funasr-port) do not: connect to the main port, path /`,
          { cause: err },
        );
      throw err;
    }
  }

  nextFinal(timeoutMs?: number): Promise<TranscriptMessage & ReceivedMessage> {
    return this.next((m) => m.is_final === true, 'final result', timeoutMs) as Promise<TranscriptMessage & ReceivedMessage>;
  }

  /**
   * Sends a command and waits for its reply; a server error message before it (about this
   * command or anything else) is thrown as an AsrctlClientError with the server's code.
   */
  async request<C extends ClientCommand>(command: C, timeoutMs?: number): Promise<Reply<C>> {
    const reply = REPLY_TO[command.command];
    this.send(command);
    const m = await this.next((m) => m.type === reply || m.type === 'error', `"${reply}"`, timeoutMs);
    if (m.type === 'error') throw serverError(m);
    return m as Reply<C>;
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
    if (this.closeCode === undefined) this.socket.close(1000);
    return this.closed;
  }

  /** What a socket error event means; a browser's says nothing more than that the connection failed. */
  protected socketError(event: object): AsrctlClientError {
    const detail = 'message' in event && typeof event.message === 'string' ? event.message : 'the connection failed';
    return new AsrctlClientError('connection', `cannot connect to ${this.shownUrl}: ${detail}`, {
      cause: 'error' in event ? event.error : undefined,
    });
  }

  /** Records the first failure and wakes whoever waits for a message. */
  protected fail(error: AsrctlClientError): void {
    this.failure ??= error;
    this.wake();
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

/** `url` with the value of a `token` query parameter replaced by `***` (the server takes `?token=T`). */
export function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/giu, '$1***');
}
