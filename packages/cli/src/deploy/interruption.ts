import { CliError } from '../cli-error.js';

/**
 * The signals that ask a deploy to stop safely, and the exit code each ends the command with (128 +
 * its number). SIGHUP: the terminal closed or the SSH session was lost.
 */
export const STOP_SIGNALS = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/** Why a deploy's AbortSignal was aborted: the operator's Ctrl-C, a lost terminal's SIGHUP, or a process manager's SIGTERM. */
export class Interruption extends CliError {
  override readonly name = 'Interruption';
  constructor(readonly signalName: StopSignal) {
    super('interrupted', `interrupted by ${signalName}`, { exitCode: STOP_SIGNALS[signalName] });
  }
}

/** How an aborted deploy names what stopped it: the signal, or the reason a caller of the API gave. */
export function interruptionCause(signal: AbortSignal): { what: string; exitCode: number } {
  const reason: unknown = signal.reason;
  if (reason instanceof Interruption) return { what: reason.signalName, exitCode: reason.exitCode };
  return { what: reason instanceof Error ? reason.message : String(reason), exitCode: reason instanceof CliError ? reason.exitCode : 1 };
}
