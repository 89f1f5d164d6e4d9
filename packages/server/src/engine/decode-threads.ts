import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../package-root.js';
import { type DecodeReply, type DecodeRequest, type QueuedOp, type ThreadReady, queuedBuffers } from './decode-messages.js';

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

/** What a stream hears from its thread: DecodeThreads keeps its moves between threads to itself. */
export type StreamReply = Exclude<DecodeReply, { kind: 'released' }> | ThreadLost;

/** A thread's start: koffi and libvosk loaded, normally well under a second. */
const THREAD_START_TIMEOUT_MS = 30_000;
/** A thread's end: the call in progress returns first, and a call decodes at most 0.5 s of audio (decode-thread.ts). */
const THREAD_STOP_TIMEOUT_MS = 2_000;

/**
 * Queued audio worth moving a stream to an idle thread for: a real-time stream has a frame or two
 * queued and never moves; one sent faster than it decodes (a file) does.
 */
const MOVE_MIN_QUEUED_SECONDS = 1;

/** A stream's line to its decode thread. Requests run in the order they are sent. */
export interface DecodeChannel {
  send(request: DistributiveOmit<DecodeRequest, 'id'>, transfer?: ArrayBuffer[]): void;
  /** Work outstanding on the thread or not: a thread with work keeps the process alive. */
  busy(working: boolean): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type OpenRequest = DistributiveOmit<Extract<DecodeRequest, { op: 'open' }>, 'id'>;

interface DecodeThread {
  worker: Worker;
  /** Its streams, by id. */
  streams: Map<number, StreamRoute>;
  /** Streams with work outstanding. */
  working: number;
  /** Whether it can decode (koffi and libvosk loaded). */
  started: boolean;
  /** Settles when the thread can decode, or has failed to start. */
  ready: Promise<void>;
}

/** Where a stream's requests go, and what comes back. */
interface StreamRoute {
  id: number;
  thread: DecodeThread;
  open: OpenRequest;
  onReply: (reply: StreamReply) => void;
  /** Seconds of audio queued and not yet decoded. */
  queuedSeconds: () => number;
  /** Work outstanding. */
  working: boolean;
  /** Its close has been sent: it stays where it is. */
  closing: boolean;
  /** Moving to another thread: its requests wait here until its old thread has let it go. */
  held?: Array<{ request: DecodeRequest; transfer: ArrayBuffer[] | undefined }>;
}

/** A stream on its way from one thread to another (one at a time). */
interface Move {
  route: StreamRoute;
  from: DecodeThread;
}

/**
 * The decode threads (decode-thread.ts), started with `start()` (the engine does so while its
 * models load, so no stream waits for a thread to start) or else on the first streams. A stream
 * opens on the thread with the fewest streams; the threads share the process's models. When a
 * thread runs out of work while another has several busy streams, one of those with a backlog
 * moves to it (its recognizer is valid in every thread), so no core idles while audio waits.
 */
export class DecodeThreads {
  private readonly threads: DecodeThread[] = [];
  private nextId = 1;
  private move: Move | undefined;
  private movesMade = 0;

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

  /** `queuedSeconds`: the stream's audio not yet decoded, read when threads are balanced. */
  open(request: OpenRequest, onReply: (reply: StreamReply) => void, queuedSeconds: () => number): DecodeChannel {
    const thread = this.leastLoaded();
    const route: StreamRoute = { id: this.nextId++, thread, open: request, onReply, queuedSeconds, working: false, closing: false };
    thread.streams.set(route.id, route);
    thread.worker.postMessage({ ...request, op: 'open', id: route.id } satisfies DecodeRequest);
    return {
      send: (r, transfer) => {
        const message = { ...r, id: route.id } as DecodeRequest;
        if (message.op === 'close') route.closing = true;
        if (route.held) route.held.push({ request: message, transfer });
        else route.thread.worker.postMessage(message, transfer);
      },
      busy: (now) => {
        if (now === route.working) return;
        route.working = now;
        this.working(route.thread, now ? 1 : -1);
        this.balance();
      },
    };
  }

  /** Streams moved to an idle thread so far. */
  get moves(): number {
    return this.movesMade;
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

  /** A thread with work keeps the process alive; an idle one does not. */
  private working(thread: DecodeThread, change: number): void {
    thread.working += change;
    if (thread.working === 0) thread.worker.unref();
    else thread.worker.ref();
  }

  /** Moves one backlogged stream from a thread with several busy ones to an idle thread. */
  private balance(): void {
    // Runs on every busy/idle change of a stream (each frame of a real-time one): cheap checks first.
    if (this.move) return;
    const idle = this.threads.find((t) => t.started && t.working === 0);
    if (!idle) return;
    const busiest = this.threads.reduce((a, b) => (b.working > a.working ? b : a));
    if (busiest.working < 2) return;
    const [route] = [...busiest.streams.values()]
      .filter((r) => r.working && !r.closing && r.queuedSeconds() >= MOVE_MIN_QUEUED_SECONDS)
      .sort((a, b) => b.queuedSeconds() - a.queuedSeconds());
    if (!route) return;
    this.move = { route, from: busiest };
    route.held = [];
    // Answered by 'released' once the stream's call in progress, if any, has returned.
    busiest.worker.postMessage({ op: 'release', id: route.id } satisfies DecodeRequest);
    route.thread = idle;
    this.working(busiest, -1);
    this.working(idle, 1);
  }

  /** The old thread let the stream go: it opens on its new thread with the work it had queued there, then what waited. */
  private adopt(from: DecodeThread, id: number, ops: QueuedOp[]): void {
    const move = this.move;
    if (move?.from !== from || move.route.id !== id) return;
    this.move = undefined;
    const { route } = move;
    from.streams.delete(id);
    const held = route.held ?? [];
    route.held = undefined;
    if (!this.threads.includes(route.thread)) {
      route.onReply({ kind: 'lost', message: 'the decode thread it was moving to stopped' });
      return;
    }
    route.thread.streams.set(id, route);
    route.thread.worker.postMessage({ ...route.open, op: 'open', id, ops } satisfies DecodeRequest, queuedBuffers(ops));
    for (const { request, transfer } of held) route.thread.worker.postMessage(request, transfer);
    this.movesMade++;
    this.balance();
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
    const thread: DecodeThread = { worker, streams: new Map(), working: 0, started: false, ready };
    worker.unref();
    worker.on('message', (reply: DecodeReply | ThreadReady) => {
      if (reply.kind === 'ready') {
        thread.started = true;
        started();
      } else if (reply.kind === 'released') this.adopt(thread, reply.id, reply.ops);
      else {
        const route = thread.streams.get(reply.id);
        if (reply.kind === 'closed') thread.streams.delete(reply.id);
        route?.onReply(reply);
      }
    });
    const lost = (message: string): void => {
      failed(new Error(message));
      const i = this.threads.indexOf(thread);
      if (i >= 0) this.threads.splice(i, 1);
      for (const route of [...thread.streams.values()]) {
        thread.streams.delete(route.id);
        route.onReply({ kind: 'lost', message });
      }
      // A stream it was letting go is lost with it; one moving to it learns so once let go (adopt).
      if (this.move?.from === thread) this.move = undefined;
    };
    worker.on('error', (err) => lost(`the decode thread failed: ${err.message}`));
    worker.on('exit', (code) => lost(`the decode thread stopped (exit code ${code})`));
    this.threads.push(thread);
    return thread;
  }
}
