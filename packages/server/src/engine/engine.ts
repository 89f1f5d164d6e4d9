import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { EngineError } from './errors.js';
import type { ModelInfo } from './model-info.js';
import { type LibVosk, libvosk } from './libvosk.js';
import { VoskModel } from './model.js';
import { captureNativeStderr, parseKaldiLine } from './native-stderr.js';
import { AutoRecognizer } from './auto-recognizer.js';
import { DecodeThreads } from './decode-threads.js';
import { type DecodeEvent, type DecodeObserver, Recognizer, type RecognizerOptions } from './recognizer.js';

export type EngineState = 'loading' | 'ready' | 'failed' | 'closed';

export interface EngineStats {
  liveRecognizers: number;
  /** Streams in automatic language now: each decodes its audio once per language. */
  automaticStreams: number;
  /** Recognizers with libvosk calls running or queued on a thread now. */
  nativeCallsInFlight: number;
  audioSecondsDecoded: number;
  /** Wall time of libvosk decode calls on their thread (automatic language: from issue, waiting for a pool thread included). */
  decodeSeconds: number;
  /** Streams moved to an idle decode thread with their backlog. */
  streamMoves: number;
}

/**
 * libvosk with one or more models per language, each loaded once and shared by every session's
 * recognizer. A language's first model is its default; sessions may choose another by name.
 */
export class Engine {
  /** By language, in configuration order: the first is the language's default. */
  private readonly models = new Map<string, VoskModel[]>();
  private stateValue: EngineState = 'loading';
  private failure: Error | undefined;
  private readonly counters: Omit<EngineStats, 'streamMoves'> = {
    liveRecognizers: 0,
    automaticStreams: 0,
    nativeCallsInFlight: 0,
    audioSecondsDecoded: 0,
    decodeSeconds: 0,
  };
  private readonly observer: DecodeObserver = {
    nativeCallStarted: () => {
      this.counters.nativeCallsInFlight++;
    },
    nativeCallEnded: () => {
      this.counters.nativeCallsInFlight--;
    },
    decoded: (audio, call) => {
      this.counters.audioSecondsDecoded += audio;
      this.counters.decodeSeconds += call;
    },
    freed: () => {
      this.counters.liveRecognizers--;
    },
    automaticStreamFreed: () => {
      this.counters.automaticStreams--;
    },
  };

  private constructor(
    private readonly lib: LibVosk,
    private readonly logger: Logger,
    private readonly threads: DecodeThreads,
  ) {}

  /**
   * Binds libvosk (throws EngineError naming every path tried) and sets its log level. Recognizers
   * decode on `decodeThreads` threads: by default as many as libuv's pool has (UV_THREADPOOL_SIZE,
   * which the entry point sizes to the cores), else one per core.
   */
  static open(options: { libvoskPath?: string; voskLogLevel: number; logger: Logger; decodeThreads?: number }): Engine {
    const lib = libvosk(options.libvoskPath);
    lib.setLogLevel(options.voskLogLevel);
    const count = options.decodeThreads ?? (Number(process.env.UV_THREADPOOL_SIZE) || availableParallelism());
    options.logger.info({ path: lib.path, decode_threads: count }, 'libvosk_loaded');
    return new Engine(lib, options.logger, new DecodeThreads(count, lib.path));
  }

  get state(): EngineState {
    return this.stateValue;
  }

  get loadError(): Error | undefined {
    return this.failure;
  }

  get stats(): Readonly<EngineStats> {
    return { ...this.counters, streamMoves: this.threads.moves };
  }

  /** Threads that recognizers decode on. */
  get decodeThreads(): number {
    return this.threads.count;
  }

  get languages(): string[] {
    return [...this.models.keys()];
  }

  /** Every loaded model, languages in order, each language's default first. */
  get modelList(): ModelInfo[] {
    return [...this.models].flatMap(([language, models]) => models.map((m) => ({ name: m.name, language })));
  }

  /** The language's default model. */
  model(language: string): VoskModel | undefined {
    return this.models.get(language)?.[0];
  }

  /** A model by its name, with its language. */
  modelNamed(name: string): (ModelInfo & { model: VoskModel }) | undefined {
    for (const [language, models] of this.models) {
      const model = models.find((m) => m.name === name);
      if (model) return { name, language, model };
    }
    return undefined;
  }

  /**
   * Loads every model concurrently off the event loop: `[language, directory]` pairs, several per
   * language allowed (the first is its default). libvosk's own output during loading goes to the
   * logger. Rejects with the first failure; the engine is then 'failed'.
   */
  async loadModels(dirs: Iterable<readonly [language: string, dir: string]>): Promise<void> {
    const entries = [...dirs];
    try {
      const names = new Map<string, string>();
      for (const [, dir] of entries) {
        const name = basename(resolve(dir));
        const other = names.get(name);
        if (other !== undefined)
          throw new EngineError(
            'model_invalid',
            `two models are named "${name}" (${other} and ${dir}): clients choose models by directory name, so rename one`,
          );
        names.set(name, dir);
      }
      // The decode threads start meanwhile, so the first streams do not wait for one to start.
      const threadsStarted = this.threads.start();
      const { value: loaded, lines } = await captureNativeStderr(() =>
        Promise.allSettled(entries.map(([, dir]) => VoskModel.load(this.lib, dir))),
      );
      const threadFailure = await threadsStarted.then(
        () => undefined,
        (err: Error) => new EngineError('decode_failed', `a decode thread could not start: ${err.message}`, { cause: err }),
      );
      const nativeErrors = this.logNative(lines);
      const failed = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      loaded.forEach((r) => r.status === 'fulfilled' && (failed || threadFailure) && r.value.free());
      if (threadFailure) throw threadFailure;
      if (failed) {
        const err = failed.reason as Error;
        if (err instanceof EngineError && err.code === 'model_load_failed' && nativeErrors.length > 0) {
          throw new EngineError(err.code, `${err.message}\n  libvosk said: ${nativeErrors.join('\n  libvosk said: ')}`);
        }
        throw err;
      }
      loaded.forEach((r, i) => {
        const model = (r as PromiseFulfilledResult<VoskModel>).value;
        const language = entries[i]![0];
        this.models.set(language, [...(this.models.get(language) ?? []), model]);
        this.logger.info({ language, model: model.name, dir: model.dir, seconds: round(model.loadSeconds) }, 'model_loaded');
      });
      this.stateValue = 'ready';
    } catch (err) {
      this.stateValue = 'failed';
      this.failure = err as Error;
      throw err;
    }
  }

  /** A recognizer on the language's default model, or on the model named (which must be of that language). */
  createRecognizer(
    language: string,
    options: RecognizerOptions,
    onEvent: (event: DecodeEvent) => void,
    onError: (error: EngineError) => void,
    modelName?: string,
  ): Recognizer {
    const model = modelName === undefined ? this.model(language) : this.models.get(language)?.find((m) => m.name === modelName);
    if (!model)
      throw new EngineError('recognizer_failed', `no model ${modelName ? `"${modelName}" ` : ''}loaded for language "${language}"`);
    const recognizer = new Recognizer(this.threads, this.lib, language, model, options, onEvent, onError, this.observer);
    this.counters.liveRecognizers++;
    return recognizer;
  }

  /**
   * Automatic language: a recognizer per language (each its default model) on the same audio, one
   * final per utterance from the most believable. `preferred` wins ties until a language is chosen.
   */
  createAutoRecognizer(
    options: RecognizerOptions,
    onEvent: (event: DecodeEvent) => void,
    onError: (error: EngineError) => void,
    preferred?: string,
  ): AutoRecognizer {
    const models = [...this.models].map(([language, list]) => ({ language, model: list[0]! }));
    const recognizer = new AutoRecognizer(this.lib, models, options, onEvent, onError, this.observer, preferred);
    this.counters.liveRecognizers += recognizer.recognizerCount;
    this.counters.automaticStreams++;
    return recognizer;
  }

  /**
   * Frees the models and stops the decode threads, resolving with their exit codes once they have
   * ended (0: ended by itself, between two calls; undefined: still running after a time limit, see
   * DecodeThreads.close). Recognizers still open keep their model alive inside libvosk.
   */
  close(): Promise<Array<number | undefined>> {
    const threadsEnded = this.threads.close();
    for (const models of this.models.values()) for (const model of models) model.free();
    this.models.clear();
    this.stateValue = 'closed';
    return threadsEnded;
  }

  /** Sends libvosk's lines to the logger; returns its error lines. */
  private logNative(lines: string[]): string[] {
    const errors: string[] = [];
    for (const line of lines) {
      const { level, origin, text } = parseKaldiLine(line);
      this.logger[level]({ origin, text }, 'libvosk');
      if (level === 'error') errors.push(text);
    }
    return errors;
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
