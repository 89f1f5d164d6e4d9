import { closeSync, openSync } from 'node:fs';
import { isatty } from 'node:tty';

/** Which of stdin, stdout and stderr (0, 1, 2) are a terminal now. */
function standardTerminals(): number[] {
  return [0, 1, 2].filter((fd) => isatty(fd));
}

/**
 * Points each of these standard descriptors whose terminal has hung up (it is a terminal no more)
 * at /dev/null. At exit Node restores the terminal settings a standard descriptor had at start
 * unless it is another file by then, and Node 20, 22 before 22.17 and 24.0 abort when that fails, as
 * on a hung-up terminal (tcsetattr: EIO; nodejs/node#51519): the process dies of SIGABRT instead of
 * ending with its exit code. Call it as the process exits, when nothing uses the descriptors any more.
 */
function releaseHungUpTerminals(fds: readonly number[]): void {
  for (const fd of fds) {
    if (isatty(fd)) continue;
    closeSync(fd);
    // The lowest free descriptor, fd: whatever still writes there now writes to /dev/null.
    openSync('/dev/null', 'r+');
  }
}

/** At exit, whatever ends the process, lets go of the standard descriptors that were terminals now and have hung up since. */
export function releaseHungUpTerminalsAtExit(): void {
  const terminals = standardTerminals();
  process.once('exit', () => releaseHungUpTerminals(terminals));
}
