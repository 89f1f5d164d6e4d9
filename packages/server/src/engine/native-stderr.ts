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

/**
 * Kaldi's log lines look like `ERROR (VoskAPI:ExpectToken():io-funcs.cc:200) text`; OpenFst's like
 * `ERROR: text`. Anything else (usage dumps after a config error) is detail for debugging.
 */
export function parseKaldiLine(line: string): { level: 'debug' | 'info' | 'warn' | 'error'; origin?: string; text: string } {
  const kaldi = /^(LOG|VLOG\[\d+\]|WARNING|ERROR|ASSERTION_FAILED) \((.+?:\d+)\) ?(.*)$/u.exec(line);
  if (kaldi) return { level: severity(kaldi[1]!), origin: kaldi[2]!, text: kaldi[3]! };
  const fst = /^(ERROR|WARNING|INFO): (.*)$/u.exec(line);
  if (fst) return { level: fst[1] === 'INFO' ? 'info' : severity(fst[1]!), origin: 'OpenFst', text: fst[2]! };
  return { level: 'debug', text: line };
}

function severity(tag: string): 'debug' | 'info' | 'warn' | 'error' {
  if (tag === 'LOG') return 'info';
  if (tag === 'WARNING') return 'warn';
  return tag.startsWith('VLOG') ? 'debug' : 'error';
}
