import type { WebSocket } from 'ws';
import type { EngineError } from '../engine/errors.js';
import type { VoskPartial, VoskResult } from '../engine/vosk-result.js';
import { type SessionListener, type StreamSettings, isSupportedSampleRate, sampleRateRefusal } from '../session.js';
import { ClientError } from './client-error.js';
import type { ClientConnection, ProtocolContext } from './connection.js';
import { openConnection } from './connection.js';

/** The texts vosk-server compares messages with, byte for byte. */
const EOF_TEXT = '{"eof" : 1}';
const RESET_TEXT = '{"reset" : 1}';

/**
 * vosk-server's WebSocket protocol (alphacep/vosk-server, websocket/asr_server.py), for its
 * existing clients: no greeting; an optional `{"config": {...}}` text; then exactly one reply
 * per message: libvosk's partial or result for each audio frame, the final result for
 * `{"eof" : 1}` (then the connection closes) and `{"reset" : 1}` (then it continues).
 * Results are libvosk's own objects, so field names and nesting are vosk-server's.
 */
export function acceptVoskClient(ws: WebSocket, context: ProtocolContext, language: string, model?: string): ClientConnection {
  let audioSeen = false;

  const listener: SessionListener = {
    partial(partial: VoskPartial) {
      connection.send(partial, 'partial');
    },
    final(result: VoskResult, _context, cause) {
      // Applying a config replaces the recognizer; the empty final that produces is not a reply.
      if (cause !== 'reconfigure') connection.send(result, 'final');
    },
    error(error: EngineError) {
      // vosk-server would answer this frame with something; an empty partial keeps the count.
      connection.send({ partial: '', error: error.message });
    },
  };

  const connection: ClientConnection = openConnection(
    ws,
    context,
    'vosk',
    listener,
    {
      onAudio() {
        audioSeen = true;
      },
      // Like every reply to a vosk client: a partial, so clients that read `partial` keep going.
      errorReply: (error) => ({ partial: '', error: error.message, code: error.code }),
      async onText(conn, text) {
        const message = parse(text);
        if (message && typeof message.config === 'object' && message.config !== null) {
          // As in vosk-server, config shapes the recognizer made for the first audio; later configs are ignored.
          if (audioSeen) return undefined;
          await conn.session.reconfigure(configSettings(message.config as Record<string, unknown>));
          return undefined;
        }
        if (text === EOF_TEXT || message?.eof === 1) {
          await conn.session.flush();
          conn.close(1000, 'eof');
          return undefined;
        }
        if (text === RESET_TEXT || message?.reset === 1) {
          await conn.session.flush();
          return undefined;
        }
        // vosk-server would feed this text to the recognizer as audio; answer it, and say why.
        return { partial: '', error: 'text messages are {"config": {...}}, {"eof" : 1} or {"reset" : 1}; audio goes in binary messages' };
      },
    },
    // Without a config, a stream is as vosk-server assumes (asr_server.py: VOSK_SAMPLE_RATE 8000,
    // VOSK_SHOW_WORDS true): telephony audio, word times in every final (test_srt.py needs them).
    { language, ...(model && { model }), resultPerFrame: true, ...context.voskDefaults },
  );
  return connection;
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * vosk-server's config keys; other out-of-range values fall back to the defaults rather than fail.
 * A sample rate that cannot be used is refused: audio decoded at another rate is wrong text.
 */
function configSettings(config: Record<string, unknown>): Partial<StreamSettings> {
  const settings: Partial<StreamSettings> = {};
  if (config.sample_rate !== undefined) {
    // Python clients may send the rate as text or as a float (16000.0 is 16000 in JSON).
    const rate = Number(config.sample_rate);
    if (!isSupportedSampleRate(rate)) throw new ClientError('invalid_sample_rate', sampleRateRefusal('sample_rate', config.sample_rate));
    settings.sampleRate = rate;
  }
  if (config.words !== undefined) settings.words = Boolean(config.words);
  const alternatives = Number(config.max_alternatives);
  if (Number.isInteger(alternatives) && alternatives >= 0 && alternatives <= 100) settings.maxAlternatives = alternatives;
  if (Array.isArray(config.phrase_list) && config.phrase_list.every((p) => typeof p === 'string'))
    settings.grammar = config.phrase_list as string[];
  return settings;
}
