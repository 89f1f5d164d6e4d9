import koffi from 'koffi';
import { type NativeLibrary, loadLibvosk } from './libvosk-locator.js';

/** Opaque native handles. Branded so a model can never be passed where a recognizer is expected. */
export type ModelHandle = { readonly __brand: 'VoskModel' };
export type RecognizerHandle = { readonly __brand: 'VoskRecognizer' };

type AsyncFn<A extends unknown[], R> = ((...args: A) => R) & {
  async: (...args: [...A, (err: unknown, result: R) => void]) => void;
};

/** The libvosk C API (vosk_api.h, 0.3.39) as typed functions. */
export interface LibVosk {
  path: string;
  setLogLevel: (level: number) => void;
  modelNew: AsyncFn<[path: string], ModelHandle | null>;
  modelFree: (model: ModelHandle) => void;
  modelFindWord: (model: ModelHandle, word: string) => number;
  recognizerNew: (model: ModelHandle, sampleRate: number) => RecognizerHandle | null;
  recognizerNewGrm: (model: ModelHandle, sampleRate: number, grammar: string) => RecognizerHandle | null;
  recognizerFree: (recognizer: RecognizerHandle) => void;
  recognizerSetWords: (recognizer: RecognizerHandle, words: number) => void;
  recognizerSetPartialWords: (recognizer: RecognizerHandle, partialWords: number) => void;
  recognizerSetMaxAlternatives: (recognizer: RecognizerHandle, max: number) => void;
  acceptWaveform: AsyncFn<[recognizer: RecognizerHandle, data: Uint8Array, length: number], number>;
  result: AsyncFn<[recognizer: RecognizerHandle], string>;
  partialResult: AsyncFn<[recognizer: RecognizerHandle], string>;
  finalResult: AsyncFn<[recognizer: RecognizerHandle], string>;
  reset: (recognizer: RecognizerHandle) => void;
}

let loaded: LibVosk | undefined;

/** Binds libvosk once per process; later calls return the same binding. */
export function libvosk(explicitPath?: string): LibVosk {
  if (loaded) return loaded;
  // Kaldi's decoder needs more stack than koffi's 128 KiB default for calls on its worker threads.
  // koffi takes settings only before its first library load.
  koffi.config({ ...koffi.config(), async_stack_size: 1024 * 1024 });
  koffi.opaque('VoskModel');
  koffi.opaque('VoskRecognizer');
  const { path, bound } = loadLibvosk(explicitPath, bindLibvosk);
  loaded = { path, ...bound };
  return loaded;
}

/** libvosk's functions in a loaded library; throws naming the first one it lacks. */
export function bindLibvosk(library: NativeLibrary): Omit<LibVosk, 'path'> {
  const fn = (signature: string): unknown => library.func(signature);
  return {
    setLogLevel: fn('void vosk_set_log_level(int level)'),
    modelNew: fn('VoskModel *vosk_model_new(const char *path)'),
    modelFree: fn('void vosk_model_free(VoskModel *model)'),
    modelFindWord: fn('int vosk_model_find_word(VoskModel *model, const char *word)'),
    recognizerNew: fn('VoskRecognizer *vosk_recognizer_new(VoskModel *model, float sample_rate)'),
    recognizerNewGrm: fn('VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model, float sample_rate, const char *grammar)'),
    recognizerFree: fn('void vosk_recognizer_free(VoskRecognizer *recognizer)'),
    recognizerSetWords: fn('void vosk_recognizer_set_words(VoskRecognizer *recognizer, int words)'),
    recognizerSetPartialWords: fn('void vosk_recognizer_set_partial_words(VoskRecognizer *recognizer, int partial_words)'),
    recognizerSetMaxAlternatives: fn('void vosk_recognizer_set_max_alternatives(VoskRecognizer *recognizer, int max_alternatives)'),
    acceptWaveform: fn('int vosk_recognizer_accept_waveform(VoskRecognizer *recognizer, const uint8_t *data, int length)'),
    result: fn('const char *vosk_recognizer_result(VoskRecognizer *recognizer)'),
    partialResult: fn('const char *vosk_recognizer_partial_result(VoskRecognizer *recognizer)'),
    finalResult: fn('const char *vosk_recognizer_final_result(VoskRecognizer *recognizer)'),
    reset: fn('void vosk_recognizer_reset(VoskRecognizer *recognizer)'),
  } as Omit<LibVosk, 'path'>;
}

/** Promise form of a koffi async call: runs on a worker thread, never on the event loop. */
export function callAsync<A extends unknown[], R>(f: AsyncFn<A, R>, ...args: A): Promise<R> {
  return new Promise((resolve, reject) => {
    f.async(...args, (err: unknown, result: R) => (err ? reject(err) : resolve(result)));
  });
}
