import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../package-root.js';
import type { DecodeReply, DecodeRequest, ThreadReady } from './decode-messages.js';

/**
 * The built decode thread, found from the package root: the same file whether the server runs from
 * tsc's output, from the image's bundle (which builds it to the same place), or from its sources in
 * the tests (which run after `pnpm build`).
 */
const THREAD_SCRIPT = new URL('dist/engine/decode-thread.js', PACKAGE_ROOT);

/** What a decode thread stopping unexpectedly tells each of its streams. */
export interface ThreadLost {
  kind: 'lost';
  message: string;
}

/** A thread's start: koffi and libvosk loaded, normally well under a second. */
const THREAD_START_TIMEOUT_MS = 30_000;
/** A thread's end: the call in progress returns first, and a call decodes at most 0.5 s of audio (decode-thread.ts). */
const THREAD_STOP_TIMEOUT_MS = 2_000;

/** A stream's line to its decode thread. Requests run in the order they are sent. */
export interface DecodeChannel {
  send(request: DistributiveOmit<DecodeRequest, 'id'>, transfer?: ArrayBuffer[]): void;
  /** Work outstanding on the thread or not: a thread with work keeps the process alive. */
  busy(working: boolean): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface DecodeThread {
  worker: Worker;
  /** Its streams' reply handlers, by stream id. */
  streams: Map<number, (reply: DecodeReply | ThreadLost) => void>;
  /** Streams with work outstanding. */
  working: number;
  /** Settles when the thread can decode, or has failed to start. */
  ready: Promise<void>;
}

/**
 * The decode threads (decode-thread.ts), started with `start()` (the engine does so while its
 * models load, so no stream waits for a thread to start) or else on the first streams. Each stream
 * stays on one thread, the one with the fewest streams when it opened; the threads share the
 * process's models.
 */
export class DecodeThreads {
  private readonly threads: DecodeThread[] = [];
  private nextId = 1;

  constructor(
    readonly count: number,
    private readonly libvoskPath: string,
  ) {}

  /**
   * Starts every thread; resolves when all can decode, rejects if one cannot start or has not
   * started within `timeoutMs` (a thread takes well under a second: loading koffi and libvosk).
   */
  async start(timeoutMs = THREAD_START_TIMEOUT_MS): Promise<void> {
    while (this.threads.length < this.count) this.startThread();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a decode thread did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.threads.map((t) => t.ready)), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  open(
    request: DistributiveOmit<Extract<DecodeRequest, { op: 'open' }>, 'id'>,
    onReply: (reply: DecodeReply | ThreadLost) => void,
  ): DecodeChannel {
    const thread = this.leastLoaded();
    const id = this.nextId++;
    thread.streams.set(id, (reply) => {
      if (reply.kind === 'closed' || reply.kind === 'lost') thread.streams.delete(id);
      onReply(reply);
    });
    thread.worker.postMessage({ ...request, op: 'open', id } satisfies DecodeRequest);
    let working = false;
    return {
      send: (r, transfer) => thread.worker.postMessage({ ...r, id }, transfer),
      busy: (now) => {
        if (now === working) return;
        working = now;
        thread.working += now ? 1 : -1;
        if (thread.working === 0) thread.worker.unref();
        else thread.worker.ref();
      },
    };
  }

  /**
   * Stops the threads; streams still open are dropped with them. Each thread is asked to end and
   * ends itself between two calls: `Worker.terminate()` would stop it wherever it is, and a thread
   * stopped inside a native call (a decode, or koffi still loading) aborts the whole process
   * (node-addon-api's napi_throw on a terminating thread is fatal). The threads keep the process
   * alive until they have ended, so an exit right after cannot catch one mid-call either.
   * Resolves with their exit codes (0 for a thread that ended itself), or after `timeoutMs` with
   * `undefined` for a thread still running then (one that never started, say), so a shutdown is
   * never held up for good.
   */
  close(timeoutMs = THREAD_STOP_TIMEOUT_MS): Promise<Array<number | undefined>> {
    const stopping = this.threads.splice(0).map((t) => {
      t.streams.clear();
      t.worker.ref();
      const ended = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => {
          t.worker.unref();
          resolve(undefined);
        }, timeoutMs);
        t.worker.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      t.worker.postMessage({ op: 'stop' } satisfies DecodeRequest);
      return ended;
    });
    return Promise.all(stopping);
  }

  private leastLoaded(): DecodeThread {
    if (this.threads.length < this.count) return this.startThread();
    return this.threads.reduce((a, b) => (b.streams.size < a.streams.size ? b : a));
  }

  private startThread(): DecodeThread {
    const worker = new Worker(THREAD_SCRIPT, { workerData: { libvoskPath: this.libvoskPath } });
    let started: () => void = () => undefined;
    let failed: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    // Nobody need wait for a thread started by a stream: its failure reaches the stream as 'lost'.
    ready.catch(() => undefined);
    const thread: DecodeThread = { worker, streams: new Map(), working: 0, ready };
    worker.unref();
    worker.on('message', (reply: DecodeReply | ThreadReady) =>
      reply.kind === 'ready' ? started() : thread.streams.get(reply.id)?.(reply),
    );
    const lost = (message: string): void => {
      failed(new Error(message));
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      for (const handler of [...thread.streams.values()]) handler({ kind: 'lost', message });
    };
    worker.on('error', (err) => lost(`the decode thread failed: ${err.message}`));
    worker.on('exit', (code) => lost(`the decode thread stopped (exit code ${code})`));
    this.threads.push(thread);
    return thread;
  }
}
