import { ConfigError, type ServerConfig } from './config.js';
import { EngineError } from './engine/errors.js';
import { createLogger } from './logger.js';
import { AsrServer, ServerStartError } from './server.js';

/**
 * Runs the server as a process: start, wait for the models, drain on SIGTERM/SIGINT and exit 0.
 * Start-up failures (libvosk, port, models) are logged with their reason and exit 1.
 * Shared by the image's entry point and `asrctl serve`.
 */
export async function runServer(config: ServerConfig): Promise<void> {
  const logger = createLogger(config.logLevel);
  for (const { name, use } of config.deprecatedEnv ?? []) logger.warn({ variable: name, use }, 'deprecated_env');
  for (const { name, use, why } of config.ignoredEnv ?? []) logger.warn({ variable: name, use, why }, 'ignored_env');
  // Listened for from the first moment: a signal while the server starts is kept and acted on once
  // it has started (Node's default would end the process at once, without a word).
  let server: AsrServer | undefined;
  let stopping = false;
  const drainAndExit = (s: AsrServer): void => {
    s.drain().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ message: (err as Error).message }, 'drain_failed');
        process.exit(1);
      },
    );
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, ...(server === undefined && { while: 'starting' }) }, 'signal');
    if (server) drainAndExit(server);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // One that came while the entry point (main.cts) was still loading the modules.
  const early = (globalThis as Record<symbol, unknown>)[Symbol.for('asrctl.early-signal')] as NodeJS.Signals | undefined;
  if (early) stop(early);
  try {
    server = await AsrServer.start(config, logger);
  } catch (err) {
    fail(logger, err);
    return;
  }
  if (stopping) return drainAndExit(server);
  try {
    await server.ready;
  } catch (err) {
    await server.drain(0, 0).catch(() => undefined);
    fail(logger, err);
  }
}

function fail(logger: ReturnType<typeof createLogger>, err: unknown): void {
  const known = err instanceof ServerStartError || err instanceof EngineError || err instanceof ConfigError;
  const modelProblem = err instanceof EngineError && (err.code === 'model_invalid' || err.code === 'model_load_failed');
  logger.error(
    {
      message: (err as Error).message,
      ...(modelProblem && { hint: 'give a complete model directory with --model LANG=DIR (asrctl models synth DIR makes a test model)' }),
      ...(known ? {} : { stack: (err as Error).stack }),
    },
    'start_failed',
  );
  process.exit(1);
}
