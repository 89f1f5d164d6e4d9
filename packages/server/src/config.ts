import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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
  /**
   * After SIGTERM, how long open sessions may go on by themselves (new ones are refused) before
   * they get their finals and close 1012. Lets an orchestrator's rolling update end sessions softly.
   */
  sessionDrainMs: number;
  /** Largest WebSocket message accepted (audio frame or JSON). */
  maxMessageBytes: number;
  /** Extra ports where every path speaks one protocol, so existing clients change only the host. */
  protocolPorts: { vosk?: number; funasr?: number };
  limits: Limits;
  /**
   * Behind a trusted proxy (the deploy's edge), the client address is the last X-Forwarded-For
   * entry, which that proxy appended; otherwise it is the socket's peer.
   */
  trustProxy: boolean;
  access: Access;
  /** wss and https on every port of the server; plain ws and http without. */
  tls?: { cert: string; key: string };
}

/** Who may open a session. Every list empty: anyone. */
export interface Access {
  /** Bearer tokens (Authorization header or ?token=); never logged. */
  tokens: string[];
  /** Client address ranges (IPv4 and IPv6 CIDRs or addresses). */
  allowIps: string[];
  /** Browser origins (`https://app.example`, or `null` for pages opened from disk); requests without Origin pass. */
  allowOrigins: string[];
  /** Tokens /metrics requires (Authorization: Bearer or ?token=); none: /metrics is open. Probes stay open. */
  metricsTokens: string[];
}

/** What one client, or all of them, may take; over a limit a client is refused or told, never the server. */
export interface Limits {
  /** Sessions open at once; more are refused with 503 before the upgrade. */
  maxSessions: number;
  /** Sessions open at once from one client address; more are refused with 429. */
  maxSessionsPerIp: number;
  /** Largest JSON (text) message; larger ones get `message_too_large`. */
  maxJsonBytes: number;
  /** A session is closed (1008, after its final) when it has lasted this long. */
  maxSessionSeconds: number;
  /** A session that sends nothing for this long is closed (1000, after its final). */
  idleTimeoutSeconds: number;
  /** WebSocket pings this often; a peer that has not answered the previous one is cut. */
  pingIntervalSeconds: number;
  /** Audio waiting to be decoded per session; frames beyond it are dropped with `audio_backlog`. */
  maxBufferedAudioSeconds: number;
  /** Reply bytes a client has not read yet; beyond it the server closes it (1008, `slow_reader`). */
  maxSendBufferBytes: number;
  /** Commands waiting behind a running one, per session; one more is an error and close 1008. */
  maxQueuedCommands: number;
  /** Messages a second per connection (token bucket, bursts of 10 s worth); beyond, an error and close 1008. */
  maxMessagesPerSecond: number;
  /** Open sockets on all listeners, counted from the TCP accept (before any request); more are closed at once. */
  maxConnections: number;
  /** Open sockets from one peer address (not applied behind a trusted proxy, whose sockets all share one). */
  maxConnectionsPerIp: number;
  /** TLS handshake, request headers and the whole request must each be done within this; keep-alive idles 5 s at most. */
  requestTimeoutSeconds: number;
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
  sessionDrainMs: 0,
  maxMessageBytes: 1024 * 1024,
  // Safe for a small server: a 2-core box decodes about 40 real-time streams.
  limits: {
    maxSessions: 64,
    maxSessionsPerIp: 16,
    maxJsonBytes: 64 * 1024,
    maxSessionSeconds: 4 * 3600,
    idleTimeoutSeconds: 60,
    pingIntervalSeconds: 20,
    maxBufferedAudioSeconds: 20,
    maxSendBufferBytes: 1024 * 1024,
    maxQueuedCommands: 32,
    maxMessagesPerSecond: 100,
    maxConnections: 512,
    maxConnectionsPerIp: 64,
    requestTimeoutSeconds: 10,
  } satisfies Limits,
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
  sessionDrain?: string;
  maxMessageBytes?: string;
  /** vosk-server clients' customary port is 2700; 0 or unset: off. */
  voskPort?: string;
  /** FunASR clients' customary port is 10095; 0 or unset: off. */
  funasrPort?: string;
  maxSessions?: string;
  maxSessionsPerIp?: string;
  maxJsonBytes?: string;
  maxSessionSeconds?: string;
  idleTimeout?: string;
  pingInterval?: string;
  maxBufferedAudio?: string;
  maxSendBuffer?: string;
  maxQueuedCommands?: string;
  maxMessagesPerSecond?: string;
  maxConnections?: string;
  maxConnectionsPerIp?: string;
  requestTimeout?: string;
  /** "true" or "1": take client addresses from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy?: string;
  /** Comma-separated tokens (ASR_TOKENS). Prefer tokensFile: environments leak into process listings. */
  tokens?: string;
  /** A file with one token per line (# comments). */
  tokensFile?: string;
  /** A file with the token(s) /metrics requires, one per line. */
  metricsTokenFile?: string;
  allowIp?: string[];
  allowOrigin?: string[];
  tlsCert?: string;
  tlsKey?: string;
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
    sessionDrain: env.ASR_SESSION_DRAIN_MS,
    maxMessageBytes: env.ASR_MAX_MESSAGE_BYTES,
    voskPort: env.ASR_VOSK_PORT,
    funasrPort: env.ASR_FUNASR_PORT,
    maxSessions: env.ASR_MAX_SESSIONS,
    maxSessionsPerIp: env.ASR_MAX_SESSIONS_PER_IP,
    maxJsonBytes: env.ASR_MAX_JSON_BYTES,
    maxSessionSeconds: env.ASR_MAX_SESSION_SECONDS,
    idleTimeout: env.ASR_IDLE_TIMEOUT_SECONDS,
    pingInterval: env.ASR_PING_INTERVAL_SECONDS,
    maxBufferedAudio: env.ASR_MAX_BUFFERED_AUDIO_SECONDS,
    maxSendBuffer: env.ASR_MAX_SEND_BUFFER_BYTES,
    maxQueuedCommands: env.ASR_MAX_QUEUED_COMMANDS,
    maxMessagesPerSecond: env.ASR_MAX_MESSAGES_PER_SECOND,
    maxConnections: env.ASR_MAX_CONNECTIONS,
    maxConnectionsPerIp: env.ASR_MAX_CONNECTIONS_PER_IP,
    requestTimeout: env.ASR_REQUEST_TIMEOUT_SECONDS,
    trustProxy: env.ASR_TRUST_PROXY,
    tokens: env.ASR_TOKENS,
    tokensFile: env.ASR_TOKENS_FILE,
    metricsTokenFile: env.ASR_METRICS_TOKEN_FILE,
    allowIp: list(env.ASR_ALLOW_IPS),
    allowOrigin: list(env.ASR_ALLOW_ORIGINS),
    tlsCert: env.ASR_TLS_CERT,
    tlsKey: env.ASR_TLS_KEY,
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
    sessionDrainMs: integer(input.sessionDrain, DEFAULTS.sessionDrainMs, 'session drain (ms)', 0, 86_400_000, problems),
    maxMessageBytes: integer(input.maxMessageBytes, DEFAULTS.maxMessageBytes, 'max message bytes', 1024, 256 * 1024 * 1024, problems),
    protocolPorts: {},
    access: { tokens: [], allowIps: [], allowOrigins: [], metricsTokens: [] },
    trustProxy: input.trustProxy === 'true' || input.trustProxy === '1',
    limits: {
      maxSessions: integer(input.maxSessions, DEFAULTS.limits.maxSessions, 'max sessions', 1, 100_000, problems),
      maxSessionsPerIp: integer(input.maxSessionsPerIp, DEFAULTS.limits.maxSessionsPerIp, 'max sessions per IP', 1, 100_000, problems),
      maxJsonBytes: integer(input.maxJsonBytes, DEFAULTS.limits.maxJsonBytes, 'max JSON bytes', 256, 16 * 1024 * 1024, problems),
      maxSessionSeconds: integer(
        input.maxSessionSeconds,
        DEFAULTS.limits.maxSessionSeconds,
        'max session seconds',
        1,
        7 * 86_400,
        problems,
      ),
      idleTimeoutSeconds: integer(input.idleTimeout, DEFAULTS.limits.idleTimeoutSeconds, 'idle timeout (seconds)', 1, 86_400, problems),
      pingIntervalSeconds: integer(input.pingInterval, DEFAULTS.limits.pingIntervalSeconds, 'ping interval (seconds)', 1, 3600, problems),
      maxBufferedAudioSeconds: integer(
        input.maxBufferedAudio,
        DEFAULTS.limits.maxBufferedAudioSeconds,
        'max buffered audio (seconds)',
        1,
        3600,
        problems,
      ),
      maxSendBufferBytes: integer(
        input.maxSendBuffer,
        DEFAULTS.limits.maxSendBufferBytes,
        'max send buffer (bytes)',
        64 * 1024,
        1024 * 1024 * 1024,
        problems,
      ),
      maxQueuedCommands: integer(input.maxQueuedCommands, DEFAULTS.limits.maxQueuedCommands, 'max queued commands', 1, 100_000, problems),
      maxMessagesPerSecond: integer(
        input.maxMessagesPerSecond,
        DEFAULTS.limits.maxMessagesPerSecond,
        'max messages per second',
        1,
        1_000_000,
        problems,
      ),
      maxConnections: integer(input.maxConnections, DEFAULTS.limits.maxConnections, 'max connections', 1, 1_000_000, problems),
      maxConnectionsPerIp: integer(
        input.maxConnectionsPerIp,
        DEFAULTS.limits.maxConnectionsPerIp,
        'max connections per IP',
        1,
        1_000_000,
        problems,
      ),
      requestTimeoutSeconds: integer(
        input.requestTimeout,
        DEFAULTS.limits.requestTimeoutSeconds,
        'request timeout (seconds)',
        1,
        3600,
        problems,
      ),
    },
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
  config.access = {
    tokens: [...(input.tokens?.split(',') ?? []), ...readTokens(input.tokensFile, problems)].map((t) => t.trim()).filter(Boolean),
    allowIps: input.allowIp ?? [],
    allowOrigins: input.allowOrigin ?? [],
    metricsTokens: readTokens(input.metricsTokenFile, problems)
      .map((t) => t.trim())
      .filter(Boolean),
  };
  if (input.metricsTokenFile !== undefined && config.access.metricsTokens.length === 0 && problems.length === 0)
    problems.push(`the metrics token file ${input.metricsTokenFile} holds no token: write one per line`);
  for (const range of config.access.allowIps)
    if (!isAddressRange(range)) problems.push(`allowed IP "${range}": expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8`);
  if ((input.tlsCert === undefined) !== (input.tlsKey === undefined)) problems.push('TLS needs both --tls-cert and --tls-key');
  else if (input.tlsCert !== undefined && input.tlsKey !== undefined) {
    try {
      config.tls = { cert: readFileSync(input.tlsCert, 'utf8'), key: readFileSync(input.tlsKey, 'utf8') };
    } catch (err) {
      problems.push(`cannot read the TLS certificate or key: ${(err as Error).message}`);
    }
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
  --session-drain MS        after SIGTERM, open sessions may go on this long before their finals and 1012 (ASR_SESSION_DRAIN_MS, default 0)
  --shutdown-timeout MS     SIGTERM grace for open sessions (ASR_SHUTDOWN_TIMEOUT_MS, default ${DEFAULTS.shutdownTimeoutMs})
  --max-message-bytes N     largest WebSocket message (ASR_MAX_MESSAGE_BYTES, default ${DEFAULTS.maxMessageBytes})
  --vosk-port N             also serve the vosk-server protocol on every path of this port, e.g. 2700 (ASR_VOSK_PORT, default off)
  --funasr-port N           also serve the FunASR protocol on every path of this port, e.g. 10095 (ASR_FUNASR_PORT, default off)
  --max-sessions N          sessions at once, more get 503 (ASR_MAX_SESSIONS, default ${DEFAULTS.limits.maxSessions})
  --max-sessions-per-ip N   sessions at once per client address, more get 429 (ASR_MAX_SESSIONS_PER_IP, default ${DEFAULTS.limits.maxSessionsPerIp})
  --max-json-bytes N        largest JSON message (ASR_MAX_JSON_BYTES, default ${DEFAULTS.limits.maxJsonBytes})
  --max-session-seconds N   longest session (ASR_MAX_SESSION_SECONDS, default ${DEFAULTS.limits.maxSessionSeconds})
  --idle-timeout S          close sessions silent this long (ASR_IDLE_TIMEOUT_SECONDS, default ${DEFAULTS.limits.idleTimeoutSeconds})
  --ping-interval S         WebSocket ping period; no pong by the next one cuts the peer (ASR_PING_INTERVAL_SECONDS, default ${DEFAULTS.limits.pingIntervalSeconds})
  --max-buffered-audio S    audio waiting to be decoded per session (ASR_MAX_BUFFERED_AUDIO_SECONDS, default ${DEFAULTS.limits.maxBufferedAudioSeconds})
  --max-send-buffer N       reply bytes a client has not read; beyond, it is closed with 1008 (ASR_MAX_SEND_BUFFER_BYTES, default ${DEFAULTS.limits.maxSendBufferBytes})
  --max-queued-commands N   commands waiting to run per session; one more is an error and close 1008 (ASR_MAX_QUEUED_COMMANDS, default ${DEFAULTS.limits.maxQueuedCommands})
  --max-messages-per-second N  messages per connection, bursts of 10 s worth; beyond, an error and close 1008 (ASR_MAX_MESSAGES_PER_SECOND, default ${DEFAULTS.limits.maxMessagesPerSecond})
  --max-connections N       open sockets on all ports, counted before any request; more are closed (ASR_MAX_CONNECTIONS, default ${DEFAULTS.limits.maxConnections})
  --max-connections-per-ip N  open sockets per peer address, not behind a trusted proxy (ASR_MAX_CONNECTIONS_PER_IP, default ${DEFAULTS.limits.maxConnectionsPerIp})
  --request-timeout S       TLS handshake, headers and request each within this (ASR_REQUEST_TIMEOUT_SECONDS, default ${DEFAULTS.limits.requestTimeoutSeconds})
  --trust-proxy true        client address from X-Forwarded-For, only behind a proxy that sets it (ASR_TRUST_PROXY)
  --tokens-file FILE        require a token (Authorization: Bearer, or ?token=), one per line (ASR_TOKENS_FILE, or ASR_TOKENS=a,b)
  --metrics-token-file FILE /metrics requires this token (Authorization: Bearer, or ?token=); /healthz and /readyz stay open (ASR_METRICS_TOKEN_FILE)
  --allow-ip CIDR           client addresses allowed, repeatable (ASR_ALLOW_IPS=a,b; default everyone)
  --allow-origin ORIGIN     browser origins allowed, repeatable; "null" for pages opened from disk (ASR_ALLOW_ORIGINS)
  --tls-cert FILE           certificate (PEM): wss and https on every port (ASR_TLS_CERT)
  --tls-key FILE            its private key (PEM) (ASR_TLS_KEY)
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
      'session-drain': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'vosk-port': { type: 'string' },
      'funasr-port': { type: 'string' },
      'max-sessions': { type: 'string' },
      'max-sessions-per-ip': { type: 'string' },
      'max-json-bytes': { type: 'string' },
      'max-session-seconds': { type: 'string' },
      'idle-timeout': { type: 'string' },
      'ping-interval': { type: 'string' },
      'max-buffered-audio': { type: 'string' },
      'max-send-buffer': { type: 'string' },
      'max-queued-commands': { type: 'string' },
      'max-messages-per-second': { type: 'string' },
      'max-connections': { type: 'string' },
      'max-connections-per-ip': { type: 'string' },
      'request-timeout': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'tokens-file': { type: 'string' },
      'metrics-token-file': { type: 'string' },
      'allow-ip': { type: 'string', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
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
    sessionDrain: values['session-drain'],
    maxMessageBytes: values['max-message-bytes'],
    voskPort: values['vosk-port'],
    funasrPort: values['funasr-port'],
    maxSessions: values['max-sessions'],
    maxSessionsPerIp: values['max-sessions-per-ip'],
    maxJsonBytes: values['max-json-bytes'],
    maxSessionSeconds: values['max-session-seconds'],
    idleTimeout: values['idle-timeout'],
    pingInterval: values['ping-interval'],
    maxBufferedAudio: values['max-buffered-audio'],
    maxSendBuffer: values['max-send-buffer'],
    maxQueuedCommands: values['max-queued-commands'],
    maxMessagesPerSecond: values['max-messages-per-second'],
    maxConnections: values['max-connections'],
    maxConnectionsPerIp: values['max-connections-per-ip'],
    requestTimeout: values['request-timeout'],
    trustProxy: values['trust-proxy'],
    tokensFile: values['tokens-file'],
    metricsTokenFile: values['metrics-token-file'],
    allowIp: values['allow-ip'],
    allowOrigin: values['allow-origin'],
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
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

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function readTokens(path: string | undefined, problems: string[]): string[] {
  if (path === undefined) return [];
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => !line.trim().startsWith('#'));
  } catch (err) {
    problems.push(`cannot read the tokens file: ${(err as Error).message}`);
    return [];
  }
}

/** An IPv4 or IPv6 address, or a CIDR range of either. */
export function isAddressRange(range: string): boolean {
  const [address = '', bits, ...rest] = range.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
