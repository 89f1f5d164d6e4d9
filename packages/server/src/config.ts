import { parseArgs } from 'node:util';
import { isLanguageCode, normalizeLanguage } from './languages.js';
import type { LogLevel } from './logger.js';

export interface ServerConfig {
  host: string;
  port: number;
  /** Language code to model directory, in load order. */
  models: Map<string, string>;
  defaultLanguage: string;
  libvoskPath?: string;
  logLevel: LogLevel;
  /** libvosk/Kaldi verbosity: -1 warnings and errors only, 0 info, >0 debug. */
  voskLogLevel: number;
  /** How long SIGTERM waits for open sessions to get their finals before closing them anyway. */
  shutdownTimeoutMs: number;
  /** Largest WebSocket message accepted (audio frame or JSON). */
  maxMessageBytes: number;
  /** Extra ports where every path speaks one protocol, so existing clients change only the host. */
  protocolPorts: { vosk?: number; funasr?: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8765,
  defaultLanguage: 'cn',
  logLevel: 'info' as LogLevel,
  voskLogLevel: -1,
  shutdownTimeoutMs: 10_000,
  maxMessageBytes: 4 * 1024 * 1024,
};

/** What flags and environment variables may set; every field optional, as typed by a user. */
export interface ConfigInput {
  host?: string;
  port?: string;
  /** `lang=DIR` entries. */
  model?: string[];
  defaultLanguage?: string;
  libvosk?: string;
  logLevel?: string;
  voskLogLevel?: string;
  shutdownTimeout?: string;
  maxMessageBytes?: string;
  /** vosk-server clients' customary port is 2700; 0 or unset: off. */
  voskPort?: string;
  /** FunASR clients' customary port is 10095; 0 or unset: off. */
  funasrPort?: string;
}

/**
 * The environment variables, documented in the README. `ASR_MODEL_<LANG>` sets a model for any
 * language code (ASR_MODEL_CN, ASR_MODEL_EN, ...).
 */
export function configInputFromEnv(env: NodeJS.ProcessEnv): ConfigInput {
  const models = Object.entries(env)
    .filter(([k, v]) => /^ASR_MODEL_[A-Z]{2,3}$/u.test(k) && v)
    .map(([k, v]) => `${k.slice('ASR_MODEL_'.length).toLowerCase()}=${v}`);
  return dropUndefined({
    host: env.ASR_HOST,
    port: env.ASR_PORT,
    model: models.length > 0 ? models : undefined,
    defaultLanguage: env.ASR_DEFAULT_LANGUAGE,
    libvosk: env.ASR_LIBVOSK,
    logLevel: env.ASR_LOG_LEVEL,
    voskLogLevel: env.ASR_VOSK_LOG_LEVEL,
    shutdownTimeout: env.ASR_SHUTDOWN_TIMEOUT_MS,
    maxMessageBytes: env.ASR_MAX_MESSAGE_BYTES,
    voskPort: env.ASR_VOSK_PORT,
    funasrPort: env.ASR_FUNASR_PORT,
  });
}

/** Flags override the environment; models given by flag replace those from the environment. */
export function resolveConfig(fromEnv: ConfigInput, fromFlags: ConfigInput): ServerConfig {
  const input: ConfigInput = { ...fromEnv, ...dropUndefined(fromFlags) };
  const problems: string[] = [];

  const port = integer(input.port, DEFAULTS.port, 'port', 0, 65535, problems);
  const models = new Map<string, string>();
  for (const spec of input.model ?? []) {
    const m = /^([^=]+)=(.+)$/u.exec(spec);
    const language = m ? normalizeLanguage(m[1]!) : '';
    if (!m || !isLanguageCode(language)) {
      problems.push(`model "${spec}": expected LANG=DIR, e.g. cn=models/vosk-model-small-cn-0.22`);
    } else if (models.has(language)) {
      problems.push(`model for "${language}" given twice`);
    } else {
      models.set(language, m[2]!);
    }
  }
  if (models.size === 0) {
    problems.push('no model configured: pass --model cn=DIR (and en=DIR), or set ASR_MODEL_CN / ASR_MODEL_EN');
  }
  const requested = input.defaultLanguage ? normalizeLanguage(input.defaultLanguage) : undefined;
  const defaultLanguage =
    requested ?? (models.has(DEFAULTS.defaultLanguage) ? DEFAULTS.defaultLanguage : ([...models.keys()][0] ?? DEFAULTS.defaultLanguage));
  if (requested && models.size > 0 && !models.has(requested)) {
    problems.push(`default language "${requested}" has no model (configured: ${[...models.keys()].join(', ')})`);
  }
  const logLevel = (input.logLevel ?? DEFAULTS.logLevel) as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(logLevel)) {
    problems.push(`log level "${logLevel}": expected debug, info, warn, error or silent`);
  }
  const config: ServerConfig = {
    host: input.host ?? DEFAULTS.host,
    port,
    models,
    defaultLanguage,
    logLevel,
    voskLogLevel: integer(input.voskLogLevel, DEFAULTS.voskLogLevel, 'libvosk log level', -1, 10, problems),
    shutdownTimeoutMs: integer(input.shutdownTimeout, DEFAULTS.shutdownTimeoutMs, 'shutdown timeout (ms)', 0, 600_000, problems),
    maxMessageBytes: integer(input.maxMessageBytes, DEFAULTS.maxMessageBytes, 'max message bytes', 1024, 256 * 1024 * 1024, problems),
    protocolPorts: {},
  };
  for (const [protocol, value] of [
    ['vosk', input.voskPort],
    ['funasr', input.funasrPort],
  ] as const) {
    const n = integer(value, 0, `${protocol} port`, 0, 65535, problems);
    if (n === 0) continue;
    if (n === port || Object.values(config.protocolPorts).includes(n))
      problems.push(`${protocol} port ${n} is already used by another listener`);
    else config.protocolPorts[protocol] = n;
  }
  if (input.libvosk) config.libvoskPath = input.libvosk;
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export const SERVER_USAGE = `Usage: asr-server [options]

  --host ADDR               listen address (ASR_HOST, default ${DEFAULTS.host})
  --port N                  listen port (ASR_PORT, default ${DEFAULTS.port})
  --model LANG=DIR          a model per language, repeatable (ASR_MODEL_CN, ASR_MODEL_EN, ...)
  --default-language LANG   language of new sessions (ASR_DEFAULT_LANGUAGE, default cn)
  --libvosk PATH            libvosk.so to load (ASR_LIBVOSK, default: the one in npm package vosk)
  --log-level LEVEL         debug|info|warn|error|silent (ASR_LOG_LEVEL, default info)
  --vosk-log-level N        libvosk verbosity, -1..10 (ASR_VOSK_LOG_LEVEL, default -1)
  --shutdown-timeout MS     SIGTERM grace for open sessions (ASR_SHUTDOWN_TIMEOUT_MS, default ${DEFAULTS.shutdownTimeoutMs})
  --max-message-bytes N     largest WebSocket message (ASR_MAX_MESSAGE_BYTES, default ${DEFAULTS.maxMessageBytes})
  --vosk-port N             also serve the vosk-server protocol on every path of this port, e.g. 2700 (ASR_VOSK_PORT, default off)
  --funasr-port N           also serve the FunASR protocol on every path of this port, e.g. 10095 (ASR_FUNASR_PORT, default off)
`;

/** Parses the server's own command line (the image's entry point). */
export function parseServerArgs(argv: string[]): ConfigInput & { help?: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      model: { type: 'string', multiple: true },
      'default-language': { type: 'string' },
      libvosk: { type: 'string' },
      'log-level': { type: 'string' },
      'vosk-log-level': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'vosk-port': { type: 'string' },
      'funasr-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return dropUndefined({
    host: values.host,
    port: values.port,
    model: values.model,
    defaultLanguage: values['default-language'],
    libvosk: values.libvosk,
    logLevel: values['log-level'],
    voskLogLevel: values['vosk-log-level'],
    shutdownTimeout: values['shutdown-timeout'],
    maxMessageBytes: values['max-message-bytes'],
    voskPort: values['vosk-port'],
    funasrPort: values['funasr-port'],
    help: values.help,
  });
}

function integer(text: string | undefined, fallback: number, what: string, min: number, max: number, problems: string[]): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${what} "${text}": expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
