export { AsrServer, CLOSE_SERVICE_RESTART, ServerStartError } from './server.js';
export { ConfigError, configInputFromEnv, resolveConfig, type ConfigInput, type ServerConfig } from './config.js';
export { runServer } from './run.js';
export type { TranscriptMessage } from './protocol/asrctl-protocol.js';
export { createLogger, type Logger, type LogLevel } from './logger.js';
export { describeModelProblems, inspectModelDirectory, EngineError } from './engine/index.js';
export { normalizeLanguage } from './languages.js';
export { libvosk, type LibVosk } from './engine/libvosk.js';
export { bundledLibvoskPath } from './engine/libvosk-locator.js';
