import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_MODELS, catalogModel } from '../models/model-catalog.js';
import { isIP } from 'node:net';
import { isAddressRange } from '@asrctl/server';
import { PROJECT_NAME } from './deployment-names.js';

export type Strategy = 'blue-green' | 'recreate';
export type Target = 'docker' | 'swarm';
/** How a Swarm edge publishes: on each node's own port (works everywhere), or through the routing mesh (needs IPVS). */
export type PublishMode = 'host' | 'ingress';
/** The most app tasks the Swarm edge can route to (its server slots); one is kept for a rolling update's extra task. */
export const MAX_REPLICAS = 63;

export interface ModelMount {
  language: string;
  /** Absolute directory on the Docker host, mounted read-only at /models/<language>. */
  hostDir: string;
  /** Set when the model is a catalog model: the prefetch phase installs it into the models directory. */
  catalogName?: string;
}

export interface DeployConfig {
  project: string;
  /** docker: containers on this engine; swarm: services on the Swarm this engine manages. */
  target: Target;
  /** Swarm: app tasks; undefined keeps the running count (2 for a new deployment). */
  replicas?: number;
  /** Swarm: registry the images are pushed to so every node can pull them (HOST[:PORT][/PATH]). */
  registry?: string;
  publishMode: PublishMode;
  /** Swarm: placement constraints for app tasks, e.g. node.labels.asr-models==yes. */
  constraints: string[];
  port: number;
  /**
   * Host ports for vosk-server and FunASR clients (every path speaks that protocol); undefined:
   * not published. Their clients also reach the main port at /vosk and /funasr.
   */
  protocolPorts: { vosk?: number; funasr?: number };
  /** Host address the public ports are published on. */
  bindAddress: string;
  models: ModelMount[];
  /** Where catalog models and models named without a path live (models pull installs there). */
  modelsDir: string;
  /** Base URL serving catalog zips instead of alphacephei.com (CDN, air-gapped mirror). */
  mirror?: string;
  defaultLanguage: string;
  baseImage: string;
  edgeBaseImage: string;
  strategy: Strategy;
  /** How long an old app keeps its open sessions after the switch before SIGTERM closes them. */
  drainTimeoutSeconds: number;
  memoryBytes?: number;
  cpus?: number;
  /** Docker's --gpus value: "all", a count, or "device=0,1". */
  gpus?: string;
  tls?: { certPath: string; keyPath: string };
  /** Client CIDRs allowed at the edge; empty allows everyone. */
  allow: string[];
  verifyWav?: string;
  verifyText?: string;
  /** Tokens clients must present (one per line); mounted read-only into the app, never in the image. */
  tokensFile?: string;
}

/** What a config file, the environment or flags may set; strings as a user types them. */
export interface DeployInput {
  project?: string;
  target?: string;
  replicas?: string;
  registry?: string;
  publishMode?: string;
  constraint?: string[];
  port?: string;
  voskPort?: string;
  funasrPort?: string;
  bind?: string;
  model?: string[];
  modelsDir?: string;
  mirror?: string;
  defaultLanguage?: string;
  baseImage?: string;
  edgeBaseImage?: string;
  strategy?: string;
  drainTimeout?: string;
  memory?: string;
  cpus?: string;
  gpus?: string;
  tlsCert?: string;
  tlsKey?: string;
  allow?: string[];
  verifyWav?: string;
  verifyText?: string;
  tokensFile?: string;
}

export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid deploy configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export const DEPLOY_DEFAULTS = {
  project: 'asrctl',
  port: 8765,
  voskPort: 2700,
  funasrPort: 10095,
  bind: '0.0.0.0',
  models: Object.entries(DEFAULT_MODELS).map(([language, name]) => `${language}=${name}`),
  modelsDir: 'models',
  defaultLanguage: 'cn',
  baseImage: 'node:20-bookworm-slim',
  edgeBaseImage: 'debian:bookworm-slim',
  strategy: 'blue-green' as Strategy,
  drainTimeoutSeconds: 30,
};

/** ASRCTL_* variables; lists are comma-separated. */
export function deployInputFromEnv(env: NodeJS.ProcessEnv): DeployInput {
  const list = (v: string | undefined): string[] | undefined =>
    v
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return dropUndefined({
    project: env.ASRCTL_PROJECT,
    target: env.ASRCTL_TARGET,
    replicas: env.ASRCTL_REPLICAS,
    registry: env.ASRCTL_REGISTRY,
    publishMode: env.ASRCTL_PUBLISH_MODE,
    constraint: list(env.ASRCTL_CONSTRAINTS),
    port: env.ASRCTL_PORT,
    voskPort: env.ASRCTL_VOSK_PORT,
    funasrPort: env.ASRCTL_FUNASR_PORT,
    bind: env.ASRCTL_BIND,
    model: list(env.ASRCTL_MODELS),
    modelsDir: env.ASRCTL_MODELS_DIR,
    mirror: env.ASR_MODEL_MIRROR,
    defaultLanguage: env.ASRCTL_DEFAULT_LANGUAGE,
    baseImage: env.ASRCTL_BASE_IMAGE,
    edgeBaseImage: env.ASRCTL_EDGE_BASE_IMAGE,
    strategy: env.ASRCTL_STRATEGY,
    drainTimeout: env.ASRCTL_DRAIN_TIMEOUT,
    memory: env.ASRCTL_MEMORY,
    cpus: env.ASRCTL_CPUS,
    gpus: env.ASRCTL_GPUS,
    tlsCert: env.ASRCTL_TLS_CERT,
    tlsKey: env.ASRCTL_TLS_KEY,
    allow: list(env.ASRCTL_ALLOW),
    tokensFile: env.ASRCTL_TOKENS_FILE,
  });
}

/** A JSON config file with DeployInput's keys (numbers may be numbers). */
export function deployInputFromFile(path: string): DeployInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DeployConfigError([`cannot read config file ${path}: ${(err as Error).message}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new DeployConfigError([`${path}: expected a JSON object`]);
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) input[key] = Array.isArray(value) ? value.map(String) : String(value);
  return input as DeployInput;
}

/**
 * Later sources override earlier ones (file, then environment, then flags). Relative paths are
 * resolved against `cwd`.
 */
export function resolveDeployConfig(sources: DeployInput[], cwd: string): DeployConfig {
  const input: DeployInput = Object.assign({}, ...sources.map(dropUndefined)) as DeployInput;
  const problems: string[] = [];
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));

  const project = input.project ?? DEPLOY_DEFAULTS.project;
  if (!PROJECT_NAME.test(project)) problems.push(`project "${project}": use lower-case letters, digits, - and _ (at most 41 characters)`);
  const port = integer(input.port, DEPLOY_DEFAULTS.port, 'port', 1, 65535, problems);
  const protocolPorts: DeployConfig['protocolPorts'] = {};
  for (const [protocol, value, fallback] of [
    ['vosk', input.voskPort, DEPLOY_DEFAULTS.voskPort],
    ['funasr', input.funasrPort, DEPLOY_DEFAULTS.funasrPort],
  ] as const) {
    const n = integer(value, fallback, `${protocol} port (0: off)`, 0, 65535, problems);
    if (n === 0) continue;
    if (n === port || Object.values(protocolPorts).includes(n))
      problems.push(`${protocol} port ${n} is already used by another of this deployment's ports`);
    else protocolPorts[protocol] = n;
  }
  const bindAddress = input.bind ?? DEPLOY_DEFAULTS.bind;
  if (isIP(bindAddress) === 0) problems.push(`bind "${bindAddress}": expected an IP address such as 0.0.0.0 or 127.0.0.1`);

  const modelsDir = path(input.modelsDir ?? DEPLOY_DEFAULTS.modelsDir);
  const models: ModelMount[] = [];
  for (const spec of input.model ?? DEPLOY_DEFAULTS.models) {
    const m = /^([a-z]{2,3})=(.+)$/u.exec(spec);
    if (!m) {
      problems.push(`model "${spec}": expected LANG=NAME or LANG=DIR, e.g. en=vosk-model-small-en-us-0.15 or en=/srv/models/en`);
      continue;
    }
    const language = m[1] === 'zh' ? 'cn' : m[1]!;
    if (models.some((x) => x.language === language)) problems.push(`model: ${language} is given twice`);
    // A bare name is a model in the models directory (a catalog one is installed there if missing).
    const value = m[2]!;
    const bareName = !value.includes('/') && !value.startsWith('.');
    const catalogName = bareName && catalogModel(value) ? value : undefined;
    models.push({ language, hostDir: bareName ? join(modelsDir, value) : path(value), ...(catalogName && { catalogName }) });
  }
  const defaultLanguage =
    input.defaultLanguage === 'zh'
      ? 'cn'
      : (input.defaultLanguage ??
        (models.some((x) => x.language === 'cn') ? 'cn' : (models[0]?.language ?? DEPLOY_DEFAULTS.defaultLanguage)));
  if (models.length > 0 && !models.some((x) => x.language === defaultLanguage))
    problems.push(`default language "${defaultLanguage}" has no model (models: ${models.map((x) => x.language).join(', ')})`);

  const strategy = input.strategy ?? DEPLOY_DEFAULTS.strategy;
  if (strategy !== 'blue-green' && strategy !== 'recreate') problems.push(`strategy "${strategy}": expected blue-green or recreate`);
  const drainTimeoutSeconds = integer(
    input.drainTimeout,
    DEPLOY_DEFAULTS.drainTimeoutSeconds,
    'drain timeout (seconds)',
    0,
    86_400,
    problems,
  );
  const memoryBytes = input.memory === undefined ? undefined : byteSize(input.memory, problems);
  const cpus = input.cpus === undefined ? undefined : Number(input.cpus);
  if (cpus !== undefined && !(cpus > 0)) problems.push(`cpus "${input.cpus}": expected a positive number such as 2 or 1.5`);
  if (input.gpus !== undefined && !/^(all|\d+|device=[\w,-]+)$/u.test(input.gpus))
    problems.push(`gpus "${input.gpus}": expected all, a count, or device=0,1`);

  if ((input.tlsCert === undefined) !== (input.tlsKey === undefined)) problems.push('TLS needs both --tls-cert and --tls-key');
  const allow = input.allow ?? [];
  for (const cidr of allow)
    if (!isAddressRange(cidr)) problems.push(`allow "${cidr}": expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8`);

  const target = input.target ?? 'docker';
  if (target !== 'docker' && target !== 'swarm') problems.push(`target "${target}": expected docker or swarm`);
  const replicas = input.replicas === undefined ? undefined : integer(input.replicas, 2, 'replicas', 1, MAX_REPLICAS, problems);
  const publishMode = input.publishMode ?? 'host';
  if (publishMode !== 'host' && publishMode !== 'ingress') problems.push(`publish mode "${publishMode}": expected host or ingress`);
  if (input.registry !== undefined && !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/iu.test(input.registry))
    problems.push(`registry "${input.registry}": expected HOST[:PORT][/PATH], e.g. registry.example.com:5000/asr`);
  const constraints = input.constraint ?? [];
  for (const c of constraints)
    if (!/^[\w.-]+ *(==|!=) *\S+$/u.test(c))
      problems.push(`constraint "${c}": expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.asr-models==yes`);
  if (target === 'swarm') {
    if (input.strategy !== undefined)
      problems.push('--strategy applies to --target docker; on Swarm every deploy is a rolling update (start-first)');
    if (bindAddress !== DEPLOY_DEFAULTS.bind)
      problems.push('--bind applies to --target docker; Swarm publishes on every address of a node (limit clients with --allow)');
    if (input.gpus !== undefined) problems.push('--gpus applies to --target docker; on Swarm, give GPUs as node generic resources');
  } else {
    for (const [flag, value] of [
      ['--replicas', input.replicas],
      ['--registry', input.registry],
      ['--publish-mode', input.publishMode],
      ['--constraint', input.constraint],
    ] as const)
      if (value !== undefined) problems.push(`${flag} applies to --target swarm`);
  }

  if (problems.length > 0) throw new DeployConfigError(problems);
  return {
    project,
    target: target as Target,
    ...(replicas !== undefined && { replicas }),
    ...(input.registry !== undefined && { registry: input.registry.replace(/\/+$/u, '') }),
    publishMode: publishMode as PublishMode,
    constraints,
    port,
    protocolPorts,
    bindAddress,
    models,
    modelsDir,
    ...(input.mirror !== undefined && { mirror: input.mirror }),
    defaultLanguage,
    baseImage: input.baseImage ?? DEPLOY_DEFAULTS.baseImage,
    edgeBaseImage: input.edgeBaseImage ?? DEPLOY_DEFAULTS.edgeBaseImage,
    strategy: strategy as Strategy,
    drainTimeoutSeconds,
    ...(memoryBytes !== undefined && { memoryBytes }),
    ...(cpus !== undefined && { cpus }),
    ...(input.gpus !== undefined && { gpus: input.gpus }),
    ...(input.tlsCert !== undefined &&
      input.tlsKey !== undefined && { tls: { certPath: path(input.tlsCert), keyPath: path(input.tlsKey) } }),
    allow,
    ...(input.verifyWav !== undefined && { verifyWav: path(input.verifyWav) }),
    ...(input.verifyText !== undefined && { verifyText: input.verifyText }),
    ...(input.tokensFile !== undefined && { tokensFile: path(input.tokensFile) }),
  };
}

function integer(value: string | undefined, fallback: number, what: string, min: number, max: number, problems: string[]): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${what} "${value}": expected a whole number from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

function byteSize(value: string, problems: string[]): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/iu.exec(value.trim());
  if (!m) {
    problems.push(`memory "${value}": expected a size such as 2g or 512m`);
    return undefined;
  }
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
