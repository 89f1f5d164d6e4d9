import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Engine } from '../engine/engine.js';
import type { ServerMetrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import type { Limits } from '../config.js';
import { Session, type SessionListener, type StreamSettings } from '../session.js';
import type { ErrorMessage } from './asrctl-messages.js';
import { ClientError } from './client-error.js';
import { TokenBucket } from './token-bucket.js';

/** A client may send this many seconds' worth of messages at once (e.g. a file's first frames). */
const MESSAGE_BURST_SECONDS = 10;
/** Audio frames at least this long are not counted by the message rate limit. */
const UNCOUNTED_AUDIO_SECONDS = 0.02;

export interface ProtocolContext {
  engine: Engine;
  defaultLanguage: string;
  logger: Logger;
  metrics: ServerMetrics;
  /** Open connections, for draining on shutdown. */
  connections: Set<ClientConnection>;
  limits: Limits;
  /** What vosk-server clients that send no config get. */
  voskDefaults: { sampleRate: number; words: boolean };
}

export interface ClientConnection {
  readonly session: Session;
  send(message: object, kind?: 'partial' | 'final'): void;
  sendError(error: ClientError): void;
  /** Flushes the session (its final goes out first), then closes with `code`. */
  shutdown(code: number, reason: string): Promise<void>;
  /** Closes the socket once every reply queued so far has been sent. */
  close(code: number, reason: string): void;
  /** Closes the socket now, replies not yet sent dropped: the shutdown ran out of time. */
  abandon(code: number, reason: string): void;
}

/** What a wire protocol adds to the shared plumbing below. */
export interface ProtocolHandler {
  onOpen?(connection: ClientConnection): void;
  /** Called for each binary message, after the session has it. */
  onAudio?(connection: ClientConnection): void;
  /** An error as this protocol's clients can read it (default: asrctl's `{"type":"error",...}`). */
  errorReply?(error: ClientError): object;
  /**
   * Handles one text message and resolves with its reply (if any). Must hand its work to the
   * session before its first await, so commands keep their order relative to audio. Replies and
   * errors go out in message order.
   */
  onText(connection: ClientConnection, text: string): Promise<object | undefined>;
}

/**
 * The plumbing every protocol shares: the session, audio frames, replies kept in message order,
 * errors as messages (the session goes on), metrics and logs, cleanup when the socket closes.
 */
export function openConnection(
  ws: WebSocket,
  context: ProtocolContext,
  protocol: string,
  listener: SessionListener,
  handler: ProtocolHandler,
  settings: Partial<StreamSettings> = {},
): ClientConnection {
  const { engine, logger, metrics } = context;
  const { limits } = context;
  const session = new Session(
    engine,
    { language: context.defaultLanguage, sampleRate: 16000, words: false, ...settings },
    listener,
    limits.maxBufferedAudioSeconds,
  );
  const log = logger.child({ session: session.id });
  let replies: Promise<void> = Promise.resolve();
  let audioBytes = 0;
  let backlogReported = false;
  let cutTimer: NodeJS.Timeout | undefined;
  const messageRate = new TokenBucket(limits.maxMessagesPerSecond, limits.maxMessagesPerSecond * MESSAGE_BURST_SECONDS);

  /**
   * Closes a client that broke a limit: 1008 (policy violation) and a reason it can read, if it
   * reads at all; the socket is destroyed a second later whether or not it answered the close.
   */
  const cut = (reason: string, message: string): void => {
    if (cutTimer || ws.readyState !== ws.OPEN) return;
    metrics.clientCut(reason);
    log.warn({ reason, unsent_bytes: ws.bufferedAmount }, 'client_cut');
    ws.close(1008, message);
    cutTimer = setTimeout(() => ws.terminate(), 1000);
    // Nothing more from it is read or decoded: what it queued is dropped now, not after the close.
    ws.pause();
    void session.close();
  };

  const connection: ClientConnection = {
    session,
    send(message, kind) {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(message));
      if (kind) metrics.resultSent(kind);
      // A client that does not read its replies would otherwise make them pile up in memory.
      if (ws.bufferedAmount > limits.maxSendBufferBytes) cut('slow_reader', 'replies are not being read');
    },
    sendError(error) {
      metrics.errorReported(error.code);
      log.info({ code: error.code, message: error.message }, 'client_error');
      connection.send(handler.errorReply?.(error) ?? ({ type: 'error', code: error.code, message: error.message } satisfies ErrorMessage));
    },
    async shutdown(code, reason) {
      try {
        await replies;
        // A client gone already takes no final.
        if (!session.isClosed) await session.flush();
      } catch (err) {
        // A client that left meanwhile cut its own flush off (its session's close drops it): nothing failed.
        if (!session.isClosed) log.warn({ err }, 'flush_failed');
      }
      if (ws.readyState === ws.OPEN) ws.close(code, reason);
    },
    close(code, reason) {
      void replies.then(() => ws.readyState === ws.OPEN && ws.close(code, reason));
    },
    abandon(code, reason) {
      if (ws.readyState === ws.OPEN) ws.close(code, reason);
    },
  };

  context.connections.add(connection);
  metrics.sessionOpened(protocol);
  log.info({ protocol, language: session.settings.language }, 'session_opened');

  // A session ends when it has lasted too long or gone silent (its final first), or when its peer
  // stops answering pings (a dead peer cannot take a final).
  const lifetime = setTimeout(() => void connection.shutdown(1008, 'session time limit reached'), limits.maxSessionSeconds * 1000);
  const idle = setTimeout(() => void connection.shutdown(1000, 'idle timeout'), limits.idleTimeoutSeconds * 1000);
  // Only a pong carrying the last ping's random payload counts: unsolicited pongs prove nothing.
  let awaitedPong: Buffer | undefined;
  const pinger = setInterval(() => {
    if (awaitedPong) {
      log.info({}, 'peer_unresponsive');
      ws.terminate();
      return;
    }
    awaitedPong = randomBytes(8);
    ws.ping(awaitedPong);
  }, limits.pingIntervalSeconds * 1000);
  const rateLimited = (): void => {
    connection.sendError(
      new ClientError(
        'rate_limited',
        `more than ${limits.maxMessagesPerSecond} messages a second (bursts of ${limits.maxMessagesPerSecond * MESSAGE_BURST_SECONDS}) other than audio frames of 20 ms or more; the session is closed: send audio in frames of 20 ms or more, and a command after the reply to the one before`,
      ),
    );
    cut('rate_limited', 'too many messages');
  };
  ws.on('pong', (data: Buffer) => {
    if (awaitedPong?.equals(data)) awaitedPong = undefined;
    // An unsolicited pong is a message like any other: a flood of them must not slow other sessions.
    else if (!cutTimer && !messageRate.take()) rateLimited();
  });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    // Frames parsed in the same chunk as the one that got the client cut are ignored.
    if (cutTimer) return;
    idle.refresh();
    // Every message costs work: a flood of cheap ones (commands, empty or tiny audio frames) must not
    // slow other sessions. Audio of 20 ms or more is not counted: its volume is bounded by the backlog
    // (--max-buffered-audio), and clients stream files in such frames as fast as they can (FunASR's
    // offline mode sends 60 ms a millisecond apart).
    const audio = isBinary && data.length >= UNCOUNTED_AUDIO_SECONDS * session.settings.sampleRate * 2;
    if (!audio && !messageRate.take()) {
      rateLimited();
      return;
    }
    if (isBinary) {
      audioBytes += data.length;
      const accepted = session.audio(data);
      // An episode ends when the backlog has drained to half the limit.
      if (accepted && session.bufferedSeconds < limits.maxBufferedAudioSeconds / 2) backlogReported = false;
      else if (!accepted && !backlogReported) {
        // Told once per episode: the client sends faster than the server decodes, and frames are dropped.
        backlogReported = true;
        connection.sendError(
          new ClientError(
            'audio_backlog',
            `more than ${limits.maxBufferedAudioSeconds} s of audio is waiting to be decoded; frames are dropped until it drains: send at real-time pace`,
          ),
        );
      }
      handler.onAudio?.(connection);
      return;
    }
    // Each command waits for the ones before it: a client must not queue work without bound.
    if (session.queuedCommands >= limits.maxQueuedCommands) {
      connection.sendError(
        new ClientError(
          'command_backlog',
          `more than ${limits.maxQueuedCommands} commands are waiting to run; the session is closed: wait for each reply before sending more`,
        ),
      );
      cut('command_backlog', 'too many commands waiting');
      return;
    }
    if (data.length > limits.maxJsonBytes) {
      replies = replies.then(() =>
        connection.sendError(
          new ClientError('message_too_large', `text messages are limited to ${limits.maxJsonBytes} bytes; this one has ${data.length}`),
        ),
      );
      return;
    }
    // The outcome is captured now (an unobserved rejection would crash the process); its error
    // reply waits for the replies of earlier messages.
    const outcome = handler.onText(connection, data.toString('utf8')).then(
      (reply) => ({ reply }),
      (error: unknown) => ({ error }),
    );
    replies = replies
      .then(() => outcome)
      .then((o) => {
        if (session.isClosed) return;
        if ('reply' in o) {
          if (o.reply) connection.send(o.reply);
        } else {
          connection.sendError(o.error instanceof ClientError ? o.error : new ClientError('decode_failed', (o.error as Error).message));
        }
      });
  });
  ws.on('error', (err) => log.warn({ err: err.message }, 'socket_error'));
  ws.on('close', (code: number) => {
    clearTimeout(lifetime);
    clearTimeout(idle);
    clearInterval(pinger);
    clearTimeout(cutTimer);
    context.connections.delete(connection);
    metrics.sessionClosed();
    void session.close().then(() => log.info({ code, audio_bytes: audioBytes }, 'session_closed'));
  });

  handler.onOpen?.(connection);
  return connection;
}
