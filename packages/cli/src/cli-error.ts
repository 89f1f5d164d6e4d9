/** What went wrong, as a stable name (scripts and tests tell failures apart by it). */
export type CliErrorCode =
  | 'app_start_failed'
  | 'cleanup_refused'
  | 'deploy_locked'
  | 'disk_full'
  | 'download_failed'
  | 'edge_failed'
  | 'edge_start_failed'
  | 'engine_failed'
  | 'environment_unfit'
  | 'image_build_failed'
  | 'image_failed'
  | 'image_push_failed'
  | 'interrupted'
  | 'invalid_deploy_config'
  | 'invalid_model_name'
  | 'invalid_wav'
  | 'model_changed'
  | 'model_in_use'
  | 'model_install_failed'
  | 'model_not_installed'
  | 'model_prefetch_failed'
  | 'not_a_model'
  | 'not_scalable'
  | 'nothing_to_restart'
  | 'recognition_probe_failed'
  | 'restore_failed'
  | 'rolled_back'
  | 'server_unreachable'
  | 'swarm_operation_failed'
  | 'swarm_rollout_failed'
  | 'swarm_worker'
  | 'unrecorded_deployment';

export interface CliErrorOptions extends ErrorOptions {
  /** What to do next; shown on its own line after the message. */
  hint?: string;
  /** The process exit code when this error ends the command: 1, or 2 for bad usage or configuration. */
  exitCode?: number;
}

/**
 * The CLI's one error type: what failed (with its values), a code, what to do next, and the exit
 * code. The message ends with the hint line, so wherever the error is shown (cli.ts, a deploy
 * summary, a wrapped cause) the user sees what to do. Subclasses exist only where callers read
 * more than this (DeployConfigError, ImageBuildError, DownloadError).
 */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    options: CliErrorOptions = {},
  ) {
    super(options.hint === undefined ? message : `${message}\n  hint: ${options.hint}`, options);
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Whether `err` is a CliError, with `code` when given. */
export function isCliError(err: unknown, code?: CliErrorCode): err is CliError {
  return err instanceof CliError && (code === undefined || err.code === code);
}
