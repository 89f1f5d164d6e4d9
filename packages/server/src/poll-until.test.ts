import { describe, expect, it } from 'vitest';
import { PollTimeoutError, pollUntil } from './poll-until.js';

describe('pollUntil', () => {
  it('returns the first value that satisfies the condition, checking again after each interval', async () => {
    let calls = 0;
    const value = await pollUntil(
      () => ++calls,
      (n) => n === 3,
      { what: 'three calls', timeoutMs: 10_000, intervalMs: 1 },
    );
    expect(value).toBe(3);
    expect(calls).toBe(3);
  });

  it('at the deadline throws an error naming what it waited for and the last value seen', async () => {
    const attempt = pollUntil(
      () => 7,
      (n) => n > 10,
      { what: 'the counter to pass 10', timeoutMs: 1, intervalMs: 1 },
    );
    await expect(attempt).rejects.toThrow(
      new PollTimeoutError('timed out after 1 ms waiting for the counter to pass 10 (last seen: 7)', 7),
    );
    await expect(attempt).rejects.toMatchObject({ last: 7 });
  });

  it("throws the caller's error at the deadline, built from the last value", async () => {
    const attempt = pollUntil(
      () => ({ state: 'starting' }),
      (s) => s.state === 'running',
      { what: 'the app', timeoutMs: 1, intervalMs: 1, timeoutError: async (message, last) => new Error(`${message}: still ${last.state}`) },
    );
    await expect(attempt).rejects.toThrow('timed out after 1 ms waiting for the app: still starting');
  });

  it('gives up at once when the check throws', async () => {
    let calls = 0;
    const attempt = pollUntil(
      () => {
        calls++;
        throw new Error('exited');
      },
      () => true,
      { what: 'never', timeoutMs: 60_000, intervalMs: 1 },
    );
    await expect(attempt).rejects.toThrow('exited');
    expect(calls).toBe(1);
  });

  it("stops waiting at once when the signal is aborted, with the signal's reason", async () => {
    const controller = new AbortController();
    let calls = 0;
    const attempt = pollUntil(
      () => {
        // Aborted during the minute's wait that follows this check.
        setImmediate(() => controller.abort(new Error('interrupted')));
        return ++calls;
      },
      () => false,
      { what: 'never', timeoutMs: 600_000, intervalMs: 60_000, signal: controller.signal },
    );
    await expect(attempt).rejects.toThrow('interrupted');
    expect(calls).toBe(1);
  });
});
