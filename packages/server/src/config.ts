import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { describeModelProblems } from './engine/model-directory.js';
import {
  type DeprecatedEnv,
  type IgnoredEnv,
  type OptionInput,
  inputFromArgs,
  inputFromEnv,
  ignoredEnv,
  resolveOptions,
  splitList,
  usageLines,
} from './options/option-table.js';
import { SERVER_OPTIONS } from './options/server-options.js';
import { defaultLanguageFor, protocolPortsFor } from './options/shared-rules.js';

/** The server's settings, as resolveConfig derives them from SERVER_OPTIONS. */
export type ServerConfig = ReturnType<typeof resolveConfig>;
/** Who may open a session. Every list empty: anyone. */
export type Access = ServerConfig['access'];
/** What one client, or all of them, may take; over a limit a client is refused or told, never the server. */
export type Limits = ServerConfig['limits'];

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
export function configInputFromEnv(env: NodeJS.ProcessEnv, deprecated: DeprecatedEnv[] = [], problems?: string[]): ConfigInput {
  const models = Object.entries(env)
    .filter(([k, v]) => /^ASR_MODEL_[A-Z]{2,3}$/u.test(k) && v)
    .flatMap(([k, v]) => splitList(v!).map((dir) => `${k.slice('ASR_MODEL_'.length).toLowerCase()}=${dir}`));
  return { ...inputFromEnv(SERVER_OPTIONS, env, deprecated, problems), ...(models.length > 0 && { model: models }) };
}

/**
 * The configuration from ASR_* variables and flags; variables read under an old name are kept in
 * it for the log. A variable's bad value is told naming the variable.
 */
export function configFrom(env: NodeJS.ProcessEnv, flags: ConfigInput): ServerConfig {
  const deprecated: DeprecatedEnv[] = [];
  const problems: string[] = [];
  const fromEnv = configInputFromEnv(env, deprecated, problems);
  problems.push(...missingModelDirectories(fromEnv, flags));
  return resolveConfig(fromEnv, flags, { deprecated, problems, ignored: ignoredEnv(SERVER_OPTIONS, env) });
}

/** What reading the environment found besides the settings: the server logs the notices at start. */
export interface EnvReading {
  /** Variables read (or ignored) under an old name. */
  deprecated?: DeprecatedEnv[];
  /** Bad values, each naming its variable: told with the configuration's other problems. */
  problems?: string[];
  /** Variables surely meant for the server that it does not read (ASR_IDLE_TIMOUT). */
  ignored?: IgnoredEnv[];
}

/** Flags override the environment; models given by flag replace those from the environment. */
export function resolveConfig(fromEnv: ConfigInput, fromFlags: ConfigInput, reading: EnvReading = {}) {
  const { deprecated: deprecatedEnv = [], ignored = [] } = reading;
  const problems = [...(reading.problems ?? [])];
  const o = resolveOptions(SERVER_OPTIONS, [fromEnv, fromFlags], problems);

  /** `[language, directory]`, several per language allowed: a language's first model is its default. */
  const models: Array<[language: string, dir: string]> = [];
  for (const { language, model } of o.model) {
    if (models.some(([, dir]) => dir === model)) problems.push(`model directory ${model} given twice`);
    else models.push([language, model]);
  }
  const languages = [...new Set(models.map(([language]) => language))];
  if (models.length === 0) {
    problems.push('no model configured: pass --model cn=DIR (and en=DIR), or set ASR_MODEL_CN / ASR_MODEL_EN');
  }
  const defaultLanguage = defaultLanguageFor(o.defaultLanguage, languages, `configured: ${languages.join(', ')}`, problems);
  // Asked for tokens but given none would let every client in: refused, never open by mistake.
  const fileTokens = readTokens(o.tokensFile, problems, 'tokens file', 'which would let every client in');
  if (o.tokens !== undefined && splitList(o.tokens).length === 0)
    problems.push('ASR_TOKENS holds no token, which would let every client in: set it to a,b or unset it');
  const tokens = [...splitList(o.tokens ?? ''), ...fileTokens];
  const metricsTokens = readTokens(o.metricsTokenFile, problems, 'metrics token file', 'so /metrics would refuse every request');
  /** Extra ports where every path speaks one protocol, so existing clients change only the host. */
  const protocolPorts = protocolPortsFor(o.port, { vosk: o.voskPort, funasr: o.funasrPort }, 'another listener', problems);
  /** wss and https on every port of the server; plain ws and http without. */
  const tls = o.tlsCert !== undefined && o.tlsKey !== undefined ? readTls(o.tlsCert, o.tlsKey, problems) : undefined;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    host: o.host,
    port: o.port,
    models,
    defaultLanguage,
    ...(o.libvosk ? { libvoskPath: o.libvosk } : {}),
    logLevel: o.logLevel,
    voskLogLevel: o.voskLogLevel,
    shutdownTimeoutMs: o.shutdownTimeout,
    sessionDrainMs: o.sessionDrain,
    maxMessageBytes: o.maxMessageBytes,
    protocolPorts,
    /** What vosk-server clients that send no config get, wherever they connect. */
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
    /** Bearer tokens are never logged; requests without Origin pass the origin check. */
    access: { tokens, allowIps: o.allowIp, allowOrigins: o.allowOrigin, metricsTokens },
    ...(tls ? { tls } : {}),
    /** Environment variables read under an old name; the server logs each at start. */
    ...(deprecatedEnv.length > 0 ? { deprecatedEnv } : {}),
    /** Variables surely meant for the server that it does not read; it logs each at start. */
    ...(ignored.length > 0 ? { ignoredEnv: ignored } : {}),
  };
}

export const SERVER_USAGE = `Usage: asr-server [options]

${usageLines(SERVER_OPTIONS, [['-h, --help', 'this text']])}
Environment: ASR_MODEL_CN, ASR_MODEL_EN, ... (any ASR_MODEL_<LANG>; DIR or DIR,DIR); ASR_TOKENS=a,b as --tokens-file.
Flags override the environment.
`;

/** Parses the server's own command line (the image's entry point). */
export const parseServerArgs = (argv: string[]): ConfigInput & { help?: true } => inputFromArgs(SERVER_OPTIONS, argv);

/** What the server would refuse in a tokens file at its start (unreadable, no token): asrctl deploy checks before it changes anything. */
export function tokensFileProblems(path: string): string[] {
  const problems: string[] = [];
  readTokens(path, problems, 'tokens file', 'which would let every client in');
  return problems;
}

/** What would be refused in a TLS certificate and key (unreadable, not PEM, not a pair): asrctl deploy checks before it changes anything. */
export function tlsPairProblems(certFile: string, keyFile: string): string[] {
  const problems: string[] = [];
  readTls(certFile, keyFile, problems);
  return problems;
}

/** A tokens file's tokens: one per line, # comments. A file with none is a problem, saying `whyNeeded`. */
function readTokens(path: string | undefined, problems: string[], kind: string, whyNeeded: string): string[] {
  if (path === undefined) return [];
  let tokens: string[];
  try {
    tokens = readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
  } catch (err) {
    problems.push(`cannot read the ${kind}: ${(err as Error).message}`);
    return [];
  }
  if (tokens.length === 0) problems.push(`the ${kind} ${path} holds no token, ${whyNeeded}: write one per line`);
  return tokens;
}

/**
 * The models' directories that do not exist (or are files), each naming the flag or variable that
 * gave it: told with the other problems, not once the server listens. Flags' models replace the
 * environment's. A directory's contents are libvosk's to judge when it loads.
 */
function missingModelDirectories(fromEnv: ConfigInput, flags: ConfigInput): string[] {
  const byFlag = (flags.model?.length ?? 0) > 0;
  return ((byFlag ? flags.model : fromEnv.model) ?? []).flatMap((text) => {
    const split = text.indexOf('=');
    const dir = text.slice(split + 1);
    if (split <= 0 || dir === '' || statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
    const where = byFlag ? `--model ${text}` : `ASR_MODEL_${text.slice(0, split).toUpperCase()}`;
    return [`${where}: ${describeModelProblems(dir, 'not_a_directory')}`];
  });
}

/**
 * The certificate and key as the server will use them; each file that is unreadable, not PEM, or
 * a key that is not the certificate's is a problem naming the file (OpenSSL would say only
 * "PEM routines::no start line" once the server starts).
 */
function readTls(certFile: string, keyFile: string, problems: string[]): { cert: string; key: string } | undefined {
  const read = (file: string, what: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const cert = read(certFile, 'certificate');
  const key = read(keyFile, 'key');
  if (cert === undefined || key === undefined) return undefined;
  const count = problems.length;
  let certificate: X509Certificate | undefined;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    problems.push(`the TLS certificate ${certFile} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  try {
    const privateKey = createPrivateKey(key);
    if (certificate && !certificate.checkPrivateKey(privateKey))
      problems.push(`the TLS key ${keyFile} is not the private key of the certificate ${certFile}`);
  } catch {
    problems.push(`the TLS key ${keyFile} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`);
  }
  if (problems.length > count) return undefined;
  try {
    // What OpenSSL itself refuses besides: a key too weak for its security level, say.
    createSecureContext({ cert, key });
  } catch (err) {
    problems.push(`the TLS certificate ${certFile} and key ${keyFile} are refused: ${(err as Error).message}`);
    return undefined;
  }
  return { cert, key };
}
