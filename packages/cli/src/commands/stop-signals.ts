import { Interruption, STOP_SIGNALS, type StopSignal } from '../deploy/interruption.js';
import { keepGoingWithoutOutput, silenceOutput } from '../os/lost-output.js';

/**
 * For the length of a deploy, Ctrl-C (SIGINT), SIGHUP (the terminal closed) or SIGTERM stops it
 * safely instead of killing the process: the first aborts the returned signal (the deploy says what
 * stopping means where it is, and undoes its current step); a second SIGINT or SIGTERM exits at
 * once, undoing nothing. After a SIGHUP nothing is written any more, further SIGHUPs change
 * nothing (cli.ts lets go of the lost terminal at exit).
 */
export function stopSafelyOnSignals(say: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
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
  const outputKept = keepGoingWithoutOutput();
  return {
    signal: controller.signal,
    dispose: () => {
      handlers.forEach(({ name, handler }) => process.off(name, handler));
      outputKept();
    },
  };
}
