import type { Logger } from '../logger.js';
import { EngineError } from './errors.js';
import { type LibVosk, libvosk } from './libvosk.js';
import { VoskModel } from './model.js';
import { captureNativeStderr, parseKaldiLine } from './native-stderr.js';
import { type DecodeEvent, type DecodeObserver, Recognizer, type RecognizerOptions } from './recognizer.js';

export type EngineState = 'loading' | 'ready' | 'failed' | 'closed';

export interface EngineStats {
  liveRecognizers: number;
  /** libvosk calls running on worker threads now. */
  nativeCallsInFlight: number;
  audioSecondsDecoded: number;
  /** Wall time of libvosk decode calls, from issue to completion (waiting for a pool thread included). */
  decodeSeconds: number;
}

/**
 * libvosk with one model per language, loaded once and shared by every session's recognizer.
 */
export class Engine {
  private readonly models = new Map<string, VoskModel>();
  private stateValue: EngineState = 'loading';
  private failure: Error | undefined;
  private readonly counters: EngineStats = { liveRecognizers: 0, nativeCallsInFlight: 0, audioSecondsDecoded: 0, decodeSeconds: 0 };
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
  };

  private constructor(
    private readonly lib: LibVosk,
    private readonly logger: Logger,
  ) {}

  /** Binds libvosk (throws EngineError naming every path tried) and sets its log level. */
  static open(options: { libvoskPath?: string; voskLogLevel: number; logger: Logger }): Engine {
    const lib = libvosk(options.libvoskPath);
    lib.setLogLevel(options.voskLogLevel);
    options.logger.info({ path: lib.path }, 'libvosk_loaded');
    return new Engine(lib, options.logger);
  }

  get state(): EngineState {
    return this.stateValue;
  }

  get loadError(): Error | undefined {
    return this.failure;
  }

  get stats(): Readonly<EngineStats> {
    return this.counters;
  }

  get languages(): string[] {
    return [...this.models.keys()];
  }

  model(language: string): VoskModel | undefined {
    return this.models.get(language);
  }

  /**
   * Loads every model concurrently off the event loop. libvosk's own output during loading goes to
   * the logger. Rejects with the first failure; the engine is then 'failed'.
   */
  async loadModels(dirs: ReadonlyMap<string, string>): Promise<void> {
    const entries = [...dirs];
    try {
      const { value: loaded, lines } = await captureNativeStderr(() =>
        Promise.allSettled(entries.map(([, dir]) => VoskModel.load(this.lib, dir))),
      );
      const nativeErrors = this.logNative(lines);
      const failed = loaded.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      loaded.forEach((r) => r.status === 'fulfilled' && failed && r.value.free());
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
        this.models.set(language, model);
        this.logger.info({ language, model: model.name, dir: model.dir, seconds: round(model.loadSeconds) }, 'model_loaded');
      });
      this.stateValue = 'ready';
    } catch (err) {
      this.stateValue = 'failed';
      this.failure = err as Error;
      throw err;
    }
  }

  createRecognizer(
    language: string,
    options: RecognizerOptions,
    onEvent: (event: DecodeEvent) => void,
    onError: (error: EngineError) => void,
  ): Recognizer {
    const model = this.models.get(language);
    if (!model) throw new EngineError('recognizer_failed', `no model loaded for language "${language}"`);
    const recognizer = new Recognizer(this.lib, language, model, options, onEvent, onError, this.observer);
    this.counters.liveRecognizers++;
    return recognizer;
  }

  /** Frees the models. Recognizers still open keep their model alive inside libvosk. */
  close(): void {
    for (const model of this.models.values()) model.free();
    this.models.clear();
    this.stateValue = 'closed';
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
