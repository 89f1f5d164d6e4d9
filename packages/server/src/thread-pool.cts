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
  env.UV_THREADPOOL_SIZE ||= String(Math.max(2, os.availableParallelism()));
  return Number(env.UV_THREADPOOL_SIZE);
}

export = { sizeThreadPool };
