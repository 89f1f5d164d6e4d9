import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  type DeprecatedEnv,
  type OptionInput,
  type OptionSpec,
  flagOf,
  givenValue,
  inputFromEnv,
  defaultLanguageFor,
  protocolPortsFor,
  resolveOptions,
  valuesParse,
} from '@asrctl/server';
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { catalogModel } from '../models/model-catalog.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { CliError } from '../cli-error.js';
import { otherTargetsSettings, targetNamed } from '../targets/index.js';
import { type ModelMount, modelName } from './model-mount.js';

/** What a deployment runs, as resolveDeployConfig derives it from DEPLOY_OPTIONS. */
export type DeployConfig = ReturnType<typeof resolveDeployConfig>;
export type Strategy = DeployConfig['strategy'];
export type Target = DeployConfig['target'];
/** How a Swarm edge publishes: on each node's own port (works everywhere), or through the routing mesh (needs IPVS). */
export type PublishMode = DeployConfig['publishMode'];

/** What a config file, the environment or flags may set (DEPLOY_OPTIONS); strings as a user types them. */
export type DeployInput = OptionInput<typeof DEPLOY_OPTIONS.options>;

/** Every problem of a deploy configuration at once; exit code 2 (bad usage). */
export class DeployConfigError extends CliError {
  override readonly name = 'DeployConfigError';
  constructor(readonly problems: string[]) {
    super('invalid_deploy_config', `invalid deploy configuration:\n  - ${problems.join('\n  - ')}`, { exitCode: 2 });
  }
}

/**
 * ASRCTL_* variables (DEPLOY_OPTIONS); lists are comma-separated. Variables read under an old name
 * are added to `deprecated`; with `problems`, a bad value is left out and told there, naming its variable.
 */
export function deployInputFromEnv(env: NodeJS.ProcessEnv, deprecated: DeprecatedEnv[] = [], problems?: string[]): DeployInput {
  return inputFromEnv(DEPLOY_OPTIONS, env, deprecated, problems);
}

const SPECS: Readonly<Record<string, OptionSpec>> = DEPLOY_OPTIONS.options;
const SETTING_KEYS = Object.keys(SPECS);
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string or a number' });
const list = z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(scalar));
/** A config file: DeployInput's keys, numbers may be numbers, a list may be one value; no other key. */
const CONFIG_FILE = z.strictObject(
  Object.fromEntries(Object.entries(SPECS).map(([key, spec]) => [key, (spec.multiple ? list : scalar).optional()])),
);

/**
 * A JSON config file with DeployInput's keys; an unknown key is refused, naming the nearest known
 * one. `keys`: the only settings read (render); the file's others are another command's.
 */
export function deployInputFromFile(path: string, keys?: ReadonlyArray<keyof DeployInput>): DeployInput {
  let text: string;
  try {
    // Editors on Windows may start the file with a byte order mark, which JSON.parse refuses.
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/u, '');
  } catch (err) {
    throw new DeployConfigError([`cannot read config file ${path}: ${(err as Error).message}`]);
  }
  if (text.trim() === '') throw new DeployConfigError([`${path} is empty: write a JSON object of settings, e.g. {"port": 8765}`]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DeployConfigError([`${path} is not valid JSON: ${(err as Error).message}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new DeployConfigError([`${path}: expected a JSON object`]);
  const result = CONFIG_FILE.safeParse(parsed);
  if (!result.success)
    throw new DeployConfigError(
      result.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => `${path}: unknown setting "${key}"${suggestion(key)}`)
          : [`${path}: "${issue.path.join('.')}": ${issue.message}`],
      ),
    );
  const input: Record<string, string | string[]> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(result.data)) {
    if (value === undefined || (keys && !keys.includes(key as keyof DeployInput))) continue;
    input[key] = Array.isArray(value) ? value.map(String) : String(value);
    valuesParse(DEPLOY_OPTIONS, key, input[key], problems, path);
  }
  if (problems.length > 0) throw new DeployConfigError(problems);
  return input as DeployInput;
}

function suggestion(key: string): string {
  const nearest = closest(key, SETTING_KEYS);
  return distance(key, nearest) <= Math.max(2, Math.floor(key.length / 3))
    ? ` (did you mean "${nearest}"?)`
    : ` (settings: ${SETTING_KEYS.join(', ')})`;
}

/**
 * Later sources override earlier ones (file, then environment, then flags). Relative paths are
 * resolved against `cwd`.
 */
export function resolveDeployConfig(sources: DeployInput[], cwd: string) {
  const problems: string[] = [];
  const o = resolveOptions(DEPLOY_OPTIONS, sources, problems);
  const given = (key: keyof DeployInput): boolean => givenValue(sources, key) !== undefined;
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));

  /**
   * Host ports for vosk-server and FunASR clients (every path speaks that protocol); unset: not
   * published. Their clients also reach the main port at /vosk and /funasr.
   */
  const protocolPorts = protocolPortsFor(
    o.port,
    { vosk: o.voskPort, funasr: o.funasrPort },
    "another of this deployment's ports",
    problems,
  );
  const modelsDir = path(o.modelsDir);
  const models: ModelMount[] = [];
  for (const { language, model } of o.model) {
    // A bare name is a model in the models directory (a catalog one is installed there if missing).
    const bareName = !model.includes('/') && !model.startsWith('.');
    const catalogName = bareName && catalogModel(model) ? model : undefined;
    models.push({ language, hostDir: bareName ? join(modelsDir, model) : path(model), ...(catalogName && { catalogName }) });
  }
  // Clients choose a model by its directory's name: two with one name could not be told apart.
  for (const [i, m] of models.entries())
    if (models.findIndex((x) => modelName(x) === modelName(m)) < i)
      problems.push(`model: two models are named "${modelName(m)}" (${m.hostDir}); rename one directory`);
  const languages = models.map((x) => x.language);
  const defaultLanguage = defaultLanguageFor(o.defaultLanguage, languages, `models: ${languages.join(', ')}`, problems);

  const target = targetNamed(o.target);
  for (const { key, takenBy } of otherTargetsSettings(target))
    if (given(key)) {
      const why = target.refuses?.[key];
      problems.push(`--${flagOf(key)} applies to --target ${takenBy.map((t) => t.name).join(' or ')}${why ? `; ${why}` : ''}`);
    }

  if (problems.length > 0) throw new DeployConfigError(problems);
  return {
    project: o.project,
    target: o.target,
    ...(o.replicas !== undefined && { replicas: o.replicas }),
    ...(o.registry !== undefined && { registry: o.registry.replace(/\/+$/u, '') }),
    publishMode: o.publishMode,
    constraints: o.constraint,
    port: o.port,
    protocolPorts,
    bindAddress: o.bind,
    models,
    modelsDir,
    ...(o.mirror !== undefined && { mirror: o.mirror }),
    defaultLanguage,
    baseImage: o.baseImage,
    edgeBaseImage: o.edgeBaseImage,
    strategy: o.strategy,
    drainTimeoutSeconds: o.drainTimeout,
    ...(o.memory !== undefined && { memoryBytes: o.memory }),
    ...(o.cpus !== undefined && { cpus: o.cpus }),
    ...(o.gpus !== undefined && { gpus: o.gpus }),
    ...(o.tlsCert !== undefined && o.tlsKey !== undefined && { tls: { certPath: path(o.tlsCert), keyPath: path(o.tlsKey) } }),
    allow: o.allow,
    ...(o.verifyWav !== undefined && { verifyWav: path(o.verifyWav) }),
    ...(o.verifyText !== undefined && { verifyText: o.verifyText }),
    ...(o.tokensFile !== undefined && { tokensFile: path(o.tokensFile) }),
  };
}
