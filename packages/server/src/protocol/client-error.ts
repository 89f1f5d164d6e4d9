/** Stable error codes sent to clients as `{"type":"error","code":...}`. Documented in docs/protocol.md. */
export type ClientErrorCode =
  | 'invalid_json'
  | 'invalid_message'
  | 'unknown_command'
  | 'unsupported_language'
  | 'unknown_model'
  | 'invalid_sample_rate'
  | 'invalid_option'
  | 'decode_failed'
  | 'message_too_large'
  | 'audio_backlog'
  | 'command_backlog'
  | 'rate_limited';

/** A client mistake or a failure the client must hear about; the session goes on (except after command_backlog and rate_limited). */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}
