/**
 * "1 session", "2 sessions": a number with its noun (and any words that agree with it) in the
 * right form. `plural` defaults to the singular with an s.
 */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
