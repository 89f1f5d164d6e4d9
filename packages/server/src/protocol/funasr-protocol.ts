import type { WebSocket } from 'ws';
import type { EngineError } from '../engine/errors.js';
import { type VoskPartial, type VoskResult, resultText } from '../engine/vosk-result.js';
import { type SessionListener, isSupportedSampleRate, sampleRateRefusal } from '../session.js';
import type { ClientConnection, ProtocolContext } from './connection.js';
import { openConnection } from './connection.js';
import { ClientError } from './client-error.js';

/** The longest `wav_name` accepted (as in the asrctl protocol). */
const MAX_WAV_NAME_LENGTH = 256;

const MODES = ['online', 'offline', '2pass'] as const;
type FunasrMode = (typeof MODES)[number];

/** FunASR's server calls a stream `microphone` until the client names it. */
const DEFAULT_WAV_NAME = 'microphone';

export interface FunasrMessage {
  mode: string;
  text: string;
  wav_name: string;
  is_final: boolean;
  /** On the last message only: the end of input is acknowledged (FunASR's current clients wait for it). */
  is_end?: true;
  error?: string;
}

/** Vosk separates every word with a space; FunASR writes Chinese without spaces between characters. */
export function funasrText(text: string): string {
  return text.replace(/(?<=[\p{Script=Han}\u3000-\u303f\uff00-\uffef])\s+(?=[\p{Script=Han}\u3000-\u303f\uff00-\uffef])/gu, '');
}

const HAN = /[\p{Script=Han}\u3000-\u303f\uff00-\uffef]/u;

/**
 * The separator FunASR clients need between two sentences they concatenate: none around Chinese,
 * a space between two words in a Latin script (else "high" + "low" reads "highlow").
 */
export function sentenceSeparator(before: string, text: string): string {
  const last = before.at(-1);
  const first = text[0];
  if (!last || !first || /\s/u.test(last) || /\s/u.test(first) || HAN.test(last) || HAN.test(first)) return '';
  return ' ';
}

/**
 * FunASR's runtime WebSocket protocol (funasr_wss_server / funasr-wss-server-2pass), for its
 * existing clients. The client opens with `{"mode", "wav_name", "is_speaking": true, "audio_fs",
 * ...}`, streams PCM16, and ends with `{"is_speaking": false}` (or `is_finished: true`).
 * - online and 2pass: partial text goes out as increments (`online` / `2pass-online`), because
 *   FunASR clients append online messages;
 * - 2pass: each sentence's final text (`2pass-offline`) replaces the sentence's online text, so
 *   Vosk's revisions of words already sent are corrected;
 * - offline: one message after the end of speech with every sentence, as FunASR's offline server
 *   sends it: its clients stop reading at the first `offline` message, so a sentence sent earlier
 *   would end the transcript there;
 * - `is_final` is true only on the last message after the end of speech; that message also carries
 *   `is_end: true`, the end-of-input acknowledgement FunASR's current client waits for (FunASR #3440);
 *   older clients ignore it. Every message has `text`.
 * - sentences the client concatenates are separated as text needs (see sentenceSeparator).
 * Fields it does not use (chunk_size, hotwords, itn, ...) are accepted and ignored.
 */
export function acceptFunasrClient(ws: WebSocket, context: ProtocolContext, language: string, model?: string): ClientConnection {
  let mode: FunasrMode = '2pass';
  let wavName = DEFAULT_WAV_NAME;
  /** The current sentence's online text sent so far (without its separator). */
  let sentOnline = '';
  /** What goes before the current sentence's text; chosen at its first message. */
  let separator: string | undefined;
  /** The last character of the sentences before the current one, as the client has put them together. */
  let lastSentenceEnd = '';
  /** offline: the sentences so far, sent together at the end of speech. */
  let offlineText = '';

  const message = (suffix: 'online' | 'offline', text: string, isFinal = false): FunasrMessage => ({
    mode: mode === '2pass' ? `2pass-${suffix}` : suffix,
    text,
    wav_name: wavName,
    is_final: isFinal,
    ...(isFinal && { is_end: true as const }),
  });
  const separate = (text: string): string => (separator ??= sentenceSeparator(lastSentenceEnd, text));

  const listener: SessionListener = {
    partial(partial: VoskPartial) {
      if (mode === 'offline') return;
      const text = funasrText(partial.partial);
      // Only what extends the text already sent can be sent: a revision waits for the sentence's final.
      if (!text.startsWith(sentOnline) || text.length === sentOnline.length) return;
      const prefix = sentOnline ? '' : separate(text);
      connection.send(message('online', prefix + text.slice(sentOnline.length)), 'partial');
      sentOnline = text;
    },
    final(result: VoskResult, _context, cause) {
      const text = funasrText(resultText(result));
      // Told by the final itself: endpoints of audio sent before the end of speech may arrive while
      // it is being flushed, and the client may have started the next segment already.
      const last = cause === 'end_of_segment';
      const prefix = text ? separate(text) : '';
      if (mode === 'online') {
        const rest = text.startsWith(sentOnline) ? text.slice(sentOnline.length) : '';
        if (rest || last) connection.send(message('online', (sentOnline ? '' : prefix) + rest, last), 'final');
      } else if (mode === 'offline') {
        offlineText += prefix + text;
        if (last) connection.send(message('offline', offlineText, true), 'final');
      } else if (text || last) {
        connection.send(message('offline', prefix + text, last), 'final');
      }
      if (text) lastSentenceEnd = text.slice(-1);
      sentOnline = '';
      separator = undefined;
      if (last) {
        // As upstream, which clears its frames at each end of speech: the next segment's text is its own.
        offlineText = '';
        lastSentenceEnd = '';
      }
    },
    error(error: EngineError) {
      connection.send({ ...message('online', ''), error: error.message });
    },
  };

  const connection: ClientConnection = openConnection(
    ws,
    context,
    'funasr',
    listener,
    {
      errorReply: (error) => ({ ...message('online', ''), error: error.message, code: error.code }),
      async onText(conn, text) {
        let value: Record<string, unknown>;
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          value = parsed as Record<string, unknown>;
        } catch {
          // FunASR clients fail on a message without text: the error rides along with an empty one.
          return { ...message('online', ''), error: `not a FunASR JSON message: ${text.slice(0, 80)}` };
        }
        if (value.mode !== undefined) {
          if (!MODES.includes(value.mode as FunasrMode))
            return {
              ...message('online', ''),
              error: `unknown mode ${JSON.stringify(value.mode).slice(0, 40)}: use ${MODES.join(', ')}`,
            };
          mode = value.mode as FunasrMode;
        }
        if (typeof value.wav_name === 'string') {
          // Echoed in every reply: unbounded, it would multiply whatever a client sends.
          if (value.wav_name.length > MAX_WAV_NAME_LENGTH)
            throw new ClientError(
              'invalid_option',
              `"wav_name" is limited to ${MAX_WAV_NAME_LENGTH} characters; this one has ${value.wav_name.length}: send a shorter name`,
            );
          wavName = value.wav_name;
        }
        if (value.audio_fs !== undefined) {
          const rate = Number(value.audio_fs);
          // Audio decoded at another rate than it has is wrong text: refused, not ignored.
          if (!isSupportedSampleRate(rate)) throw new ClientError('invalid_sample_rate', sampleRateRefusal('audio_fs', value.audio_fs));
          if (rate !== conn.session.settings.sampleRate) await conn.session.reconfigure({ sampleRate: rate });
        }
        // Each end of speech ends one segment; `is_speaking: true` after it starts the next.
        if (value.is_speaking === false || value.is_finished === true) await conn.session.flush('end_of_segment');
        return undefined;
      },
    },
    { language, ...(model && { model }) },
  );
  return connection;
}
