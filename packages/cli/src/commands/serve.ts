import { type ConfigInput, configInputFromEnv, resolveConfig, runServer } from '@asrctl/server';
import type { Command } from 'commander';

interface ServeOptions {
  host?: string;
  port?: string;
  model?: string[];
  defaultLanguage?: string;
  libvosk?: string;
  logLevel?: string;
  shutdownTimeout?: string;
}

/** `asrctl serve`: the same server the image runs, on this host, without Docker. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the recognition server on this host (no Docker); JSON logs on stdout')
    .option('--host <addr>', 'listen address (ASR_HOST)', undefined)
    .option('--port <n>', 'listen port (ASR_PORT, default 8765)')
    .option('--model <lang=dir>', 'model directory for a language, repeatable (ASR_MODEL_CN, ASR_MODEL_EN)', collect, undefined)
    .option('--default-language <lang>', 'language of new sessions (ASR_DEFAULT_LANGUAGE, default cn)')
    .option('--libvosk <path>', 'libvosk.so to load (ASR_LIBVOSK)')
    .option('--log-level <level>', 'debug|info|warn|error|silent (ASR_LOG_LEVEL)')
    .option('--shutdown-timeout <ms>', 'how long SIGTERM waits for open sessions (ASR_SHUTDOWN_TIMEOUT_MS)')
    .action(async (options: ServeOptions) => {
      const flags: ConfigInput = { ...options };
      await runServer(resolveConfig(configInputFromEnv(process.env), flags));
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
