export { AsrServer, CLOSE_SERVICE_RESTART, ServerStartError } from './server.js';
export {
  ConfigError,
  configFrom,
  configInputFromEnv,
  resolveConfig,
  tlsPairProblems,
  tokensFileProblems,
  type ConfigInput,
  type ServerConfig,
} from './config.js';
export * from './options/value-types.js';
export * from './options/option-table.js';
export * from './options/shared-rules.js';
export { SERVER_OPTIONS } from './options/server-options.js';
export { runServer } from './run.js';
export type * from './protocol/asrctl-messages.js';
export { REPLY_TO } from './protocol/asrctl-messages.js';
export type { ClientErrorCode } from './protocol/client-error.js';
export { AsrctlClient, type AsrctlClientOptions, type StreamOptions } from './client/asrctl-client.js';
export { AsrctlClientError, type AsrctlClientErrorCode, type ReceivedMessage } from './client/asrctl-session.js';
export { pollUntil, PollTimeoutError, type PollOptions } from './poll-until.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
export { describeModelProblems, inspectModelDirectory, EngineError } from './engine/index.js';
export { AUTO_LANGUAGE, normalizeLanguage } from './languages.js';
export { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, isSupportedSampleRate } from './session.js';
export { libvosk, type LibVosk } from './engine/libvosk.js';
export { bundledLibvoskPath } from './engine/libvosk-locator.js';
export { funasrText } from './protocol/funasr-protocol.js';
