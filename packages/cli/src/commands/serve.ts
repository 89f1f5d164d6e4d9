import { type ConfigInput, configInputFromEnv, resolveConfig, runServer } from '@asrctl/server';
import type { Command } from 'commander';

/** `asrctl serve`: the same server the image runs, on this host, without Docker. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the recognition server on this host (no Docker); JSON logs on stdout')
    .option('--host <addr>', 'listen address (ASR_HOST, default 0.0.0.0)')
    .option('--port <n>', 'listen port (ASR_PORT, default 8765)')
    .option('--model <lang=dir>', 'model directory for a language, repeatable (ASR_MODEL_CN, ASR_MODEL_EN)', collect, undefined)
    .option('--default-language <lang>', 'language of new sessions (ASR_DEFAULT_LANGUAGE, default cn)')
    .option('--libvosk <path>', 'libvosk.so to load (ASR_LIBVOSK)')
    .option('--log-level <level>', 'debug|info|warn|error|silent (ASR_LOG_LEVEL)')
    .option('--vosk-log-level <n>', 'libvosk verbosity, -1..10 (ASR_VOSK_LOG_LEVEL)')
    .option('--shutdown-timeout <ms>', 'how long SIGTERM waits for open sessions (ASR_SHUTDOWN_TIMEOUT_MS)')
    .option('--max-message-bytes <n>', 'largest WebSocket message (ASR_MAX_MESSAGE_BYTES)')
    .option('--vosk-port <n>', 'also speak the vosk-server protocol on every path of this port, e.g. 2700 (ASR_VOSK_PORT)')
    .option('--funasr-port <n>', 'also speak the FunASR protocol on every path of this port, e.g. 10095 (ASR_FUNASR_PORT)')
    // Commander's camel-cased option names are ConfigInput's field names.
    .action(async (flags: ConfigInput) => {
      await runServer(resolveConfig(configInputFromEnv(process.env), flags));
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
