import type { Writable } from 'node:stream';
import type Docker from 'dockerode';

export interface LogOptions {
  follow: boolean;
  /** Last N lines; all when undefined. */
  tail?: number;
  timestamps?: boolean;
}

/**
 * Copies a container's logs to `stdout` and `stderr`. Without a TTY the engine multiplexes both
 * streams with 8-byte frame headers; they are separated here. With `follow`, resolves when the
 * container stops or `signal` aborts.
 */
export async function copyLogs(
  docker: Docker,
  idOrName: string,
  options: LogOptions,
  stdout: Writable,
  stderr: Writable,
  signal?: AbortSignal,
): Promise<void> {
  return copyLogsOf(docker, docker.getContainer(idOrName), options, stdout, stderr, signal);
}

/** The same for a Swarm service: every task's lines, as `docker service logs` gives them. */
export async function copyServiceLogs(
  docker: Docker,
  service: string,
  options: LogOptions,
  stdout: Writable,
  stderr: Writable,
  signal?: AbortSignal,
): Promise<void> {
  // dockerode's Service.logs has the container's signature; the engine's answer is the same multiplexed stream.
  const source = docker.getService(service) as unknown as Pick<Docker.Container, 'logs'>;
  return copyLogsOf(docker, source, options, stdout, stderr, signal);
}

async function copyLogsOf(
  docker: Docker,
  container: Pick<Docker.Container, 'logs'>,
  options: LogOptions,
  stdout: Writable,
  stderr: Writable,
  signal?: AbortSignal,
): Promise<void> {
  const common = {
    stdout: true,
    stderr: true,
    timestamps: options.timestamps ?? false,
    ...(options.tail !== undefined && { tail: options.tail }),
  };
  if (!options.follow) {
    const buffer = await container.logs({ ...common, follow: false as const });
    demuxBuffer(buffer, stdout, stderr);
    return;
  }
  const stream = await container.logs({ ...common, follow: true as const });
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      (stream as unknown as { destroy(): void }).destroy();
      resolve();
    };
    signal?.addEventListener('abort', stop, { once: true });
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
}

/** Splits a multiplexed log buffer (stream type byte, 3 zero bytes, 4-byte big-endian length). */
export function demuxBuffer(buffer: Buffer, stdout: Writable, stderr: Writable): void {
  for (let o = 0; o + 8 <= buffer.length;) {
    const type = buffer[o]!;
    const length = buffer.readUInt32BE(o + 4);
    const payload = buffer.subarray(o + 8, o + 8 + length);
    (type === 2 ? stderr : stdout).write(payload);
    o += 8 + length;
  }
}
