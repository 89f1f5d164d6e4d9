#!/usr/bin/env node
// The image's entry point: CommonJS, so the thread pool is sized before any ES module loads.
import threadPool = require('./thread-pool.cjs');

threadPool.sizeThreadPool();
// A signal while the modules load (a few hundred ms) is kept for runServer (run.ts), which acts on it
// once the server has started: Node's default would end the process at once, without a word.
const keepEarlySignal = (signal: NodeJS.Signals): void => {
  (globalThis as Record<symbol, unknown>)[Symbol.for('asrctl.early-signal')] ??= signal;
};
process.on('SIGTERM', keepEarlySignal);
process.on('SIGINT', keepEarlySignal);
void import('./server-main.js');
