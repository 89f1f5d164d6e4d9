import { Writable } from 'node:stream';
import type Docker from 'dockerode';

export interface LogOptions {
  follow: boolean;
  /** Last N lines; all when undefined. */
  tail?: number;
  timestamps?: boolean;
  /** The engine's attributes before each line (for services: the task, service and node ids). */
  details?: boolean;
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

/**
 * The same for a Swarm service: every task's lines, each prefixed with the task that wrote it, as
 * `docker service logs` does (`asrctl-app.2.k3j4h5g6f7d8 | ...`; a global service's tasks by node).
 */
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
  let labels = new Map<string, string>();
  const labelOf = async (taskId: string): Promise<string> => {
    // Tasks started while following are looked up when their first line arrives.
    if (!labels.has(taskId)) labels = await taskLabels(docker, service);
    return labels.get(taskId) ?? `${service}.${taskId.slice(0, 12)}`;
  };
  const out = new TaskLinePrefixer(stdout, labelOf, options.timestamps ?? false);
  const err = new TaskLinePrefixer(stderr, labelOf, options.timestamps ?? false);
  await copyLogsOf(docker, source, { ...options, details: true }, out, err, signal);
  await Promise.all([out.flush(), err.flush()]);
}

/** One task whose lines `copyTaskLogs` copies, with the name its lines are prefixed with. */
export interface LogTask {
  id: string;
  /** `service.slot.task`, as `docker service logs` names it. */
  label: string;
}

/** What came of one task's lines: all copied, none because its node went silent, or the engine's error. */
export type TaskLogOutcome = { task: LogTask; outcome: 'copied' | 'silent' } | { task: LogTask; outcome: 'failed'; error: Error };

/**
 * The lines each task has now (no follow), asked of each task apart and copied as they arrive,
 * each prefixed with its task. Asked of the whole service, the engine waits for every node that
 * ran a task, and a node it cannot reach never answers: the answer never ends. Asked per task, the
 * reachable tasks' answers end; one that sends nothing for `silentMs` is given up (its node is
 * unreachable, though Swarm may not say so yet).
 */
export async function copyTaskLogs(
  docker: Docker,
  tasks: LogTask[],
  options: Omit<LogOptions, 'follow' | 'details'>,
  stdout: Writable,
  stderr: Writable,
  silentMs: number,
  signal?: AbortSignal,
): Promise<TaskLogOutcome[]> {
  return Promise.all(
    tasks.map(async (task): Promise<TaskLogOutcome> => {
      const labelOf = (): Promise<string> => Promise.resolve(task.label);
      const out = new TaskLinePrefixer(stdout, labelOf, options.timestamps ?? false);
      const err = new TaskLinePrefixer(stderr, labelOf, options.timestamps ?? false);
      const abort = new AbortController();
      const giveUp = (): void => abort.abort();
      signal?.addEventListener('abort', giveUp, { once: true });
      let silent = false;
      let timer = setTimeout(() => ((silent = true), giveUp()), silentMs);
      try {
        const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
          docker.modem.dial(
            {
              path: `/tasks/${task.id}/logs?`,
              method: 'GET',
              abortSignal: abort.signal,
              isStream: true,
              statusCodes: { 200: true, 404: 'no such task', 500: 'server error', 503: 'node is not part of a swarm' },
              options: {
                stdout: true,
                stderr: true,
                follow: false,
                details: true,
                timestamps: options.timestamps ?? false,
                ...(options.tail !== undefined && { tail: options.tail }),
              },
            },
            (error, data) => (error ? reject(error as Error) : resolve(data as NodeJS.ReadableStream)),
          ),
        );
        docker.modem.demuxStream(stream, out, err);
        await new Promise<void>((resolve, reject) => {
          const stop = (): void => {
            (stream as unknown as { destroy(): void }).destroy();
            resolve();
          };
          if (abort.signal.aborted) return stop();
          abort.signal.addEventListener('abort', stop, { once: true });
          stream.on('data', () => {
            clearTimeout(timer);
            timer = setTimeout(() => ((silent = true), giveUp()), silentMs);
          });
          stream.on('end', resolve);
          stream.on('close', resolve);
          stream.on('error', reject);
        });
        await Promise.all([out.flush(), err.flush()]);
        return { task, outcome: silent ? 'silent' : 'copied' };
      } catch (error) {
        await Promise.all([out.flush(), err.flush()]);
        if (silent) return { task, outcome: 'silent' };
        signal?.throwIfAborted();
        return { task, outcome: 'failed', error: error as Error };
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
      }
    }),
  );
}

/** `service.slot.task` (replicated) or `service.node.task` (global), as `docker service logs` names tasks. */
async function taskLabels(docker: Docker, service: string): Promise<Map<string, string>> {
  const tasks = (await docker.listTasks({ filters: { service: [service] } })) as Array<{ ID: string; Slot?: number; NodeID?: string }>;
  return new Map(tasks.map((t) => [t.ID, `${service}.${t.Slot ?? (t.NodeID ?? '?').slice(0, 12)}.${t.ID.slice(0, 12)}`]));
}

/**
 * A service log line asked for with details: `[TIMESTAMP ]key=value,... MESSAGE`, where the keys
 * include com.docker.swarm.task.id (values URL-encoded by the engine).
 */
export function parseServiceLogLine(line: string, timestamps: boolean): { timestamp?: string; taskId?: string; message: string } {
  let rest = line;
  let timestamp: string | undefined;
  if (timestamps) {
    const space = rest.indexOf(' ');
    if (space > 0) {
      timestamp = rest.slice(0, space);
      rest = rest.slice(space + 1);
    }
  }
  const space = rest.indexOf(' ');
  const details = space >= 0 ? rest.slice(0, space) : rest;
  const taskId = /(?:^|,)com\.docker\.swarm\.task\.id=([^,]+)/u.exec(details)?.[1];
  if (!taskId) return { ...(timestamp !== undefined && { timestamp }), message: rest };
  return {
    ...(timestamp !== undefined && { timestamp }),
    taskId: decodeURIComponent(taskId),
    message: space >= 0 ? rest.slice(space + 1) : '',
  };
}

/** Rewrites each complete line as `[TIMESTAMP ]TASK | MESSAGE`, in order. */
class TaskLinePrefixer extends Writable {
  private partial = '';
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: Writable,
    private readonly labelOf: (taskId: string) => Promise<string>,
    private readonly timestamps: boolean,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    this.chain = this.chain.then(() => this.writeLines(lines));
    this.chain.then(() => done(), done);
  }

  /** Writes a last line that had no newline. */
  async flush(): Promise<void> {
    const rest = this.partial;
    this.partial = '';
    await this.chain;
    if (rest) await this.writeLines([rest]);
  }

  private async writeLines(lines: string[]): Promise<void> {
    for (const line of lines) {
      const { timestamp, taskId, message } = parseServiceLogLine(line, this.timestamps);
      const task = taskId ? `${await this.labelOf(taskId)} | ` : '';
      this.target.write(`${timestamp !== undefined ? `${timestamp} ` : ''}${task}${message}\n`);
    }
  }
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
    ...(options.details && { details: true }),
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
