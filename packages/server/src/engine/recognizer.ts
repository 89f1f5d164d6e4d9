import { performance } from 'node:perf_hooks';
import { EngineError } from './errors.js';
import { type LibVosk, type RecognizerHandle, callAsync } from './libvosk.js';
import type { VoskModel } from './model.js';
import { type VoskPartial, type VoskResult, parseVoskJson } from './vosk-result.js';

export interface RecognizerOptions {
  sampleRate: number;
  /** Word times and confidences in final results. */
  words?: boolean;
  maxAlternatives?: number;
  /** Restricts recognition to these phrases (vosk_recognizer_new_grm). */
  grammar?: readonly string[];
  /**
   * One result per chunk, as vosk-server gives: every chunk (even an empty one) is its own decode
   * call, followed by its final or partial. Otherwise queued chunks merge and stale partials are skipped.
   */
  resultPerChunk?: boolean;
  /**
   * Audio queued while a decode call runs is merged into one call of at most this many seconds,
   * so a backlog drains in fewer thread round trips. 0 decodes every frame on its own.
   */
  maxMergeSeconds?: number;
}

export type DecodeEvent = { kind: 'partial'; partial: VoskPartial } | { kind: 'final'; result: VoskResult };

export interface DecodeObserver {
  nativeCallStarted(): void;
  nativeCallEnded(): void;
  /** After each decode call: seconds of audio fed, and the call's wall time (waiting for a thread included). */
  decoded(audioSeconds: number, callSeconds: number): void;
  freed(): void;
}

type Op = { kind: 'audio'; chunks: Buffer[]; bytes: number } | { kind: 'task'; run: () => Promise<void>; cancel?: (reason: Error) => void };

const DEFAULT_MAX_MERGE_SECONDS = 0.5;

/**
 * One libvosk recognizer. Every native call goes through one queue, so calls for a recognizer
 * never overlap (libvosk recognizers are not thread-safe), and heavy calls run on worker threads.
 * Results arrive in order through `onEvent`.
 */
export class Recognizer {
  private readonly queue: Op[] = [];
  private running = false;
  private queuedAudioBytes = 0;
  private closed = false;
  private freed = false;
  private readonly maxMergeBytes: number;
  private readonly handle: RecognizerHandle;

  constructor(
    private readonly lib: LibVosk,
    readonly language: string,
    readonly model: VoskModel,
    readonly options: RecognizerOptions,
    private readonly onEvent: (event: DecodeEvent) => void,
    private readonly onError: (error: EngineError) => void,
    private readonly observer?: DecodeObserver,
  ) {
    const grammar = options.grammar;
    const handle = grammar
      ? lib.recognizerNewGrm(model.handle, options.sampleRate, JSON.stringify(grammar))
      : lib.recognizerNew(model.handle, options.sampleRate);
    if (!handle) {
      throw new EngineError('recognizer_failed', `libvosk could not create a recognizer for ${model.name} at ${options.sampleRate} Hz`);
    }
    this.handle = handle;
    if (options.words) lib.recognizerSetWords(handle, 1);
    if (options.maxAlternatives) lib.recognizerSetMaxAlternatives(handle, options.maxAlternatives);
    const mergeSeconds = options.resultPerChunk ? 0 : (options.maxMergeSeconds ?? DEFAULT_MAX_MERGE_SECONDS);
    this.maxMergeBytes = Math.max(0, Math.floor(mergeSeconds * options.sampleRate) * 2);
  }

  /** Bytes of audio queued and not yet handed to libvosk (kept as a count: read for every frame). */
  get queuedBytes(): number {
    return this.queuedAudioBytes;
  }

  /** Queues PCM16 audio (an even number of bytes). Partials and finals follow through onEvent. */
  acceptAudio(pcm: Buffer): void {
    if (this.closed || (pcm.length === 0 && !this.options.resultPerChunk)) return;
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

  /** After all queued audio: the final result of the utterance (libvosk's final_result). */
  flush(): Promise<VoskResult> {
    return this.task(async () => parseVoskJson<VoskResult>(await this.native(this.lib.finalResult, this.handle), 'final_result'));
  }

  /** After all queued audio: discards the current utterance. */
  reset(): Promise<void> {
    return this.task(async () => this.lib.reset(this.handle));
  }

  /**
   * Drops audio not yet decoded and frees the recognizer once any call in flight has returned.
   * Resolves when the native recognizer is freed.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const closedError = new EngineError('recognizer_failed', 'recognizer was closed');
    for (const op of this.queue.splice(0)) if (op.kind === 'task') op.cancel?.(closedError);
    this.queuedAudioBytes = 0;
    return new Promise((resolve) => {
      this.queue.push({
        kind: 'task',
        run: async () => {
          this.free();
          resolve();
        },
      });
      this.pump();
    });
  }

  private task<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new EngineError('recognizer_failed', 'recognizer is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ kind: 'task', run: () => run().then(resolve, reject), cancel: reject });
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

  private async decode(pcm: Buffer): Promise<void> {
    try {
      const started = performance.now();
      const endpoint = await this.native(this.lib.acceptWaveform, this.handle, pcm, pcm.length);
      if (endpoint < 0) throw new Error('vosk_recognizer_accept_waveform returned an error');
      if (this.closed) return;
      let event: DecodeEvent | undefined;
      if (endpoint === 1) {
        event = { kind: 'final', result: parseVoskJson<VoskResult>(await this.native(this.lib.result, this.handle), 'result') };
      } else if (this.options.resultPerChunk || this.queue[0]?.kind !== 'audio') {
        // With more audio already queued, this partial would be stale at once: skip the call.
        const partial = parseVoskJson<VoskPartial>(await this.native(this.lib.partialResult, this.handle), 'partial_result');
        event = { kind: 'partial', partial };
      }
      this.observer?.decoded(pcm.length / 2 / this.options.sampleRate, (performance.now() - started) / 1000);
      if (event && !this.closed) this.onEvent(event);
    } catch (err) {
      if (!this.closed) this.onError(new EngineError('decode_failed', `decoding failed: ${(err as Error).message}`, { cause: err }));
    }
  }

  /** A libvosk call on a worker thread, counted while in flight. */
  private async native<A extends unknown[], R>(f: Parameters<typeof callAsync<A, R>>[0], ...args: A): Promise<R> {
    this.observer?.nativeCallStarted();
    try {
      return await callAsync(f, ...args);
    } finally {
      this.observer?.nativeCallEnded();
    }
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lib.recognizerFree(this.handle);
    this.observer?.freed();
  }
}
