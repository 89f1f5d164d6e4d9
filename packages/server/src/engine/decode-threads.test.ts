import { describe, expect, it } from 'vitest';
import { DecodeThreads } from './decode-threads.js';
import { loadLibvosk } from './libvosk-locator.js';

describe('DecodeThreads', () => {
  // Found in CI: a decode thread stopped from outside while koffi was still loading in it aborted the
  // whole process (node-addon-api's napi_throw on a terminating thread is fatal).
  it('close lets threads still starting finish starting, then each ends itself (exit code 0)', async () => {
    const { path } = loadLibvosk();
    for (let round = 0; round < 5; round++) {
      const threads = new DecodeThreads(2, path);
      const started = threads.start();
      await new Promise((r) => setTimeout(r, 3 * round));
      expect(await threads.close(), `round ${round}`).toEqual([0, 0]);
      await started;
    }
  });

  it('start resolves once every thread can decode', async () => {
    const threads = new DecodeThreads(3, loadLibvosk().path);
    await threads.start();
    expect(await threads.close()).toEqual([0, 0, 0]);
  });
});
