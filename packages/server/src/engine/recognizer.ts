import { performance } from 'node:perf_hooks';
import { DecodeQueue } from './decode-queue.js';
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
  /** An automatic-language stream's recognizers were all freed. */
  automaticStreamFreed?(): void;
}

const DEFAULT_MAX_MERGE_SECONDS = 0.5;

/** Merged audio per decode call, in bytes, for these options. */
export function maxMergeBytes(options: RecognizerOptions): number {
  const mergeSeconds = options.resultPerChunk ? 0 : (options.maxMergeSeconds ?? DEFAULT_MAX_MERGE_SECONDS);
  return Math.max(0, Math.floor(mergeSeconds * options.sampleRate) * 2);
}

/** What every decoder of a session's stream offers: one language's recognizer, or several at once. */
export interface StreamDecoder {
  /** The language of the latest result (with several, the one chosen). */
  readonly language: string;
  /** The model that produced the latest result. */
  readonly model: VoskModel;
  readonly queuedBytes: number;
  acceptAudio(pcm: Buffer): void;
  flush(): Promise<VoskResult>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One libvosk recognizer. Every native call goes through one queue, so calls for a recognizer
 * never overlap (libvosk recognizers are not thread-safe), and heavy calls run on worker threads.
 * Results arrive in order through `onEvent`.
 */
export class Recognizer implements StreamDecoder {
  private readonly queue: DecodeQueue;
  private freed = false;
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
    this.handle = newRecognizerHandle(lib, model, options);
    this.queue = new DecodeQueue(maxMergeBytes(options), (pcm) => this.decode(pcm));
  }

  /** Bytes of audio queued and not yet handed to libvosk (kept as a count: read for every frame). */
  get queuedBytes(): number {
    return this.queue.queuedBytes;
  }

  /** Queues PCM16 audio (an even number of bytes). Partials and finals follow through onEvent. */
  acceptAudio(pcm: Buffer): void {
    if (pcm.length === 0 && !this.options.resultPerChunk) return;
    this.queue.acceptAudio(pcm);
  }

  /** After all queued audio: the final result of the utterance (libvosk's final_result). */
  flush(): Promise<VoskResult> {
    return this.queue.task(async () => parseVoskJson<VoskResult>(await this.native(this.lib.finalResult, this.handle), 'final_result'));
  }

  /** After all queued audio: discards the current utterance. */
  reset(): Promise<void> {
    return this.queue.task(async () => this.lib.reset(this.handle));
  }

  /**
   * Drops audio not yet decoded and frees the recognizer once any call in flight has returned.
   * Resolves when the native recognizer is freed.
   */
  close(): Promise<void> {
    return this.queue.close(() => this.free());
  }

  private async decode(pcm: Buffer): Promise<void> {
    try {
      const started = performance.now();
      const endpoint = await this.native(this.lib.acceptWaveform, this.handle, pcm, pcm.length);
      if (endpoint < 0) throw new Error('vosk_recognizer_accept_waveform returned an error');
      if (this.queue.closed) return;
      let event: DecodeEvent | undefined;
      if (endpoint === 1) {
        event = { kind: 'final', result: parseVoskJson<VoskResult>(await this.native(this.lib.result, this.handle), 'result') };
      } else if (this.options.resultPerChunk || !this.queue.audioWaiting) {
        // With more audio already queued, this partial would be stale at once: skip the call.
        const partial = parseVoskJson<VoskPartial>(await this.native(this.lib.partialResult, this.handle), 'partial_result');
        event = { kind: 'partial', partial };
      }
      this.observer?.decoded(pcm.length / 2 / this.options.sampleRate, (performance.now() - started) / 1000);
      if (event && !this.queue.closed) this.onEvent(event);
    } catch (err) {
      if (!this.queue.closed) this.onError(new EngineError('decode_failed', `decoding failed: ${(err as Error).message}`, { cause: err }));
    }
  }

  /** A libvosk call on a worker thread, counted while in flight. */
  private native<A extends unknown[], R>(f: Parameters<typeof callAsync<A, R>>[0], ...args: A): Promise<R> {
    return nativeCall(this.observer, f, ...args);
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lib.recognizerFree(this.handle);
    this.observer?.freed();
  }
}

/** A native recognizer for these options; throws EngineError when libvosk cannot make one. */
export function newRecognizerHandle(lib: LibVosk, model: VoskModel, options: RecognizerOptions): RecognizerHandle {
  const grammar = options.grammar;
  const handle = grammar
    ? lib.recognizerNewGrm(model.handle, options.sampleRate, JSON.stringify(grammar))
    : lib.recognizerNew(model.handle, options.sampleRate);
  if (!handle) {
    throw new EngineError('recognizer_failed', `libvosk could not create a recognizer for ${model.name} at ${options.sampleRate} Hz`);
  }
  if (options.words) lib.recognizerSetWords(handle, 1);
  if (options.maxAlternatives) lib.recognizerSetMaxAlternatives(handle, options.maxAlternatives);
  return handle;
}

/** A libvosk call on a worker thread, counted while in flight. */
export async function nativeCall<A extends unknown[], R>(
  observer: DecodeObserver | undefined,
  f: Parameters<typeof callAsync<A, R>>[0],
  ...args: A
): Promise<R> {
  observer?.nativeCallStarted();
  try {
    return await callAsync(f, ...args);
  } finally {
    observer?.nativeCallEnded();
  }
}
