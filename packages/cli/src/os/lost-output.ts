/** From now on output goes nowhere: the command goes on (and ends as it would) without a terminal or reader. */
export function silenceOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.write = () => true;
}

/**
 * A reader that is gone (`asrctl deploy | tee log`, the tee killed: EPIPE) or a terminal that hung
 * up (EIO) fails the next write: instead of the process dying of the unhandled error halfway
 * through, output goes nowhere from then on. Returns the undoing.
 */
export function keepGoingWithoutOutput(): () => void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', silenceOutput);
  return () => {
    for (const stream of [process.stdout, process.stderr]) stream.off('error', silenceOutput);
  };
}
