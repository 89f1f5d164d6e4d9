import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';

export interface ToneModelSet {
  root: string;
  cn: string;
  en: string;
  remove(): Promise<void>;
}

/** Generated cn and en tone models in a fresh temporary directory. */
export async function makeToneModels(options: { heavy?: boolean } = {}): Promise<ToneModelSet> {
  const root = await mkdtemp(join(tmpdir(), 'asr-models-'));
  const heavy = options.heavy ?? false;
  const suffix = heavy ? '-heavy' : '';
  const cn = join(root, `tone-cn${suffix}`);
  const en = join(root, `tone-en${suffix}`);
  await writeToneModel(cn, { words: toneWordsFor('cn'), heavy });
  await writeToneModel(en, { words: toneWordsFor('en'), heavy });
  return { root, cn, en, remove: () => rm(root, { recursive: true, force: true }) };
}
