import { existsSync, realpathSync } from 'node:fs';
import { copyFile, cp, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import { CliError } from '../cli-error.js';

/** What the bundle loads from node_modules/: the image runs on linux x86-64 with glibc. */
export interface NativeParts {
  /** koffi's package directory (its JavaScript loader). */
  koffiDir: string;
  /** koffi's native module for linux x64 (glibc). */
  koffiBinary: string;
  /** The npm package vosk's directory (its package.json locates the library). */
  voskDir: string;
  /** libvosk.so as the npm package vosk@0.3.39 ships it for linux x86-64. */
  libvosk: string;
}

/** Finds the native parts installed for the server package in this checkout; nothing is fetched. */
export function locateNativeParts(serverDir: string): NativeParts {
  const fromServer = createRequire(join(serverDir, 'package.json'));
  const installed = (what: string, resolve: () => string): string => {
    try {
      return realpathSync(resolve());
    } catch {
      throw new CliError('image_failed', `asrctl could not find ${what}, which the app image needs, from ${serverDir}`, {
        hint: 'install the dependencies (`pnpm install --frozen-lockfile` in the asrctl checkout) on a Linux x86-64 host',
      });
    }
  };
  // koffi exports no package.json: its CommonJS entry (index.cjs) sits at the package root.
  const koffiDir = dirname(installed('the npm package koffi', () => fromServer.resolve('koffi')));
  const voskDir = dirname(installed('the npm package vosk', () => fromServer.resolve('vosk/package.json')));
  // The places koffi's own loader looks: its per-platform package, then its install script's output.
  const candidates = [koffiPlatformPackageBinary(koffiDir), join(koffiDir, 'build', 'koffi', 'linux_x64', 'koffi.node')].filter(
    (c): c is string => c !== undefined,
  );
  const koffiBinary = candidates.find((c) => existsSync(c));
  if (!koffiBinary)
    throw new CliError(
      'image_failed',
      `asrctl could not find koffi's native module for linux x64 (tried the package @koromix/koffi-linux-x64 and ${candidates.join(', ')})`,
      {
        hint: 'install the dependencies (`pnpm install --frozen-lockfile`) on a Linux x86-64 host: pnpm installs the binary for the host it runs on',
      },
    );
  const libvosk = join(voskDir, 'lib', 'linux-x86_64', 'libvosk.so');
  if (!existsSync(libvosk))
    throw new CliError('image_failed', `asrctl could not find ${libvosk} (the npm package vosk ships it)`, {
      hint: 'reinstall the dependencies (`pnpm install --frozen-lockfile`)',
    });
  return { koffiDir, koffiBinary: realpathSync(koffiBinary), voskDir, libvosk };
}

/** koffi.node in the package @koromix/koffi-linux-x64 beside koffi, if installed. */
function koffiPlatformPackageBinary(koffiDir: string): string | undefined {
  try {
    const pkg = createRequire(join(koffiDir, 'package.json')).resolve('@koromix/koffi-linux-x64/package.json');
    return join(dirname(pkg), 'linux_x64', 'koffi.node');
  } catch {
    return undefined;
  }
}

/** koffi's JavaScript without sources, docs or headers; everything else is for building koffi. */
function isKoffiRuntimeFile(koffiDir: string, path: string, isDirectory: boolean): boolean {
  const rel = relative(koffiDir, path);
  if (rel === '') return true;
  const top = rel.split(sep)[0]!;
  if (['vendor', 'doc', 'build'].includes(top)) return false;
  if (isDirectory) return true;
  const name = basename(rel);
  return name === 'package.json' || name.startsWith('LICENSE') || (/\.c?js$/u.test(name) && name !== 'cnoke.cjs');
}

/**
 * Stages the native parts under nodeModulesDir in the layout their loaders expect, so the image
 * sets nothing: koffi/ with its binary where koffi's install script would put it
 * (build/koffi/linux_x64/koffi.node), vosk/ with package.json and lib/linux-x86_64/libvosk.so only.
 */
export async function stageNativeParts(parts: NativeParts, nodeModulesDir: string): Promise<void> {
  const koffi = join(nodeModulesDir, 'koffi');
  await cp(parts.koffiDir, koffi, {
    recursive: true,
    filter: async (source) => isKoffiRuntimeFile(parts.koffiDir, source, (await stat(source)).isDirectory()),
  });
  const binary = join(koffi, 'build', 'koffi', 'linux_x64', 'koffi.node');
  await mkdir(dirname(binary), { recursive: true });
  await copyFile(parts.koffiBinary, binary);
  const vosk = join(nodeModulesDir, 'vosk');
  await mkdir(join(vosk, 'lib', 'linux-x86_64'), { recursive: true });
  await copyFile(join(parts.voskDir, 'package.json'), join(vosk, 'package.json'));
  await copyFile(parts.libvosk, join(vosk, 'lib', 'linux-x86_64', 'libvosk.so'));
}
