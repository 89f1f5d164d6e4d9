import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import type ThreadPool from './thread-pool.cjs';

// The built CommonJS module, as the entry points load it (vitest does not transform .cts).
const threadPool = createRequire(import.meta.url)('../dist/thread-pool.cjs') as typeof ThreadPool;

describe('usableCores', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cpu-max-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const cores = async (cpuMax: string): Promise<number> => {
    const file = join(dir, `cpu.max-${cpuMax.replace(/\W/gu, '_')}`);
    await writeFile(file, `${cpuMax}\n`);
    return threadPool.usableCores(file);
  };

  it('follows a cgroup CPU quota below the CPUs (docker --cpus), rounded up', async () => {
    expect(await cores('50000 100000')).toBe(1);
    expect(await cores('100000 100000')).toBe(1);
    expect(await cores(`${availableParallelism() * 100000 + 1} 100000`)).toBe(availableParallelism());
  });

  it('is the CPUs without a quota or without the cgroup file', async () => {
    expect(await cores('max 100000')).toBe(availableParallelism());
    expect(threadPool.usableCores(join(dir, 'absent'))).toBe(availableParallelism());
  });

  it('sizes the thread pool from it unless UV_THREADPOOL_SIZE is set', () => {
    expect(threadPool.sizeThreadPool({ UV_THREADPOOL_SIZE: '7' })).toBe(7);
    expect(threadPool.sizeThreadPool({})).toBe(Math.max(2, threadPool.usableCores()));
  });
});
