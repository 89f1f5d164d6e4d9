/** The engine, host or cluster cannot run the deployment as configured (nothing was changed). */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** restart found nothing serving to restart. */
export class NothingToRestartError extends Error {
  override readonly name = 'NothingToRestartError';
}
