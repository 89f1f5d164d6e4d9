import Docker from 'dockerode';
import { CliError } from '../cli-error.js';

/** The API version this project speaks: Debian's engine 20.10 refuses newer clients (400). */
export const ENGINE_API_VERSION = 'v1.41';

export interface EngineFacts {
  version: string;
  apiVersion: string;
  os: string;
  architecture: string;
  memoryBytes: number;
  cpus: number;
  rootDir: string;
}

/** A client for the engine named by DOCKER_HOST (or the local socket), pinned to our API version. */
export function connectEngine(): Docker {
  return new Docker({ version: ENGINE_API_VERSION });
}

/** Engine facts, or a CliError that says whether the engine is down or too old. */
export async function engineFacts(docker: Docker): Promise<EngineFacts> {
  let version: Docker.DockerVersion;
  let info: { MemTotal?: number; NCPU?: number; DockerRootDir?: string };
  try {
    [version, info] = await Promise.all([docker.version(), docker.info() as Promise<typeof info>]);
  } catch (err) {
    throw engineUnreachable(err);
  }
  if (compareApiVersions(version.ApiVersion, ENGINE_API_VERSION.slice(1)) < 0) {
    throw new CliError(
      'engine_failed',
      `the Docker engine ${version.Version} speaks API ${version.ApiVersion}; asrctl needs ${ENGINE_API_VERSION.slice(1)} or newer`,
      { hint: 'upgrade the engine to Docker 20.10 or newer' },
    );
  }
  return {
    version: version.Version,
    apiVersion: version.ApiVersion,
    os: version.Os,
    architecture: version.Arch,
    memoryBytes: info.MemTotal ?? 0,
    cpus: info.NCPU ?? 0,
    rootDir: info.DockerRootDir ?? '/var/lib/docker',
  };
}

function compareApiVersions(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** The HTTP status of a dockerode error (404 no such object, 409 conflict, ...), if it has one. */
export function engineStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message from a dockerode error, without dockerode's prefix. */
export function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } }).json;
  if (json && typeof json.message === 'string') return json.message;
  return (err as Error).message.replace(/^\(HTTP code \d+\) [^-]+- /u, '');
}

/** Where dockerode looks for the engine without DOCKER_HOST. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** The engine could not be reached: what was tried, and what to do. */
export function engineUnreachable(err: unknown): CliError {
  return new CliError(
    'engine_failed',
    `cannot reach the Docker engine (${process.env.DOCKER_HOST ?? DEFAULT_DOCKER_SOCKET}): ${(err as Error).message}`,
    { hint: 'start it (systemctl start docker, or dockerd), check DOCKER_HOST, and that this user may use the socket', cause: err },
  );
}

/**
 * Whether an error is a failed connection to the engine (dockerode passes the socket's error on
 * as it is); every command that talks to the engine reports it as engineUnreachable does.
 */
export function isEngineConnectionError(err: unknown): boolean {
  const e = err as { syscall?: string; address?: string; port?: number };
  if (e.syscall !== 'connect') return false;
  const host = process.env.DOCKER_HOST ?? `unix://${DEFAULT_DOCKER_SOCKET}`;
  return host.startsWith('unix://') ? e.address === host.slice('unix://'.length) : host.includes(`${e.address}:${e.port}`);
}
