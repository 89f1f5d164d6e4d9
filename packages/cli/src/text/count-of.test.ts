import { describe, expect, it } from 'vitest';
import { countOf } from './count-of.js';

describe('countOf', () => {
  it('uses the singular for exactly one and the plural otherwise', () => {
    expect([0, 1, 2].map((n) => countOf(n, 'session'))).toEqual(['0 sessions', '1 session', '2 sessions']);
    expect(countOf(1, 'old one still serves', 'old ones still serve')).toBe('1 old one still serves');
    expect(countOf(3, 'old one still serves', 'old ones still serve')).toBe('3 old ones still serve');
  });
});
