/**
 * About `max` characters of a message, on one line: what an engine or HAProxy answered can be
 * kilobytes (a stats CSV), and a status line or a problem must stay readable. Its start and its
 * end are kept: an engine's error says what failed first and why last ("... bind: address already in use").
 */
export function brief(text: string, max = 200): string {
  const oneLine = text.replace(/\s*\n\s*/gu, ' ⏎ ').trim();
  if (oneLine.length <= max) return oneLine;
  const head = Math.floor(max * 0.4);
  const tail = max - head;
  return `${oneLine.slice(0, head)} …(${oneLine.length - max} characters left out)… ${oneLine.slice(-tail)}`;
}
