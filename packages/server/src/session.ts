import { randomUUID } from 'node:crypto';
import type { Engine } from './engine/engine.js';
import type { EngineError } from './engine/errors.js';
import type { DecodeEvent, RecognizerOptions, StreamDecoder } from './engine/recognizer.js';
import { AUTO_LANGUAGE } from './languages.js';
import type { VoskPartial, VoskResult } from './engine/vosk-result.js';

export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;

/**
 * A rate libvosk can take: a whole number of Hz in range. A fraction of a hertz fails an assertion
 * in its resampler, which aborts the whole process, so every protocol checks with this.
 */
export const isSupportedSampleRate = (rate: unknown): rate is number =>
  Number.isInteger(rate) && (rate as number) >= MIN_SAMPLE_RATE && (rate as number) <= MAX_SAMPLE_RATE;

/** Why a client's rate is refused, naming what it sent. */
export const sampleRateRefusal = (name: string, rate: unknown): string =>
  `${name} ${(typeof rate === 'number' ? String(rate) : String(JSON.stringify(rate))).slice(0, 40)} is not supported: use a whole number of Hz from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}`;

/** Where results come from: the model and language that produced them. */
export interface ResultContext {
  language: string;
  /** The model directory's name. */
  model: string;
}

/**
 * Why a final is delivered: an endpoint libvosk found, a command that flushed the stream, a flush
 * that ends a segment of speech (FunASR's `is_speaking: false`), or new settings (the old
 * recognizer's last words). Told with the final itself because the protocol may already have
 * queued further commands by the time it arrives.
 */
export type FinalCause = 'endpoint' | 'flush' | 'end_of_segment' | 'reconfigure';

export interface SessionListener {
  partial(partial: VoskPartial, context: ResultContext): void;
  final(result: VoskResult, context: ResultContext, cause: FinalCause): void;
  error(error: EngineError): void;
}

export interface StreamSettings {
  /** A loaded language, or `auto`: every language decodes, each utterance goes to the most believable. */
  language: string;
  /** A model of that language by name; unset: the language's default model. */
  model?: string;
  sampleRate: number;
  words: boolean;
  maxAlternatives?: number;
  /** Phrases recognition is restricted to (models with a runtime graph; others ignore it). */
  grammar?: readonly string[];
  /** One result for every audio frame, empty frames included (vosk-server's protocol). */
  resultPerFrame?: boolean;
}

/** A command waiting in the backlog; `cancel` settles it if the session closes first. */
interface Command {
  run(): Promise<void>;
  cancel(error: Error): void;
}

/**
 * One client's audio stream, independent of the wire protocol: the recognizer for its language and
 * sample rate, the odd byte between frames, and the order of audio and commands. A command waits
 * for the audio received before it; audio received after it goes to the recognizer it sets up.
 */
export class Session {
  readonly id = randomUUID();
  private recognizer: StreamDecoder;
  private current: StreamSettings;
  private carry: Buffer | undefined;
  /** Work not yet handed to the recognizer because a command before it is still running. */
  private readonly backlog: Array<Command | Buffer> = [];
  /** The backlog's audio bytes and commands, kept as counts: they are read for every frame. */
  private backlogBytes = 0;
  private backlogCommands = 0;
  private commandRunning = false;
  private closed = false;

  constructor(
    private readonly engine: Engine,
    settings: StreamSettings,
    private readonly listener: SessionListener,
    /** Audio waiting to be decoded beyond this is refused (the client sends faster than decoding). */
    private readonly maxBufferedSeconds = Number.POSITIVE_INFINITY,
  ) {
    this.current = { ...settings };
    this.recognizer = this.createRecognizer(this.current);
  }

  get settings(): Readonly<StreamSettings> {
    return this.current;
  }

  /** The name of the model decoding now (the language's default unless one was chosen). */
  get modelName(): string {
    return this.recognizer.model.name;
  }

  /** Seconds of audio received and not yet decoded. */
  get bufferedSeconds(): number {
    return (this.recognizer.queuedBytes + this.backlogBytes) / 2 / this.current.sampleRate;
  }

  /** Commands received and not yet started (the one running excluded). */
  get queuedCommands(): number {
    return this.backlogCommands;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * PCM16 little-endian bytes of any length; an odd trailing byte waits for the next frame.
   * Returns false when the frame was dropped because too much audio already waits to be decoded.
   */
  audio(frame: Buffer): boolean {
    if (this.closed) return true;
    if (this.bufferedSeconds + frame.length / 2 / this.current.sampleRate > this.maxBufferedSeconds) return false;
    let data = this.carry ? Buffer.concat([this.carry, frame]) : frame;
    this.carry = undefined;
    if (data.length % 2 === 1) {
      this.carry = Buffer.from(data.subarray(data.length - 1));
      data = data.subarray(0, data.length - 1);
    }
    if (data.length === 0 && !this.current.resultPerFrame) return true;
    if (this.commandRunning) {
      this.backlog.push(data);
      this.backlogBytes += data.length;
    } else this.recognizer.acceptAudio(data);
    return true;
  }

  /** The final result of everything received so far; the utterance starts afresh. */
  flush(cause: 'flush' | 'end_of_segment' = 'flush'): Promise<VoskResult> {
    return this.command(() => this.flushRecognizer(cause));
  }

  /**
   * Runs `step` after the audio and commands received before it, and before those received after:
   * what it reads or changes is as of its place in the stream.
   */
  inOrder<T>(step: () => T): Promise<T> {
    return this.command(async () => step());
  }

  /** Discards the current utterance (audio already received is dropped, not decoded). */
  reset(): Promise<void> {
    return this.command(async () => {
      this.carry = undefined;
      await this.recognizer.reset();
    });
  }

  /**
   * Finishes the utterance under the old settings (its final is delivered first), then continues
   * with a recognizer for the new language, sample rate or options.
   */
  reconfigure(changes: Partial<StreamSettings>): Promise<VoskResult> {
    return this.command(async () => {
      const next = { ...this.current, ...changes };
      // Another language means its default model, unless a model is named too.
      if (changes.language !== undefined && changes.model === undefined) delete next.model;
      const result = await this.flushRecognizer('reconfigure');
      // Closed while flushing: a replacement would never be freed.
      if (this.closed) return result;
      const replacement = this.createRecognizer(next);
      const old = this.recognizer;
      this.recognizer = replacement;
      this.current = next;
      await old.close();
      return result;
    });
  }

  /** Ends the stream: audio not yet decoded is dropped and the recognizer freed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Whoever waits for a command that will not run is told (a shutdown must not wait for it).
    const closedError = new Error('the session was closed');
    for (const item of this.backlog.splice(0)) if (!Buffer.isBuffer(item)) item.cancel(closedError);
    this.backlogBytes = 0;
    this.backlogCommands = 0;
    await this.recognizer.close();
  }

  /** Whether the language is chosen per utterance (`auto`) rather than set. */
  get automaticLanguage(): boolean {
    return this.current.language === AUTO_LANGUAGE;
  }

  private async flushRecognizer(cause: Exclude<FinalCause, 'endpoint'>): Promise<VoskResult> {
    const recognizer = this.recognizer;
    const result = await recognizer.flush();
    if (!this.closed) this.listener.final(result, this.context(recognizer), cause);
    return result;
  }

  private command<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the session was closed'));
    return new Promise<T>((resolve, reject) => {
      this.backlog.push({ run: () => run().then(resolve, reject), cancel: reject });
      this.backlogCommands++;
      if (!this.commandRunning) void this.runBacklog();
    });
  }

  private async runBacklog(): Promise<void> {
    this.commandRunning = true;
    try {
      for (let item = this.backlog.shift(); item; item = this.backlog.shift()) {
        if (Buffer.isBuffer(item)) {
          this.backlogBytes -= item.length;
          this.recognizer.acceptAudio(item);
        } else {
          this.backlogCommands--;
          await item.run();
        }
      }
    } finally {
      this.commandRunning = false;
    }
  }

  private createRecognizer(settings: StreamSettings): StreamDecoder {
    // The protocols refuse such a rate first; this keeps any other way in from aborting the process.
    if (!isSupportedSampleRate(settings.sampleRate)) throw new RangeError(sampleRateRefusal('sample rate', settings.sampleRate));
    const options: RecognizerOptions = {
      sampleRate: settings.sampleRate,
      words: settings.words,
      ...(settings.maxAlternatives !== undefined && { maxAlternatives: settings.maxAlternatives }),
      ...(settings.grammar !== undefined && { grammar: settings.grammar }),
      ...(settings.resultPerFrame && { resultPerChunk: true }),
    };
    const onEvent = (event: DecodeEvent): void => this.deliver(recognizer, event);
    const onError = (error: EngineError): void => this.listener.error(error);
    const recognizer: StreamDecoder =
      settings.language === AUTO_LANGUAGE
        ? this.engine.createAutoRecognizer(options, onEvent, onError, this.recognizer?.language ?? this.engine.languages[0])
        : this.engine.createRecognizer(settings.language, options, onEvent, onError, settings.model);
    return recognizer;
  }

  private deliver(recognizer: StreamDecoder, event: DecodeEvent): void {
    if (this.closed) return;
    const context = this.context(recognizer);
    if (event.kind === 'partial') this.listener.partial(event.partial, context);
    else this.listener.final(event.result, context, 'endpoint');
  }

  /** Read when a result is delivered: with automatic language, the language that result was chosen in. */
  private context(recognizer: StreamDecoder): ResultContext {
    return { language: recognizer.language, model: recognizer.model.name };
  }
}
