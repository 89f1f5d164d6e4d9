import { resolve } from 'node:path';
import { type ToneWord, parseToneWords, toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { type Command, Option } from 'commander';

interface SynthOptions {
  lang: 'en' | 'cn';
  heavy?: boolean;
  words?: string;
}

/** `asrctl models ...`: model management. */
export function registerModels(program: Command): void {
  const models = program.command('models').description('manage recognition models');
  models
    .command('synth')
    .description('write a generated tone model: a smoke-test model for hosts with no real model at hand')
    .argument('<dir>', 'directory to create (replaced if it exists)')
    .addOption(new Option('--lang <lang>', 'word set: en (low/mid/high) or cn (低/中/高)').choices(['en', 'cn']).default('en'))
    .option('--heavy', 'add a realistic-compute network (for benchmarks); same results')
    .option('--words <list>', 'custom words as word:Hz,... (e.g. yes:600,no:1800)')
    .action(async (dir: string, options: SynthOptions) => {
      const words: readonly ToneWord[] = options.words ? parseToneWords(options.words) : toneWordsFor(options.lang);
      await writeToneModel(dir, { words, heavy: options.heavy ?? false });
      const list = words.map((w) => `${w.word}=${w.hz} Hz`).join(', ');
      process.stdout.write(`wrote ${options.heavy ? 'heavy' : 'light'} tone model to ${resolve(dir)} (${list})\n`);
    });
}
