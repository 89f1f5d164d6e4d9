/** An engine failure with what the operator needs: what failed, on what, and what to do. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: 'libvosk_not_found' | 'model_invalid' | 'model_load_failed' | 'recognizer_failed' | 'decode_failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
