#!/usr/bin/env node
// The image's entry point: CommonJS, so the thread pool is sized before any ES module loads.
import threadPool = require('./thread-pool.cjs');

threadPool.sizeThreadPool();
void import('./server-main.js');
