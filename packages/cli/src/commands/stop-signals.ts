import { Interruption, STOP_SIGNALS, type StopSignal } from '../deploy/interruption.js';
import { releaseHungUpTerminals, standardTerminals } from '../os/hung-up-terminal.js';

/**
 * For the length of a deploy, Ctrl-C (SIGINT), SIGHUP (the terminal closed) or SIGTERM stops it
 * safely instead of killing the process: the first aborts the returned signal (the deploy says what
 * stopping means where it is, and undoes its current step); a second SIGINT or SIGTERM exits at
 * once, undoing nothing. After a SIGHUP nothing is written any more, further SIGHUPs change
 * nothing, and at exit the lost terminal is let go of (Node would otherwise end the process with
 * SIGABRT instead of 129).
 */
export function stopSafelyOnSignals(say: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const terminals = standardTerminals();
  let hungUp = false;
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((name) => {
    const again = name === 'SIGINT' ? 'Ctrl-C' : name;
    const handler = (): void => {
      if (name === 'SIGHUP') {
        // The terminal is gone: writing to it fails or crashes the process mid-deploy, and a hangup
        // comes as two SIGHUPs at once, so a further one is no request to exit at once.
        if (!hungUp) {
          hungUp = true;
          silenceOutput();
          process.once('exit', () => releaseHungUpTerminals(terminals));
        }
        if (!controller.signal.aborted) controller.abort(new Interruption(name));
        return;
      }
      if (!controller.signal.aborted) {
        say(`asrctl: ${name}: asking the deploy to stop safely (${again} again exits at once, undoing nothing)`);
        controller.abort(new Interruption(name));
        return;
      }
      say(
        `asrctl: ${name} again: exiting now, leaving the deploy half-done (asrctl status shows what runs; the next deploy takes over its lock and replaces what does not serve)`,
      );
      process.exit(STOP_SIGNALS[name]);
    };
    process.on(name, handler);
    return { name, handler };
  });
  // A reader that is gone (`asrctl deploy | tee log`, the tee killed): EPIPE must not end the deploy halfway.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', silenceOutput);
  return {
    signal: controller.signal,
    dispose: () => {
      handlers.forEach(({ name, handler }) => process.off(name, handler));
      for (const stream of [process.stdout, process.stderr]) stream.off('error', silenceOutput);
    },
  };
}

/** From now on output goes nowhere: the deploy goes on (and stops safely) without a terminal or reader. */
function silenceOutput(): void {
  for (const stream of [process.stdout, process.stderr]) stream.write = () => true;
}
