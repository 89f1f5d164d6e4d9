import { join } from 'node:path';
import { normalizeLanguage } from '@asrctl/server';
import { TARGETS, otherTargetsSettings, targetNamed } from '../targets/index.js';
import type { DeployConfig, DeployInput } from './deploy-config.js';

/**
 * What a deployment was deployed with, in the form a config file takes (absolute paths), so it is
 * a source like any other: a bare `restart`, or a `deploy` in another folder, resolves it under
 * the flags given. It rides as a label on the app containers (Swarm: on the app service), so the
 * engine keeps it with what runs, and a rollback brings back the previous one with the previous app.
 * Left out: the project (the record is found by it) and the Swarm replica count (as running).
 */
export function recordedSettings(config: DeployConfig): DeployInput {
  const memory = config.memoryBytes === undefined ? undefined : byteSizeText(config.memoryBytes);
  const settings: DeployInput = dropUndefined({
    target: config.target,
    port: String(config.port),
    voskPort: String(config.protocolPorts.vosk ?? 0),
    funasrPort: String(config.protocolPorts.funasr ?? 0),
    model: config.models.map((m) =>
      // A catalog model stays a catalog name: missing, it is installed again rather than refused.
      m.catalogName !== undefined && m.hostDir === join(config.modelsDir, m.catalogName)
        ? `${m.language}=${m.catalogName}`
        : `${m.language}=${m.hostDir}`,
    ),
    modelsDir: config.modelsDir,
    mirror: config.mirror,
    defaultLanguage: config.defaultLanguage,
    baseImage: config.baseImage,
    edgeBaseImage: config.edgeBaseImage,
    drainTimeout: String(config.drainTimeoutSeconds),
    memory,
    cpus: config.cpus === undefined ? undefined : String(config.cpus),
    tlsCert: config.tls?.certPath,
    tlsKey: config.tls?.keyPath,
    allow: config.allow.length > 0 ? config.allow : undefined,
    tokensFile: config.tokensFile,
    verifyWav: config.verifyWav,
    verifyText: config.verifyText,
    registry: config.registry,
    publishMode: config.publishMode,
    constraint: config.constraints.length > 0 ? config.constraints : undefined,
    bind: config.bindAddress,
    strategy: config.strategy,
    gpus: config.gpus,
  });
  // Another target's settings are defaults here, not choices: recorded, they would be refused.
  for (const { key } of otherTargetsSettings(targetNamed(config.target))) delete settings[key];
  return settings;
}

export function encodeSettings(settings: DeployInput): string {
  return JSON.stringify(settings);
}

/** The label's settings; undefined when absent or not a record this asrctl wrote. */
export function decodeSettings(label: string | undefined): DeployInput | undefined {
  if (label === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(label);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const valid = Object.values(parsed).every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')));
  return valid ? (parsed as DeployInput) : undefined;
}

/** Where a setting given now comes from, for the report: a flag, the environment, or a config file. */
export interface SettingsSource {
  /** `flag`, `environment`, or the config file's path. */
  from: string;
  input: DeployInput;
}

export interface SettingOverride {
  key: keyof DeployInput;
  from: string;
  value: string | string[];
  deployed: string | string[] | undefined;
}

export interface SettingsMerge {
  /** For resolveDeployConfig: the record first, then what was given. */
  sources: DeployInput[];
  /** Settings given now that differ from the record. */
  overrides: SettingOverride[];
  /** Settings taken from the record (given by nobody now). */
  reused: Array<[keyof DeployInput, string | string[]]>;
}

/**
 * The record under what is given now (later sources win, as for a deploy). A record setting that
 * only made sense with a setting now replaced is dropped: new models choose their own default
 * language; another target drops the other target's settings.
 */
export function mergeWithRecord(record: DeployInput, given: SettingsSource[], project: string): SettingsMerge {
  const latest = new Map<keyof DeployInput, { from: string; value: string | string[] }>();
  for (const source of given)
    for (const [key, value] of Object.entries(source.input) as Array<[keyof DeployInput, string | string[] | undefined]>)
      if (value !== undefined && key !== 'project') latest.set(key, { from: source.from, value });

  const base: { -readonly [K in keyof DeployInput]: DeployInput[K] } = { ...record };
  const givenModels = latest.get('model')?.value;
  let inputs = given.map((s) => s.input);
  if (Array.isArray(givenModels)) {
    // --model LANG=... replaces that language's models only: the other languages stay as deployed.
    base.model = withModelsReplaced(record.model ?? [], givenModels);
    inputs = inputs.map(({ model: _, ...rest }) => rest);
    const languages = new Set(base.model.map(languageOf));
    if (base.defaultLanguage !== undefined && base.defaultLanguage !== 'auto' && !languages.has(normalizeLanguage(base.defaultLanguage)))
      delete base.defaultLanguage;
  }
  const target = latest.get('target')?.value;
  if (target !== undefined && target !== record.target) {
    for (const key of TARGETS.flatMap((t) => t.options)) delete base[key];
  }

  const overrides: SettingOverride[] = [];
  for (const [key, { from, value }] of latest) {
    // A model given replaces only its language's: that is what it overrides.
    const deployed =
      key === 'model' && Array.isArray(value)
        ? record.model?.filter((spec) => value.some((g) => languageOf(g) === languageOf(spec)))
        : record[key];
    if (!sameSetting(deployed, value)) overrides.push({ key, from, value, deployed: deployed?.length ? deployed : undefined });
  }
  const reused = (Object.entries(base) as Array<[keyof DeployInput, string | string[]]>).filter(([key]) => !latest.has(key));
  return { sources: [{ ...base, project }, ...inputs], overrides, reused };
}

const languageOf = (spec: string): string => normalizeLanguage(spec.slice(0, spec.indexOf('=')));

/** The recorded models with every language given replaced by the models given for it, in place. */
function withModelsReplaced(recorded: readonly string[], given: readonly string[]): string[] {
  const givenLanguages = new Set(given.map(languageOf));
  const out: string[] = [];
  const placed = new Set<string>();
  for (const spec of recorded) {
    const language = languageOf(spec);
    if (!givenLanguages.has(language)) out.push(spec);
    else if (!placed.has(language)) {
      placed.add(language);
      out.push(...given.filter((g) => languageOf(g) === language));
    }
  }
  out.push(...given.filter((g) => !placed.has(languageOf(g))));
  return out;
}

function sameSetting(a: string | string[] | undefined, b: string | string[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `--memory 3g`, as a user would type it (flag names are DeployInput's keys in kebab case). */
export function settingText(key: keyof DeployInput, value: string | string[]): string {
  const flag = `--${key.replace(/[A-Z]/gu, (c) => `-${c.toLowerCase()}`)}`;
  return (Array.isArray(value) ? value : [value]).map((v) => `${flag} ${/\s/u.test(v) || v === '' ? JSON.stringify(v) : v}`).join(' ');
}

/** "restart: --memory 3g overrides the deployed 2g" (from the environment or a file: said so). */
export function describeOverride(command: string, o: SettingOverride): string {
  // Unset memory was sized from the models when deployed: that is what a --memory overrides.
  const unset = o.key === 'memory' ? 'the limit sized from the models when deployed' : 'nothing set when deployed';
  const deployed = o.deployed === undefined ? unset : `the deployed ${plain(o.deployed)}`;
  const from = o.from === 'flag' ? '' : ` (from ${o.from === 'environment' ? 'the environment' : o.from})`;
  return `${command}: ${settingText(o.key, o.value)}${from} overrides ${deployed}`;
}

const plain = (value: string | string[]): string => (Array.isArray(value) ? value.join(' ') : value);

/** The lines a command prints before it starts: what it reuses, what it overrides. */
export function describeMerge(command: 'deploy' | 'restart', project: string, merge: SettingsMerge): string[] {
  const header =
    command === 'deploy'
      ? `deploy: settings taken from the running deployment "${project}" (--reset-settings starts from the defaults instead):`
      : `restart: the settings "${project}" was deployed with:`;
  return [
    header,
    ...merge.reused.map(([key, value]) => `  ${settingText(key, value)}`),
    ...merge.overrides.map((o) => describeOverride(command, o)),
  ];
}

/** 2147483648 → 2g: the record shows sizes as a user types them. */
function byteSizeText(bytes: number): string {
  for (const [unit, size] of [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ] as const)
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  return String(bytes);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
