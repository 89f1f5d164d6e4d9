import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import koffi from 'koffi';
import { EngineError } from './errors.js';

export type NativeLibrary = ReturnType<typeof koffi.load>;

export interface LocatedLibrary<T> {
  path: string;
  /** What `bind` made of the library: its functions. */
  bound: T;
}

/** libvosk.so as shipped in the npm package vosk@0.3.39 (the only platform it ships that we run on). */
export function bundledLibvoskPath(): string | { reason: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { reason: `the vosk npm package ships no library for ${process.platform}-${process.arch}` };
  }
  try {
    const pkg = createRequire(import.meta.url).resolve('vosk/package.json');
    return join(dirname(pkg), 'lib', 'linux-x86_64', 'libvosk.so');
  } catch {
    return { reason: 'the npm package "vosk" is not installed' };
  }
}

/**
 * Loads libvosk: the explicit path (ASR_LIBVOSK) when given, and then only that one (an operator
 * who names a library must not silently get another); else the bundled one. `bind` looks up its
 * functions: a library that loads but lacks one (not libvosk, or another version) fails like one
 * that does not load. When nothing loads, the error names every path tried and why each failed.
 */
export function loadLibvosk<T = NativeLibrary>(
  explicitPath?: string,
  bind: (library: NativeLibrary) => T = (library) => library as T,
): LocatedLibrary<T> {
  const candidates: Array<{ path: string; source: string } | { failure: string }> = [];
  if (explicitPath) {
    candidates.push({ path: explicitPath, source: 'ASR_LIBVOSK / --libvosk' });
  } else {
    const bundled = bundledLibvoskPath();
    candidates.push(
      typeof bundled === 'string'
        ? { path: bundled, source: 'npm package vosk@0.3.39' }
        : { failure: `bundled library: ${bundled.reason}` },
    );
  }
  const tried: string[] = [];
  for (const candidate of candidates) {
    if ('failure' in candidate) {
      tried.push(candidate.failure);
      continue;
    }
    const { path, source } = candidate;
    if (!existsSync(path)) {
      tried.push(`${path} (${source}): no such file`);
      continue;
    }
    let library: NativeLibrary;
    try {
      library = koffi.load(path);
    } catch (err) {
      tried.push(`${path} (${source}): ${(err as Error).message}`);
      continue;
    }
    try {
      return { path, bound: bind(library) };
    } catch (err) {
      // koffi: "Cannot find function 'vosk_set_log_level' in shared library".
      tried.push(`${path} (${source}): not libvosk 0.3.39: ${(err as Error).message}`);
    }
  }
  const fix = explicitPath
    ? 'Point ASR_LIBVOSK at a libvosk.so (0.3.39) built for this machine, or unset it to use the one in the npm package vosk.'
    : 'Install dependencies (pnpm install), or set ASR_LIBVOSK to a libvosk.so built for this machine.';
  throw new EngineError('libvosk_not_found', `could not load libvosk; tried:\n  - ${tried.join('\n  - ')}\n${fix}`);
}
