import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions<T> {
  /** What is waited for, as the error says it: "the edge's runtime API", "asr_recognizers to reach 0". */
  what: string;
  timeoutMs: number;
  intervalMs: number;
  /** The error to throw at the deadline (default: PollTimeoutError); `last` is the last value checked. */
  timeoutError?: (message: string, last: T) => Error | Promise<Error>;
  /** Stops the wait: the poll throws the signal's reason before the next check. */
  signal?: AbortSignal;
}

/** The deadline passed before what a poll waited for happened. */
export class PollTimeoutError<T = unknown> extends Error {
  override readonly name = 'PollTimeoutError';
  constructor(
    message: string,
    /** The last value the check returned (what it saw instead). */
    readonly last: T | undefined,
  ) {
    super(message);
  }
}

/**
 * Calls `check` every `intervalMs` until `done` holds for what it returns, and returns that; after
 * `timeoutMs` throws an error naming what it waited for. `check` may throw to give up at once; an
 * aborted `signal` ends the wait between checks with the signal's reason.
 */
export async function pollUntil<T>(check: () => T | Promise<T>, done: (value: T) => boolean, options: PollOptions<T>): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const { signal } = options;
  for (;;) {
    signal?.throwIfAborted();
    const last = await check();
    if (done(last)) return last;
    if (Date.now() >= deadline) {
      const seen =
        typeof last === 'number' || typeof last === 'string' || typeof last === 'boolean' ? ` (last seen: ${JSON.stringify(last)})` : '';
      const message = `timed out after ${formatDuration(options.timeoutMs)} waiting for ${options.what}${seen}`;
      throw options.timeoutError ? await options.timeoutError(message, last) : new PollTimeoutError(message, last);
    }
    try {
      await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())), undefined, signal && { signal });
    } catch (err) {
      signal?.throwIfAborted();
      throw err;
    }
  }
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
