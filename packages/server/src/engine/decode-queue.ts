import { EngineError } from './errors.js';

type Op = { kind: 'audio'; chunks: Buffer[]; bytes: number } | { kind: 'task'; run: () => Promise<void>; cancel?: (reason: Error) => void };

/**
 * One stream's audio and commands, run one at a time in the order they came: libvosk recognizers
 * are not thread-safe, so a recognizer's calls must never overlap. Audio queued while a call runs
 * merges into one chunk of at most `maxMergeBytes` (0: every frame on its own), so a backlog
 * drains in fewer thread round trips.
 */
export class DecodeQueue {
  private readonly queue: Op[] = [];
  private running = false;
  private queuedAudioBytes = 0;
  private closedValue = false;

  constructor(
    private readonly maxMergeBytes: number,
    private readonly decode: (pcm: Buffer) => Promise<void>,
  ) {}

  /** Bytes of audio queued and not yet handed to libvosk (kept as a count: read for every frame). */
  get queuedBytes(): number {
    return this.queuedAudioBytes;
  }

  /** Whether audio waits behind the call now running (its partial would be stale at once). */
  get audioWaiting(): boolean {
    return this.queue[0]?.kind === 'audio';
  }

  get closed(): boolean {
    return this.closedValue;
  }

  acceptAudio(pcm: Buffer): void {
    if (this.closedValue) return;
    this.queuedAudioBytes += pcm.length;
    const last = this.queue[this.queue.length - 1];
    // With no merging (one result per chunk), every chunk is its own call, empty ones included.
    if (last?.kind === 'audio' && this.maxMergeBytes > 0 && last.bytes + pcm.length <= this.maxMergeBytes) {
      last.chunks.push(pcm);
      last.bytes += pcm.length;
    } else {
      this.queue.push({ kind: 'audio', chunks: [pcm], bytes: pcm.length });
    }
    this.pump();
  }

  /** Runs after everything queued before it. */
  task<T>(run: () => Promise<T>): Promise<T> {
    if (this.closedValue) return Promise.reject(new EngineError('recognizer_failed', 'recognizer is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'task', run: () => run().then(resolve, reject), cancel: reject });
      this.pump();
    });
  }

  /**
   * Drops audio not yet decoded, rejects tasks not yet started, and runs `free` once any call in
   * flight has returned. Resolves when `free` has run.
   */
  close(free: () => void): Promise<void> {
    if (this.closedValue) return Promise.resolve();
    this.closedValue = true;
    const closedError = new EngineError('recognizer_failed', 'recognizer was closed');
    for (const op of this.queue.splice(0)) if (op.kind === 'task') op.cancel?.(closedError);
    this.queuedAudioBytes = 0;
    return new Promise((resolve) => {
      this.queue.push({
        kind: 'task',
        run: async () => {
          free();
          resolve();
        },
      });
      this.pump();
    });
  }

  private pump(): void {
    if (this.running) return;
    this.running = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (let op = this.queue.shift(); op; op = this.queue.shift()) {
        if (op.kind === 'task') await op.run();
        else {
          this.queuedAudioBytes -= op.bytes;
          await this.decode(op.chunks.length === 1 ? op.chunks[0]! : Buffer.concat(op.chunks, op.bytes));
        }
      }
    } finally {
      this.running = false;
    }
  }
}
