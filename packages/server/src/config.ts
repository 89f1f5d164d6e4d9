import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AUTO_LANGUAGE, normalizeLanguage } from './languages.js';
import type { LogLevel } from './logger.js';
import {
  type DeprecatedEnv,
  type OptionInput,
  inputFromArgs,
  inputFromEnv,
  parseArgsOptions,
  resolveOptions,
  usageLines,
} from './options/option-table.js';
import { SERVER_OPTIONS } from './options/server-options.js';

export interface ServerConfig {
  host: string;
  port: number;
  /** `[language, directory]`, several per language allowed: a language's first model is its default. */
  models: Array<[language: string, dir: string]>;
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
  /** What vosk-server clients that send no config get, wherever they connect. */
  voskDefaults: { sampleRate: number; words: boolean };
  limits: Limits;
  /**
   * Behind a trusted proxy (the deploy's edge), the client address is the last X-Forwarded-For
   * entry, which that proxy appended; otherwise it is the socket's peer.
   */
  trustProxy: boolean;
  access: Access;
  /** wss and https on every port of the server; plain ws and http without. */
  tls?: { cert: string; key: string };
  /** Environment variables read under an old name; the server logs each at start. */
  deprecatedEnv?: DeprecatedEnv[];
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

/** What flags and environment variables may set, by option (SERVER_OPTIONS), as typed by a user. */
export type ConfigInput = OptionInput<typeof SERVER_OPTIONS.options>;

/**
 * The ASR_* environment variables (SERVER_OPTIONS). `ASR_MODEL_<LANG>` sets the models of any
 * language code (ASR_MODEL_CN, ASR_MODEL_EN, ...): a directory, or several comma-separated (the
 * first is the language's default). Variables read under an old name are added to `deprecated`.
 */
export function configInputFromEnv(env: NodeJS.ProcessEnv, deprecated: DeprecatedEnv[] = []): ConfigInput {
  const models = Object.entries(env)
    .filter(([k, v]) => /^ASR_MODEL_[A-Z]{2,3}$/u.test(k) && v)
    .flatMap(([k, v]) =>
      v!
        .split(',')
        .map((dir) => dir.trim())
        .filter(Boolean)
        .map((dir) => `${k.slice('ASR_MODEL_'.length).toLowerCase()}=${dir}`),
    );
  return { ...inputFromEnv(SERVER_OPTIONS, env, deprecated), ...(models.length > 0 && { model: models }) };
}

/** Flags override the environment; models given by flag replace those from the environment. */
export function resolveConfig(fromEnv: ConfigInput, fromFlags: ConfigInput, deprecatedEnv: DeprecatedEnv[] = []): ServerConfig {
  const problems: string[] = [];
  const o = resolveOptions(SERVER_OPTIONS, [fromEnv, fromFlags], problems);

  const models: Array<[string, string]> = [];
  for (const { language, model } of o.model) {
    if (models.some(([, dir]) => dir === model)) problems.push(`model directory ${model} given twice`);
    else models.push([language, model]);
  }
  const languages = [...new Set(models.map(([language]) => language))];
  if (models.length === 0) {
    problems.push('no model configured: pass --model cn=DIR (and en=DIR), or set ASR_MODEL_CN / ASR_MODEL_EN');
  }
  const requested = o.defaultLanguage ? normalizeLanguage(o.defaultLanguage) : undefined;
  const defaultLanguage = requested ?? (languages.includes('cn') ? 'cn' : (languages[0] ?? 'cn'));
  if (requested && requested !== AUTO_LANGUAGE && languages.length > 0 && !languages.includes(requested)) {
    problems.push(`default language "${requested}" has no model (configured: ${languages.join(', ')})`);
  }
  const config: ServerConfig = {
    host: o.host,
    port: o.port,
    models,
    defaultLanguage,
    logLevel: o.logLevel,
    voskLogLevel: o.voskLogLevel,
    shutdownTimeoutMs: o.shutdownTimeout,
    sessionDrainMs: o.sessionDrain,
    maxMessageBytes: o.maxMessageBytes,
    protocolPorts: {},
    voskDefaults: { sampleRate: o.voskSampleRate, words: o.voskWords },
    trustProxy: o.trustProxy,
    limits: {
      maxSessions: o.maxSessions,
      maxSessionsPerIp: o.maxSessionsPerIp,
      maxJsonBytes: o.maxJsonBytes,
      maxSessionSeconds: o.maxSessionSeconds,
      idleTimeoutSeconds: o.idleTimeout,
      pingIntervalSeconds: o.pingInterval,
      maxBufferedAudioSeconds: o.maxBufferedAudio,
      maxSendBufferBytes: o.maxSendBuffer,
      maxQueuedCommands: o.maxQueuedCommands,
      maxMessagesPerSecond: o.maxMessagesPerSecond,
      maxConnections: o.maxConnections,
      maxConnectionsPerIp: o.maxConnectionsPerIp,
      requestTimeoutSeconds: o.requestTimeout,
    },
    access: {
      tokens: [...(o.tokens?.split(',') ?? []), ...readTokens(o.tokensFile, problems)].map((t) => t.trim()).filter(Boolean),
      allowIps: o.allowIp,
      allowOrigins: o.allowOrigin,
      metricsTokens: readTokens(o.metricsTokenFile, problems)
        .map((t) => t.trim())
        .filter(Boolean),
    },
    ...(deprecatedEnv.length > 0 && { deprecatedEnv }),
  };
  for (const [protocol, n] of [
    ['vosk', o.voskPort],
    ['funasr', o.funasrPort],
  ] as const) {
    if (n === 0) continue;
    if (n === o.port || Object.values(config.protocolPorts).includes(n))
      problems.push(`${protocol} port ${n} is already used by another listener`);
    else config.protocolPorts[protocol] = n;
  }
  if (o.metricsTokenFile !== undefined && config.access.metricsTokens.length === 0 && problems.length === 0)
    problems.push(`the metrics token file ${o.metricsTokenFile} holds no token: write one per line`);
  if (o.tlsCert !== undefined && o.tlsKey !== undefined) {
    try {
      config.tls = { cert: readFileSync(o.tlsCert, 'utf8'), key: readFileSync(o.tlsKey, 'utf8') };
    } catch (err) {
      problems.push(`cannot read the TLS certificate or key: ${(err as Error).message}`);
    }
  }
  if (o.libvosk) config.libvoskPath = o.libvosk;
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

export const SERVER_USAGE = `Usage: asr-server [options]

${usageLines(SERVER_OPTIONS, [['-h, --help', 'this text']])}
Environment: ASR_MODEL_CN, ASR_MODEL_EN, ... (any ASR_MODEL_<LANG>; DIR or DIR,DIR); ASR_TOKENS=a,b as --tokens-file.
Flags override the environment.
`;

/** Parses the server's own command line (the image's entry point). */
export function parseServerArgs(argv: string[]): ConfigInput & { help?: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { ...parseArgsOptions(SERVER_OPTIONS), help: { type: 'boolean', short: 'h' } },
  });
  return { ...inputFromArgs(SERVER_OPTIONS, values), ...(values.help === true && { help: true }) };
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
