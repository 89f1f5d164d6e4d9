#!/usr/bin/env node
// `asrctl serve` decodes in this process: CommonJS, so the thread pool is sized before any ES module loads.
import threadPool = require('@asrctl/server/thread-pool');

threadPool.sizeThreadPool();
void import('./cli.js');
