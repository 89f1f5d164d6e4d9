import { basename, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EngineError } from './errors.js';
import { type LibVosk, type ModelHandle, callAsync } from './libvosk.js';
import { describeModelProblems, inspectModelDirectory } from './model-directory.js';

/** A loaded Vosk model, shared by every recognizer of its language. */
export class VoskModel {
  private freed = false;

  private constructor(
    private readonly lib: LibVosk,
    readonly handle: ModelHandle,
    /** Absolute path of the model directory. */
    readonly dir: string,
    readonly loadSeconds: number,
  ) {}

  /** The directory's name: what results report as `mode`. */
  get name(): string {
    return basename(this.dir);
  }

  /**
   * Checks the directory, then loads it on a worker thread (a large model takes seconds; the
   * event loop keeps answering health checks meanwhile).
   */
  static async load(lib: LibVosk, dir: string): Promise<VoskModel> {
    const absolute = resolve(dir);
    const problems = await inspectModelDirectory(absolute);
    if (problems === 'not_a_directory' || problems.length > 0) {
      throw new EngineError('model_invalid', describeModelProblems(absolute, problems));
    }
    const started = performance.now();
    const handle = await callAsync(lib.modelNew, absolute);
    if (!handle) {
      throw new EngineError(
        'model_load_failed',
        `libvosk could not load the model in ${absolute} (the files are present; one may be corrupt, truncated, or from an incompatible Vosk version: download it again)`,
      );
    }
    return new VoskModel(lib, handle, absolute, (performance.now() - started) / 1000);
  }

  /** The word's id in the model's vocabulary, or -1 when the model does not know it. */
  findWord(word: string): number {
    return this.lib.modelFindWord(this.handle, word);
  }

  /** Recognizers hold their own reference, so freeing the model while they live is safe. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.lib.modelFree(this.handle);
  }
}
