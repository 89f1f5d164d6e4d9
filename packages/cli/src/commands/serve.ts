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
    .option('--tls-cert <file>', 'certificate (PEM): wss and https on every port (ASR_TLS_CERT)')
    .option('--tls-key <file>', 'private key (PEM) for --tls-cert (ASR_TLS_KEY)')
    .option('--tokens-file <file>', 'require a token, one per line: Authorization: Bearer or ?token= (ASR_TOKENS_FILE)')
    .option('--allow-ip <cidr>', 'client address range allowed, repeatable (ASR_ALLOW_IPS; default everyone)', collect, undefined)
    .option(
      '--allow-origin <origin>',
      'browser origin allowed, repeatable; null for pages opened from disk (ASR_ALLOW_ORIGINS)',
      collect,
      undefined,
    )
    .option('--max-sessions <n>', 'sessions at once; more get 503 (ASR_MAX_SESSIONS, default 64)')
    .option('--max-sessions-per-ip <n>', 'sessions at once per client address; more get 429 (ASR_MAX_SESSIONS_PER_IP, default 16)')
    .option('--max-json-bytes <n>', 'largest JSON message (ASR_MAX_JSON_BYTES, default 65536)')
    .option('--max-session-seconds <n>', 'longest session (ASR_MAX_SESSION_SECONDS, default 14400)')
    .option('--idle-timeout <s>', 'close sessions silent this long (ASR_IDLE_TIMEOUT_SECONDS, default 60)')
    .option('--ping-interval <s>', 'WebSocket ping period; no pong by the next one cuts the peer (ASR_PING_INTERVAL_SECONDS, default 20)')
    .option('--max-buffered-audio <s>', 'audio waiting to be decoded per session (ASR_MAX_BUFFERED_AUDIO_SECONDS, default 20)')
    .option('--trust-proxy <bool>', 'client address from X-Forwarded-For, only behind a proxy that sets it (ASR_TRUST_PROXY)')
    // Commander's camel-cased option names are ConfigInput's field names.
    .action(async (flags: ConfigInput) => {
      await runServer(resolveConfig(configInputFromEnv(process.env), flags));
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
