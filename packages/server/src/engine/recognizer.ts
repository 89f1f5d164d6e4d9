import type { DecodeChannel, DecodeThreads, StreamReply } from './decode-threads.js';
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
  /** After each decode call: seconds of audio fed, and the call's wall time. */
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
 * One libvosk recognizer, decoded on a decode thread (decode-thread.ts) that runs its audio and
 * commands one call at a time, in order (libvosk recognizers are not thread-safe), and merges audio
 * queued while a call runs. Results arrive in order through `onEvent`.
 */
export class Recognizer implements StreamDecoder {
  private readonly channel: DecodeChannel;
  private readonly handle: RecognizerHandle;
  private queuedAudioBytes = 0;
  /** Audio chunks and commands sent (or about to be) and not yet answered. */
  private outstanding = 0;
  /** Audio of this event-loop turn, sent together at its end (or before a command). */
  private unsent: Uint8Array[] = [];
  /** Commands waiting for their reply, in the order sent. */
  private readonly commands: Array<{ resolve: (json: string | undefined) => void; reject: (error: Error) => void }> = [];
  private closing: Promise<void> | undefined;
  /** Its decode thread stopped: nothing more will be answered. */
  private lost = false;
  private freed: () => void = () => undefined;

  constructor(
    threads: DecodeThreads,
    lib: LibVosk,
    readonly language: string,
    readonly model: VoskModel,
    readonly options: RecognizerOptions,
    private readonly onEvent: (event: DecodeEvent) => void,
    private readonly onError: (error: EngineError) => void,
    private readonly observer?: DecodeObserver,
  ) {
    this.handle = newRecognizerHandle(lib, model, options);
    this.channel = threads.open(
      {
        op: 'open',
        handle: this.handle as unknown as bigint,
        mergeBytes: maxMergeBytes(options),
        resultPerChunk: options.resultPerChunk ?? false,
      },
      (reply) => this.receive(reply),
      () => this.queuedAudioBytes / 2 / options.sampleRate,
    );
  }

  /** Bytes of audio queued and not yet handed to libvosk (kept as a count: read for every frame). */
  get queuedBytes(): number {
    return this.queuedAudioBytes;
  }

  /** Queues PCM16 audio (an even number of bytes). Partials and finals follow through onEvent. */
  acceptAudio(pcm: Buffer): void {
    if ((pcm.length === 0 && !this.options.resultPerChunk) || this.closing || this.lost) return;
    this.queuedAudioBytes += pcm.length;
    // A copy of its own, moved to the thread: a frame may view a larger socket buffer, which a
    // structured clone would copy whole.
    this.unsent.push(new Uint8Array(pcm));
    this.pending(1);
    // Frames that arrive together go in one message, so the thread sees them queued together.
    if (this.unsent.length === 1) queueMicrotask(() => this.sendAudio());
  }

  /** After all queued audio: the final result of the utterance (libvosk's final_result). */
  async flush(): Promise<VoskResult> {
    return parseVoskJson<VoskResult>((await this.command('final'))!, 'final_result');
  }

  /** After all queued audio: discards the current utterance. */
  async reset(): Promise<void> {
    await this.command('reset');
  }

  /**
   * Drops audio not yet decoded, rejects commands not yet answered, and frees the recognizer once
   * any call in flight has returned. Resolves when the native recognizer is freed.
   */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.freed = resolve;
      const closedError = new EngineError('recognizer_failed', 'recognizer was closed');
      for (const c of this.commands.splice(0)) c.reject(closedError);
      this.queuedAudioBytes = 0;
      this.unsent = [];
      if (this.lost) this.finishClose();
      else this.send({ op: 'close' });
    });
    return this.closing;
  }

  private command(op: 'final' | 'reset'): Promise<string | undefined> {
    if (this.lost) return Promise.reject(new EngineError('decode_failed', 'the decode thread of this recognizer stopped'));
    if (this.closing) return Promise.reject(new EngineError('recognizer_failed', 'recognizer is closed'));
    return new Promise((resolve, reject) => {
      this.commands.push({ resolve, reject });
      this.send({ op });
    });
  }

  private sendAudio(): void {
    if (this.unsent.length === 0) return;
    const chunks = this.unsent;
    this.unsent = [];
    this.channel.send(
      { op: 'audio', chunks },
      chunks.map((c) => c.buffer as ArrayBuffer),
    );
  }

  /** A command or close, after the audio before it. */
  private send(request: { op: 'final' | 'reset' | 'close' }): void {
    this.sendAudio();
    this.pending(1);
    this.channel.send(request);
  }

  private pending(requests: number): void {
    if (this.outstanding === 0) {
      this.channel.busy(true);
      this.observer?.nativeCallStarted();
    }
    this.outstanding += requests;
  }

  private answered(requests: number): void {
    if (requests === 0) return;
    this.outstanding -= requests;
    if (this.outstanding === 0) {
      this.channel.busy(false);
      this.observer?.nativeCallEnded();
    }
  }

  private receive(reply: StreamReply): void {
    if (reply.kind === 'lost') {
      this.lost = true;
      this.queuedAudioBytes = 0;
      this.answered(this.outstanding);
      const error = new EngineError('decode_failed', reply.message);
      for (const c of this.commands.splice(0)) c.reject(error);
      if (this.closing) this.finishClose();
      else this.onError(error);
      return;
    }
    // Requests dropped by the close are never answered one by one; a long frame's calls before its
    // last answer none (decode-thread.ts).
    this.answered(reply.kind === 'closed' ? this.outstanding : reply.kind === 'decoded' || reply.kind === 'failed' ? reply.requests : 1);
    if (reply.kind === 'closed') return this.finishClose();
    if (this.closing) return;
    if (reply.kind === 'decoded') {
      this.queuedAudioBytes -= reply.bytes;
      this.observer?.decoded(reply.bytes / 2 / this.options.sampleRate, reply.seconds);
      try {
        if (reply.result !== undefined) this.onEvent({ kind: 'final', result: parseVoskJson<VoskResult>(reply.result, 'result') });
        else if (reply.partial !== undefined)
          this.onEvent({ kind: 'partial', partial: parseVoskJson<VoskPartial>(reply.partial, 'partial_result') });
      } catch (err) {
        this.onError(new EngineError('decode_failed', `decoding failed: ${(err as Error).message}`, { cause: err }));
      }
    } else if (reply.kind === 'failed') {
      const error = new EngineError('decode_failed', `decoding failed: ${reply.message}`);
      if (reply.op === 'audio') {
        this.queuedAudioBytes -= reply.bytes;
        this.onError(error);
      } else this.commands.shift()?.reject(error);
    } else this.commands.shift()?.resolve(reply.kind === 'final' ? reply.json : undefined);
  }

  private finishClose(): void {
    this.observer?.freed();
    this.freed();
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

/** A libvosk call on libuv's thread pool (automatic language), counted while in flight. */
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
