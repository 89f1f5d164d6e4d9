import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';

let libc: { dup: (fd: number) => number; dup2: (from: number, to: number) => number } | undefined;

function bindLibc(): NonNullable<typeof libc> {
  if (!libc) {
    const lib = koffi.load('libc.so.6');
    libc = { dup: lib.func('int dup(int)'), dup2: lib.func('int dup2(int, int)') };
  }
  return libc;
}

/**
 * Runs `action` with file descriptor 2 pointed at a temporary file and returns what native code
 * (libvosk/Kaldi) wrote there, so it reaches our logger instead of raw stderr.
 * Only for start-up work such as model loading: everything written to fd 2 meanwhile is captured.
 */
export async function captureNativeStderr<T>(action: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const { dup, dup2 } = bindLibc();
  const dir = mkdtempSync(join(tmpdir(), 'asr-stderr-'));
  const file = join(dir, 'stderr');
  const fd = openSync(file, 'w+');
  const saved = dup(2);
  dup2(fd, 2);
  try {
    const value = await action();
    return { value, lines: readLines(file) };
  } catch (err) {
    (err as { nativeStderr?: string[] }).nativeStderr = readLines(file);
    throw err;
  } finally {
    dup2(saved, 2);
    closeSync(saved);
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0);
}

/** Kaldi's log lines look like `LOG (VoskAPI:Model():model.cc:122) text`. */
export function parseKaldiLine(line: string): { level: 'debug' | 'info' | 'warn' | 'error'; origin?: string; text: string } {
  const m = /^(LOG|VLOG\[\d+\]|WARNING|ERROR|ASSERTION_FAILED) \(([^)]*)\) ?(.*)$/u.exec(line);
  if (!m) return { level: 'info', text: line };
  const level = m[1] === 'LOG' ? 'info' : m[1] === 'WARNING' ? 'warn' : m[1]!.startsWith('VLOG') ? 'debug' : 'error';
  return { level, origin: m[2]!, text: m[3]! };
}
