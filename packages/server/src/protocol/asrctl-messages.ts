import type { ModelInfo } from '../engine/model-info.js';
import type { ClientErrorCode } from './client-error.js';

/**
 * The asrctl protocol's messages (docs/protocol.md), declared once: the server builds them and
 * the client (`AsrctlClient`) reads them, so neither can drift from the other.
 */

/** A JSON text message from client to server. */
export type ClientCommand =
  | { command: 'switch_language'; language: string }
  | { command: 'switch_model'; model: string }
  | { command: 'reset' }
  | { command: 'eof' }
  | { command: 'configure'; sample_rate?: number; words?: boolean; wav_name?: string };

export interface WordTiming {
  word: string;
  start: number;
  end: number;
  conf: number;
}

/** A partial (`is_final: false`) or a final result. */
export interface TranscriptMessage {
  is_final: boolean;
  mode: string;
  text: string;
  wav_name: string;
  language: string;
  timestamp: string;
  words?: WordTiming[];
}

export interface GreetingMessage {
  type: 'connection_established';
  supported_languages: string[];
  current_language: string;
  /** `auto`: the server picks each utterance's language; otherwise the client switches it. */
  mode: 'auto' | 'manual_switch';
  available_models: ModelInfo[];
  current_model: string;
}

export interface ErrorMessage {
  type: 'error';
  code: ClientErrorCode;
  message: string;
}

/** The reply to each command, in the order the commands came. */
export type CommandReply =
  | { type: 'language_switched'; language: string; model: string }
  | { type: 'model_switched'; model: string; language: string; message: string }
  | { type: 'reset_complete' }
  | { type: 'eof_complete' }
  | { type: 'configured'; sample_rate: number; words: boolean; wav_name: string };

/** Every message with a `type`; transcripts have `is_final` instead. */
export type TypedServerMessage = GreetingMessage | ErrorMessage | CommandReply;
export type ServerMessageType = TypedServerMessage['type'];
export type ServerMessage = TypedServerMessage | TranscriptMessage;

/** The reply type each command is answered with. */
export const REPLY_TO = {
  switch_language: 'language_switched',
  switch_model: 'model_switched',
  reset: 'reset_complete',
  eof: 'eof_complete',
  configure: 'configured',
} as const satisfies Record<ClientCommand['command'], CommandReply['type']>;
