import { ConfigError, SERVER_USAGE, configFrom, parseServerArgs } from './config.js';
import { runServer } from './run.js';

/** Flags and ASR_* environment variables, see SERVER_USAGE. */
try {
  const { help, ...flags } = parseServerArgs(process.argv.slice(2));
  if (help) {
    process.stdout.write(SERVER_USAGE);
  } else {
    await runServer(configFrom(process.env, flags));
  }
} catch (err) {
  const message = err instanceof ConfigError ? err.message : `${(err as Error).message}\n\n${SERVER_USAGE}`;
  process.stderr.write(`asr-server: ${message}\n`);
  process.exit(2);
}
