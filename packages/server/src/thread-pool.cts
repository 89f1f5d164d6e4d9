import fs = require('node:fs');
import os = require('node:os');

/**
 * Every libvosk call runs on libuv's thread pool (koffi's async calls). Its default of 4 threads on
 * a 2-core machine bounced each stream's calls between threads and cost up to 15% of throughput in
 * the benchmarks; one thread per core (at least 2) matched the raw engine. An operator's own
 * UV_THREADPOOL_SIZE wins.
 *
 * libuv reads the variable once, when the pool starts, and Node's ES module loader starts it while
 * loading the first module: so this is CommonJS, called from CommonJS entry points (main.cjs)
 * before they import the program.
 */
function sizeThreadPool(env: NodeJS.ProcessEnv = process.env): number {
  env.UV_THREADPOOL_SIZE ||= String(Math.max(2, usableCores()));
  return Number(env.UV_THREADPOOL_SIZE);
}

/**
 * The cores this process may use: the CPUs it may run on, fewer under a cgroup v2 CPU quota
 * (`docker run --cpus 1.5` on a 64-core host is 2, not 64: each decode thread costs ~40 MiB).
 */
function usableCores(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const cores = os.availableParallelism();
  let quota: string | undefined;
  let period: string | undefined;
  try {
    [quota, period] = fs.readFileSync(cpuMaxFile, 'utf8').trim().split(/\s+/u);
  } catch {
    return cores; // no cgroup v2 CPU controller here
  }
  const share = Number(quota) / Number(period);
  return quota !== 'max' && share > 0 ? Math.min(cores, Math.ceil(share)) : cores;
}

export = { sizeThreadPool, usableCores };
