/** Narrower than this, the task list's wrapped progress lines are harder to read than plain lines. */
const MIN_COLUMNS = 40;

/**
 * Whether listr2's animated task list can draw on this stream. It wraps every line to the
 * terminal's width, so a terminal that reports none (width 0: serial consoles, some `docker exec`
 * and CI pseudo-terminals) would get one character a line; such a terminal gets plain lines.
 */
export function canDrawTaskList(stream: { isTTY?: boolean; columns?: number }): boolean {
  return stream.isTTY === true && Number.isFinite(stream.columns) && (stream.columns ?? 0) >= MIN_COLUMNS;
}
