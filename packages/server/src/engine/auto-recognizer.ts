import { performance } from 'node:perf_hooks';
import { DecodeQueue } from './decode-queue.js';
import { EngineError } from './errors.js';
import type { LibVosk, RecognizerHandle } from './libvosk.js';
import type { VoskModel } from './model.js';
import {
  type DecodeEvent,
  type DecodeObserver,
  type RecognizerOptions,
  type StreamDecoder,
  maxMergeBytes,
  nativeCall,
  newRecognizerHandle,
} from './recognizer.js';
import { type VoskPartial, type VoskResult, parseVoskJson, resultText } from './vosk-result.js';

/** How finely a chunk is fed to the models: an utterance's end is placed to within this. */
const PIECE_SECONDS = 0.1;

/** One language's recognizer in an automatic-language stream. */
interface Candidate {
  language: string;
  model: VoskModel;
  handle: RecognizerHandle;
  /** Its partial text of the current utterance. */
  partial: string;
}

/**
 * How believable a result is: the mean of its words' confidences (libvosk's word posteriors, 0 to
 * 1), which compare across models because each is a probability within its own model; with
 * max_alternatives (words carry no confidence there) the best alternative's confidence. An empty
 * result scores -Infinity: it loses to any words.
 */
export function believability(result: VoskResult): number {
  if (resultText(result) === '') return Number.NEGATIVE_INFINITY;
  if (result.alternatives) return result.alternatives[0]?.confidence ?? Number.NEGATIVE_INFINITY;
  const words = result.result ?? [];
  return words.length === 0 ? 0 : words.reduce((sum, w) => sum + w.conf, 0) / words.length;
}

/** The index of the most believable result; a tie keeps `previous` (the language chosen last). */
export function chooseResult(results: readonly VoskResult[], previous: number): number {
  const scores = results.map(believability);
  const best = Math.max(...scores);
  const tied = scores.flatMap((s, i) => (s === best ? [i] : []));
  return tied.includes(previous) ? previous : tied[0]!;
}

/**
 * Automatic language: every language's default model decodes the same audio in lockstep (a chunk
 * goes to each, on worker threads in parallel, before the next chunk), and each utterance gets one
 * final: whichever model finds the endpoint first closes the utterance for all (the others give
 * their final_result for the same audio), and the most believable result wins (see
 * `believability`). Partials follow the leading language: the one chosen last, until it hears
 * nothing while another hears words. Decoding costs as many times the work as there are languages.
 */
export class AutoRecognizer implements StreamDecoder {
  private readonly queue: DecodeQueue;
  private readonly candidates: Candidate[] = [];
  /** The language of the last final, and within an utterance the one partials follow. */
  private chosen = 0;
  private freed = false;

  constructor(
    private readonly lib: LibVosk,
    models: ReadonlyArray<{ language: string; model: VoskModel }>,
    readonly options: RecognizerOptions,
    private readonly onEvent: (event: DecodeEvent) => void,
    private readonly onError: (error: EngineError) => void,
    private readonly observer?: DecodeObserver,
    /** The language to prefer on a tie at first (the session's language before it chose auto). */
    preferred?: string,
  ) {
    // Word confidences are the measure: always asked of libvosk, dropped from results unless wanted.
    const native: RecognizerOptions = { ...options, words: true };
    try {
      for (const { language, model } of models)
        this.candidates.push({ language, model, handle: newRecognizerHandle(lib, model, native), partial: '' });
    } catch (err) {
      for (const c of this.candidates) lib.recognizerFree(c.handle);
      throw err;
    }
    this.chosen = Math.max(
      0,
      this.candidates.findIndex((c) => c.language === preferred),
    );
    this.queue = new DecodeQueue(maxMergeBytes(options), (pcm) => this.decode(pcm));
  }

  /** How many native recognizers decode this stream. */
  get recognizerCount(): number {
    return this.candidates.length;
  }

  get language(): string {
    return this.candidates[this.chosen]!.language;
  }

  get model(): VoskModel {
    return this.candidates[this.chosen]!.model;
  }

  get queuedBytes(): number {
    return this.queue.queuedBytes;
  }

  acceptAudio(pcm: Buffer): void {
    if (pcm.length === 0 && !this.options.resultPerChunk) return;
    this.queue.acceptAudio(pcm);
  }

  /** After all queued audio: every model's final_result, and the most believable one. */
  flush(): Promise<VoskResult> {
    return this.queue.task(async () => this.finish());
  }

  reset(): Promise<void> {
    return this.queue.task(async () => {
      for (const c of this.candidates) {
        this.lib.reset(c.handle);
        c.partial = '';
      }
    });
  }

  close(): Promise<void> {
    return this.queue.close(() => this.free());
  }

  /**
   * Feeds a chunk to every model in steps of PIECE_SECONDS: an utterance's end found in one step
   * closes it for all at that step, so audio after it (the next utterance's start, in a long chunk)
   * never lands in the utterance that ended. vosk-server clients (one reply per chunk) get one step.
   */
  private async decode(pcm: Buffer): Promise<void> {
    const step = this.options.resultPerChunk ? Math.max(pcm.length, 1) : Math.floor(PIECE_SECONDS * this.options.sampleRate) * 2;
    for (let offset = 0; offset < pcm.length || offset === 0; offset += step) {
      const piece = pcm.subarray(offset, offset + step);
      if (!(await this.decodePiece(piece, offset + step >= pcm.length))) return;
    }
  }

  /** One lockstep step; `last`: the chunk's last, where a partial may follow. False once failed or closed. */
  private async decodePiece(pcm: Buffer, last: boolean): Promise<boolean> {
    try {
      const started = performance.now();
      const endpoints = await Promise.all(this.candidates.map((c) => this.native(this.lib.acceptWaveform, c.handle, pcm, pcm.length)));
      if (endpoints.some((e) => e < 0)) throw new Error('vosk_recognizer_accept_waveform returned an error');
      if (this.queue.closed) return false;
      let event: DecodeEvent | undefined;
      if (endpoints.includes(1)) {
        const ended = await Promise.all(
          this.candidates.map(async (c, i) =>
            endpoints[i] === 1 ? parseVoskJson<VoskResult>(await this.native(this.lib.result, c.handle), 'result') : undefined,
          ),
        );
        if (ended.some((r) => r !== undefined && resultText(r) !== '')) {
          // An endpoint with words closes the utterance for every model, at the same audio.
          const results = await Promise.all(
            this.candidates.map(
              async (c, i) => ended[i] ?? parseVoskJson<VoskResult>(await this.native(this.lib.finalResult, c.handle), 'final_result'),
            ),
          );
          event = { kind: 'final', result: this.choose(results) };
        } else {
          // Only models that heard nothing ended an utterance (speech in another language is silence
          // to them): they begin afresh; the others may be in the middle of theirs.
          ended.forEach((r, i) => r && (this.candidates[i]!.partial = ''));
        }
      }
      if (!event && last && (this.options.resultPerChunk || !this.queue.audioWaiting)) {
        const partials = await Promise.all(this.candidates.map((c) => this.native(this.lib.partialResult, c.handle)));
        partials.forEach((json, i) => (this.candidates[i]!.partial = parseVoskJson<VoskPartial>(json, 'partial_result').partial));
        this.follow();
        event = { kind: 'partial', partial: { partial: this.candidates[this.chosen]!.partial } };
      }
      const seconds = pcm.length / 2 / this.options.sampleRate;
      const callSeconds = (performance.now() - started) / 1000;
      for (let i = 0; i < this.candidates.length; i++) this.observer?.decoded(seconds, callSeconds);
      if (event && !this.queue.closed) this.onEvent(event);
      return !this.queue.closed;
    } catch (err) {
      if (!this.queue.closed) this.onError(new EngineError('decode_failed', `decoding failed: ${(err as Error).message}`, { cause: err }));
      return false;
    }
  }

  /** Ends the utterance in every model (final_result) and chooses one result. */
  private async finish(): Promise<VoskResult> {
    const jsons = await Promise.all(this.candidates.map((c) => this.native(this.lib.finalResult, c.handle)));
    return this.choose(jsons.map((json) => parseVoskJson<VoskResult>(json, 'final_result')));
  }

  /** The utterance's result: the most believable of every model's (see chooseResult). */
  private choose(results: VoskResult[]): VoskResult {
    this.chosen = chooseResult(results, this.chosen);
    for (const c of this.candidates) c.partial = '';
    const result = results[this.chosen]!;
    if (!this.options.words) delete result.result;
    return result;
  }

  /** Partials switch language only when the leader hears nothing and another hears words. */
  private follow(): void {
    if (this.candidates[this.chosen]!.partial !== '') return;
    const other = this.candidates.findIndex((c) => c.partial !== '');
    if (other >= 0) this.chosen = other;
  }

  private native<A extends unknown[], R>(f: Parameters<typeof nativeCall<A, R>>[1], ...args: A): Promise<R> {
    return nativeCall(this.observer, f, ...args);
  }

  private free(): void {
    if (this.freed) return;
    this.freed = true;
    for (const c of this.candidates) {
      this.lib.recognizerFree(c.handle);
      this.observer?.freed();
    }
    this.observer?.automaticStreamFreed?.();
  }
}
