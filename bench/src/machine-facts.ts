import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineFacts {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  libvosk: string;
  koffi: string;
  loadAverageAtStart: number[];
}

export function machineFacts(): MachineFacts {
  const serverDir = dirname(fileURLToPath(import.meta.resolve('@asrctl/server/package.json')));
  const fromServer = createRequire(`${serverDir}/`);
  const version = (pkg: string): string => (fromServer(`${pkg}/package.json`) as { version: string }).version;
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    date: new Date().toISOString(),
    cpu: /model name\s*:\s*(.+)/u.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    libvosk: `${version('vosk')} (npm package vosk, linux-x86_64)`,
    koffi: (fromServer('koffi') as { version: string }).version,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
