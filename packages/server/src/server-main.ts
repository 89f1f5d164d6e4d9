import { ConfigError, SERVER_USAGE, configInputFromEnv, parseServerArgs, resolveConfig } from './config.js';
import type { DeprecatedEnv } from './options/option-table.js';
import { runServer } from './run.js';

/** Flags and ASR_* environment variables, see SERVER_USAGE. */
try {
  const { help, ...flags } = parseServerArgs(process.argv.slice(2));
  if (help) {
    process.stdout.write(SERVER_USAGE);
  } else {
    const deprecated: DeprecatedEnv[] = [];
    await runServer(resolveConfig(configInputFromEnv(process.env, deprecated), flags, deprecated));
  }
} catch (err) {
  const message = err instanceof ConfigError ? err.message : `${(err as Error).message}\n\n${SERVER_USAGE}`;
  process.stderr.write(`asr-server: ${message}\n`);
  process.exit(2);
}
