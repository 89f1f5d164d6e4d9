import { lstat, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { HEAVY_TDNNF_LAYERS, acousticModel } from './acoustic-model.js';
import { decodingGraph } from './decoding-graph.js';
import { toneBins } from './mel.js';
import { toneSequenceClip } from './test-audio.js';

/** A word of a tone model: the text libvosk returns when it hears a pure tone at `hz`. */
export interface ToneWord {
  word: string;
  hz: number;
}

export interface ToneModelSpec {
  words: readonly ToneWord[];
  /** Adds a TDNN-F stack with real compute (benchmarks); the output stays identical. */
  heavy?: boolean;
  /**
   * With `heavy`: how many of the stack's 11 TDNN-F layers to keep (default all). Fewer make a
   * cheaper model with the same output (5: about half the compute, for benchmarks of light models).
   */
  tdnnfLayers?: number;
}

export const TONE_FREQUENCIES = { low: 500, mid: 1000, high: 2000 } as const;

export const ENGLISH_TONE_WORDS: readonly ToneWord[] = [
  { word: 'low', hz: TONE_FREQUENCIES.low },
  { word: 'mid', hz: TONE_FREQUENCIES.mid },
  { word: 'high', hz: TONE_FREQUENCIES.high },
];

export const CHINESE_TONE_WORDS: readonly ToneWord[] = [
  { word: '低', hz: TONE_FREQUENCIES.low },
  { word: '中', hz: TONE_FREQUENCIES.mid },
  { word: '高', hz: TONE_FREQUENCIES.high },
];

export function toneWordsFor(language: 'en' | 'cn'): readonly ToneWord[] {
  return language === 'en' ? ENGLISH_TONE_WORDS : CHINESE_TONE_WORDS;
}

/** Parses `w:Hz,w:Hz` (as typed on a command line). */
export function parseToneWords(text: string): ToneWord[] {
  const words = text.split(',').map((pair) => {
    const m = /^\s*([^:\s]+)\s*:\s*(\d+(?:\.\d+)?)\s*$/u.exec(pair);
    if (!m) throw new Error(`invalid word "${pair}": expected word:Hz, e.g. low:500`);
    return { word: m[1]!, hz: Number(m[2]) };
  });
  validateWords(words);
  return words;
}

const MODEL_CONF = [
  '--min-active=200',
  '--max-active=3000',
  '--beam=10.0',
  '--lattice-beam=2.0',
  '--acoustic-scale=1.0',
  '--frame-subsampling-factor=3',
  '--endpoint.silence-phones=1',
  '--endpoint.rule2.min-trailing-silence=0.5',
  '--endpoint.rule3.min-trailing-silence=0.75',
  '--endpoint.rule4.min-trailing-silence=1.0',
];

const FBANK_CONF = [
  '--sample-frequency=16000',
  '--num-mel-bins=40',
  '--low-freq=20',
  '--high-freq=0',
  '--dither=0.0',
  '--snip-edges=true',
  '--allow-upsample=true',
];

function heavyLayers(layers: number = HEAVY_TDNNF_LAYERS): number {
  if (!Number.isInteger(layers) || layers < 1 || layers > HEAVY_TDNNF_LAYERS)
    throw new Error(`tdnnfLayers must be a whole number from 1 to ${HEAVY_TDNNF_LAYERS}, not ${layers}`);
  return layers;
}

/** The files of a tone model directory, relative path to bytes. Deterministic. */
export function toneModelFiles(spec: ToneModelSpec): Map<string, Buffer> {
  validateWords(spec.words);
  const n = spec.words.length;
  const lines = (l: string[]): Buffer => Buffer.from(`${l.join('\n')}\n`, 'utf8');
  return new Map([
    [
      'am/final.mdl',
      acousticModel(
        spec.words.map((w) => w.hz),
        spec.heavy ? heavyLayers(spec.tdnnfLayers) : 0,
      ),
    ],
    ['conf/model.conf', lines(MODEL_CONF)],
    ['conf/fbank.conf', lines(FBANK_CONF)],
    ['graph/HCLG.fst', decodingGraph(n)],
    ['graph/words.txt', lines(['<eps> 0', ...spec.words.map((w, i) => `${w.word} ${i + 1}`)])],
    // Word PHONE ids (2..n+1), not word ids: otherwise word times come out wrong.
    ['graph/phones/word_boundary.int', lines(['1 nonword', ...spec.words.map((_, i) => `${i + 2} singleton`)])],
    // Not read by libvosk: what the model hears, so a probe can say its words (readToneWords).
    [TONE_WORDS_FILE, lines(spec.words.map((w) => `${w.word} ${w.hz}`))],
  ]);
}

const TONE_WORDS_FILE = 'tone-words.txt';

/** A 16 kHz clip of a tone model's first and last words, and the text it must come out as. */
export function firstAndLastWordsClip(words: readonly ToneWord[]): { samples: Int16Array; text: string } {
  const said = words.length > 1 ? [words[0]!, words.at(-1)!] : [...words];
  return { samples: toneSequenceClip(said.map((w) => w.hz)), text: said.map((w) => w.word).join(' ') };
}

/** A generated tone model's words and their tones; undefined for any other model directory. */
export async function readToneWords(dir: string): Promise<ToneWord[] | undefined> {
  const text = await readFile(join(dir, TONE_WORDS_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [word = '', hz = ''] = line.split(' ');
      return { word, hz: Number(hz) };
    });
}

/**
 * Writes a tone model into `dir`. The files are written to a sibling temporary directory first and
 * renamed into place, so a reader never sees a half-written model. What `dir` held is replaced
 * only if it is nothing but a tone model's files: a slip such as `models` for `models/cn` must not delete
 * real models or anything else.
 */
export async function writeToneModel(dir: string, spec: ToneModelSpec): Promise<void> {
  const target = resolve(dir);
  const files = toneModelFiles(spec);
  await checkReplaceable(target, files.keys());
  const staging = join(dirname(target), `.${Date.now()}-${process.pid}.partial`);
  await rm(staging, { recursive: true, force: true });
  try {
    for (const [path, bytes] of files) {
      await mkdir(dirname(join(staging, path)), { recursive: true });
      await writeFile(join(staging, path), bytes);
    }
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** Only a tone model's own files, or nothing, may be replaced: a tone-words.txt beside a thesis does not make a tone model. */
async function checkReplaceable(target: string, files: Iterable<string>): Promise<void> {
  const kind = await lstat(target).then(
    (s) => (s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'a symbolic link' : 'a file'),
    () => 'absent',
  );
  if (kind === 'absent') return;
  // The model's files and the directories that hold them.
  const known = new Set([...files].flatMap((file) => file.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const others = kind === 'directory' ? (await readdir(target, { recursive: true })).filter((path) => !known.has(path)) : [];
  if (kind === 'directory' && others.length === 0) return;
  const what =
    kind === 'directory' ? `it holds ${others.length === 1 ? others[0]! : `${others[0]!} and ${others.length - 1} more`}` : `it is ${kind}`;
  throw new Error(
    `${target} exists and is not a tone model (${what}): nothing was written; choose a new directory, or remove this one yourself`,
  );
}

function validateWords(words: readonly ToneWord[]): void {
  if (words.length === 0) throw new Error('a tone model needs at least one word');
  const seen = new Set<string>();
  for (const { word, hz } of words) {
    if (/\s/u.test(word) || word.length === 0) throw new Error(`invalid word "${word}": no spaces allowed`);
    if (word.startsWith('<')) throw new Error(`invalid word "${word}": names starting with "<" are reserved`);
    if (seen.has(word)) throw new Error(`word "${word}" appears twice`);
    seen.add(word);
    toneBins(hz);
  }
  const bins = words.map((w) => toneBins(w.hz).b0);
  if (new Set(bins).size !== bins.length) {
    throw new Error('two words share a filterbank bin: space their frequencies further apart');
  }
}
