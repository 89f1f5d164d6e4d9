import type { WebSocket } from 'ws';
import type { EngineError } from '../engine/errors.js';
import { type VoskPartial, type VoskResult, resultText } from '../engine/vosk-result.js';
import { AUTO_LANGUAGE, normalizeLanguage } from '../languages.js';
import { type ResultContext, type SessionListener, type StreamSettings, isSupportedSampleRate, sampleRateRefusal } from '../session.js';
import type { ClientCommand, CommandReply, GreetingMessage, TranscriptMessage } from './asrctl-messages.js';
import { ClientError } from './client-error.js';
import type { ClientConnection, ProtocolContext } from './connection.js';
import { openConnection } from './connection.js';

/** The guide's `wav_name`, kept as the default so its clients see what they expect. */
const DEFAULT_WAV_NAME = 'h5';

/**
 * asrctl's own protocol: a greeting, partials when their text changes, finals at endpoints and on
 * request, and JSON commands answered in order. See docs/protocol.md.
 */
export function acceptAsrctlClient(
  ws: WebSocket,
  context: ProtocolContext,
  language = context.defaultLanguage,
  model?: string,
): ClientConnection {
  let lastPartial = '';
  let wavName = DEFAULT_WAV_NAME;

  const transcript = (text: string, isFinal: boolean, ctx: ResultContext): TranscriptMessage => ({
    is_final: isFinal,
    mode: ctx.model,
    text,
    wav_name: wavName,
    language: ctx.language,
    timestamp: new Date().toISOString(),
  });

  const listener: SessionListener = {
    partial(partial: VoskPartial, ctx) {
      if (partial.partial === lastPartial) return;
      lastPartial = partial.partial;
      connection.send(transcript(partial.partial, false, ctx), 'partial');
    },
    final(result: VoskResult, ctx) {
      const text = resultText(result);
      // An empty final is sent only to retract a partial the client is showing.
      if (text === '' && lastPartial === '') return;
      lastPartial = '';
      const message = transcript(text, true, ctx);
      if (connection.session.settings.words) {
        message.words = (result.result ?? []).map(({ word, start, end, conf }) => ({ word, start, end, conf }));
      }
      connection.send(message, 'final');
    },
    error(error: EngineError) {
      connection.sendError(new ClientError('decode_failed', error.message));
    },
  };

  // The listener runs only after openConnection returns, so `connection` is set by then.
  const connection: ClientConnection = openConnection(
    ws,
    context,
    'asrctl',
    listener,
    {
      onOpen(conn) {
        conn.send({
          type: 'connection_established',
          supported_languages: context.engine.languages,
          current_language: conn.session.settings.language,
          // `auto`: the server picks each utterance's language; otherwise the client switches it.
          mode: conn.session.automaticLanguage ? 'auto' : 'manual_switch',
          available_models: context.engine.modelList,
          current_model: conn.session.modelName,
        } satisfies GreetingMessage);
      },
      async onText(conn, text): Promise<CommandReply> {
        const command = parseCommand(text);
        const session = conn.session;
        switch (command.command) {
          case 'switch_language': {
            const language = requireLanguage(command.language, context.engine.languages);
            await session.reconfigure({ language });
            return { type: 'language_switched', language, model: session.modelName };
          }
          case 'switch_model': {
            const chosen = context.engine.modelNamed(command.model);
            if (!chosen) {
              throw new ClientError(
                'unknown_model',
                `model ${JSON.stringify(command.model).slice(0, 80)} is not loaded; this server has: ${context.engine.modelList.map((m) => m.name).join(', ')}`,
              );
            }
            await session.reconfigure({ language: chosen.language, model: chosen.name });
            return {
              type: 'model_switched',
              model: chosen.name,
              language: chosen.language,
              message: `switched to ${chosen.name} (${chosen.language})`,
            };
          }
          case 'reset':
            await session.reset();
            lastPartial = '';
            return { type: 'reset_complete' };
          case 'eof':
            await session.flush();
            return { type: 'eof_complete' };
          case 'configure': {
            const changes: Partial<StreamSettings> = {};
            if (command.sample_rate !== undefined) changes.sampleRate = command.sample_rate;
            if (command.words !== undefined) changes.words = command.words;
            const applied = Object.keys(changes).length > 0 ? session.reconfigure(changes) : undefined;
            // Queued right behind the reconfigure, so it reads the settings this command left, not a later
            // one's; after its flush, so the previous utterance's final keeps its own name.
            const reply = session.inOrder(() => {
              if (command.wav_name !== undefined) wavName = command.wav_name;
              return {
                type: 'configured',
                sample_rate: session.settings.sampleRate,
                words: session.settings.words,
                wav_name: wavName,
              } as const;
            });
            // Both awaited together: a rejection of either is reported, never left unobserved.
            return (await Promise.all([applied, reply]))[1];
          }
        }
      },
    },
    { language, ...(model && { model }) },
  );
  return connection;
}

/** Validates a text message into a command; throws ClientError with a stable code otherwise. */
export function parseCommand(text: string): ClientCommand {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ClientError('invalid_json', `message is not valid JSON: ${preview(text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ClientError('invalid_message', 'a text message must be a JSON object with a "command" field');
  }
  const message = value as Record<string, unknown>;
  const command = message.command;
  if (typeof command !== 'string') {
    throw new ClientError('invalid_message', 'missing "command": expected one of switch_language, switch_model, reset, eof, configure');
  }
  switch (command) {
    case 'reset':
    case 'eof':
      return { command };
    case 'switch_language':
      if (typeof message.language !== 'string') {
        throw new ClientError(
          'unsupported_language',
          'switch_language needs "language", e.g. {"command":"switch_language","language":"en"}',
        );
      }
      return { command, language: message.language };
    case 'switch_model':
      if (typeof message.model !== 'string') {
        throw new ClientError('unknown_model', 'switch_model needs "model", e.g. {"command":"switch_model","model":"vosk-model-cn-0.22"}');
      }
      return { command, model: message.model };
    case 'configure': {
      const out: ClientCommand = { command };
      if (message.sample_rate !== undefined) {
        const rate = message.sample_rate;
        if (!isSupportedSampleRate(rate)) throw new ClientError('invalid_sample_rate', sampleRateRefusal('sample_rate', rate));
        out.sample_rate = rate;
      }
      if (message.words !== undefined) {
        if (typeof message.words !== 'boolean') throw new ClientError('invalid_option', '"words" must be true or false');
        out.words = message.words;
      }
      if (message.wav_name !== undefined) {
        if (typeof message.wav_name !== 'string' || message.wav_name.length > 256) {
          throw new ClientError('invalid_option', '"wav_name" must be a string of at most 256 characters');
        }
        out.wav_name = message.wav_name;
      }
      return out;
    }
    default:
      throw new ClientError(
        'unknown_command',
        `unknown command ${JSON.stringify(command).slice(0, 64)}: expected switch_language, switch_model, reset, eof or configure`,
      );
  }
}

function requireLanguage(requested: string, available: string[]): string {
  const language = normalizeLanguage(requested);
  if (!available.includes(language) && language !== AUTO_LANGUAGE) {
    throw new ClientError(
      'unsupported_language',
      `language ${JSON.stringify(requested).slice(0, 40)} is not available; this server has: ${available.join(', ')} (or auto)`,
    );
  }
  return language;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}
