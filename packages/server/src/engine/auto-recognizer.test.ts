import { describe, expect, it } from 'vitest';
import { believability, chooseResult } from './auto-recognizer.js';

const words = (...confs: number[]) => ({
  text: confs.map((_, i) => `w${i}`).join(' '),
  result: confs.map((conf, i) => ({ word: `w${i}`, start: i, end: i + 1, conf })),
});

describe('choosing the language of an utterance', () => {
  it('scores a result by its mean word confidence; an empty one loses to any words', () => {
    expect(believability(words(1, 0.5))).toBe(0.75);
    expect(believability({ text: '' })).toBe(Number.NEGATIVE_INFINITY);
    expect(believability({ alternatives: [{ confidence: -7, text: 'a b' }], text: '' })).toBe(-7);
    expect(believability({ alternatives: [{ confidence: -0.4, text: '' }], text: '' })).toBe(Number.NEGATIVE_INFINITY);
  });

  it('picks the most believable; a tie keeps the language chosen last', () => {
    expect(chooseResult([words(0.6), words(0.9)], 0)).toBe(1);
    expect(chooseResult([{ text: '' }, words(0.2)], 0)).toBe(1);
    expect(chooseResult([words(1, 1), words(1)], 1)).toBe(1);
    expect(chooseResult([words(1), words(1)], 0)).toBe(0);
    expect(chooseResult([{ text: '' }, { text: '' }], 1)).toBe(1);
  });
});
