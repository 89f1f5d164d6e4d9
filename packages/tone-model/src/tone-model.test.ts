import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filterResponses, toneBins } from './mel.js';
import { ENGLISH_TONE_WORDS, parseToneWords, readToneWords, toneModelFiles, writeToneModel } from './tone-model.js';

const digest = (files: Map<string, Buffer>): string => {
  const h = createHash('sha256');
  for (const [path, bytes] of files) h.update(path).update(bytes);
  return h.digest('hex');
};

describe('tone model generator', () => {
  it('writes the layout libvosk reads as a v2 model, and no mfcc.conf', () => {
    const files = toneModelFiles({ words: ENGLISH_TONE_WORDS });
    expect([...files.keys()].sort()).toEqual([
      'am/final.mdl',
      'conf/fbank.conf',
      'conf/model.conf',
      'graph/HCLG.fst',
      'graph/phones/word_boundary.int',
      'graph/words.txt',
      'tone-words.txt',
    ]);
    expect(files.get('tone-words.txt')!.toString()).toBe('low 500\nmid 1000\nhigh 2000\n');
    expect(files.get('graph/words.txt')!.toString()).toBe('<eps> 0\nlow 1\nmid 2\nhigh 3\n');
    expect(files.get('graph/phones/word_boundary.int')!.toString()).toBe('1 nonword\n2 singleton\n3 singleton\n4 singleton\n');
    expect(files.get('conf/model.conf')!.toString()).toContain('--frame-subsampling-factor=3');
    expect(files.get('am/final.mdl')!.subarray(0, 2)).toEqual(Buffer.from([0, 0x42]));
  });

  it('is deterministic: the same spec gives the same bytes, light and heavy', () => {
    expect(digest(toneModelFiles({ words: ENGLISH_TONE_WORDS }))).toBe(digest(toneModelFiles({ words: ENGLISH_TONE_WORDS })));
    const heavyA = toneModelFiles({ words: ENGLISH_TONE_WORDS, heavy: true });
    const heavyB = toneModelFiles({ words: ENGLISH_TONE_WORDS, heavy: true });
    expect(digest(heavyA)).toBe(digest(heavyB));
    // About 6.8 M float32 parameters.
    expect(heavyA.get('am/final.mdl')!.length).toBeGreaterThan(26_000_000);
    expect(heavyA.get('am/final.mdl')!.length).toBeLessThan(29_000_000);
  });

  it('keeps as many TDNN-F layers as asked, and refuses a count it does not have', () => {
    const lighter = toneModelFiles({ words: ENGLISH_TONE_WORDS, heavy: true, tdnnfLayers: 4 }).get('am/final.mdl')!;
    const mdl = lighter.toString('latin1');
    expect(mdl).toContain('tdnnf5.noop');
    expect(mdl).not.toContain('tdnnf6.');
    expect(lighter.length).toBeLessThan(toneModelFiles({ words: ENGLISH_TONE_WORDS, heavy: true }).get('am/final.mdl')!.length);
    for (const bad of [0, 12, 2.5])
      expect(() => toneModelFiles({ words: ENGLISH_TONE_WORDS, heavy: true, tdnnfLayers: bad })).toThrow(
        `tdnnfLayers must be a whole number from 1 to 11, not ${bad}`,
      );
  });

  it('places the tones in the filterbank bins the spec measured', () => {
    const at500 = filterResponses(500);
    expect(at500[7]).toBeCloseTo(0.595, 2);
    expect(at500[8]).toBeCloseTo(0.405, 2);
    expect(toneBins(1000)).toMatchObject({ b0: 13, b1: 14 });
    expect(toneBins(2000)).toMatchObject({ b0: 20, b1: 21 });
  });

  it('writes an HCLG with the expected states and arcs for three words', () => {
    const fst = toneModelFiles({ words: ENGLISH_TONE_WORDS }).get('graph/HCLG.fst')!;
    expect(fst.readInt32LE(0)).toBe(2125659606);
    const afterStrings = 4 + 4 + 6 + 4 + 8 + 4 + 4;
    expect(fst.readBigInt64LE(afterStrings + 8)).toBe(0n); // start state
    expect(fst.readBigInt64LE(afterStrings + 16)).toBe(11n); // states: start, silence, 3 per word
    // start: 1 + 3; silence: loop + 3; per word: 1 + 1 + (loop + 1 + 3)
    expect(fst.readBigInt64LE(afterStrings + 24)).toBe(BigInt(4 + 4 + 3 * 7));
  });

  it('parses custom words and rejects what cannot work', () => {
    expect(parseToneWords('yes:600, no:1800')).toEqual([
      { word: 'yes', hz: 600 },
      { word: 'no', hz: 1800 },
    ]);
    expect(() => parseToneWords('yes')).toThrow(/expected word:Hz/);
    expect(() => parseToneWords('a:500,a:2000')).toThrow(/appears twice/);
    expect(() => parseToneWords('a:100')).toThrow(/too close to the filterbank edge/);
    expect(() => parseToneWords('a:500,b:510')).toThrow(/share a filterbank bin/);
    expect(() => parseToneWords('<s>:500')).toThrow(/reserved/);
  });

  it('replaces only a tone model or an empty directory, never other files', async () => {
    const work = await mkdtemp(join(tmpdir(), 'tone-model-'));
    try {
      const words = ENGLISH_TONE_WORDS;
      // A slip: the models root (real models in it) instead of a new directory.
      const models = join(work, 'models');
      await mkdir(join(models, 'vosk-model-en'), { recursive: true });
      await writeFile(join(models, 'vosk-model-en', 'final.mdl'), 'real');
      await expect(writeToneModel(models, { words })).rejects.toThrow(
        /models exists and is not a tone model \(it holds vosk-model-en and 1 more\): nothing was written/u,
      );
      expect(await readFile(join(models, 'vosk-model-en', 'final.mdl'), 'utf8')).toBe('real');
      const file = join(work, 'notes.txt');
      await writeFile(file, 'keep');
      await expect(writeToneModel(file, { words })).rejects.toThrow(/notes.txt exists and is not a tone model \(it is a file\)/u);
      expect(await readFile(file, 'utf8')).toBe('keep');
      expect((await readdir(work)).sort()).toEqual(['models', 'notes.txt']);

      const empty = join(work, 'empty');
      await mkdir(empty);
      await writeToneModel(empty, { words });
      expect(await readToneWords(empty)).toEqual(words);
      // Regenerating a tone model with other words replaces it.
      const other = parseToneWords('yes:600,no:1800');
      await writeToneModel(empty, { words: other });
      expect(await readToneWords(empty)).toEqual(other);
      // A tone model's file names beside other files do not make a tone model.
      await writeFile(join(empty, 'thesis.doc'), 'mine');
      await expect(writeToneModel(empty, { words })).rejects.toThrow(/\(it holds thesis.doc\)/u);
      expect(await readFile(join(empty, 'thesis.doc'), 'utf8')).toBe('mine');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
