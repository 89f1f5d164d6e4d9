import { existsSync } from 'node:fs';
import { type DeprecatedEnv, envNamesOf } from '@asrctl/server';
import type Docker from 'dockerode';
import {
  type DeployConfig,
  type DeployInput,
  DeployConfigError,
  deployInputFromEnv,
  deployInputFromFile,
  resolveDeployConfig,
} from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { type SettingsSource, describeMerge, mergeWithRecord } from '../deployment/deployment-record.js';
import { readRecordedSettings } from '../operations/recorded-settings.js';
import { engineFacts } from '../docker/engine.js';
import { checkEnv } from '../options/commander-options.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { DEFAULT_CONFIG_FILE } from './deployment-options.js';
import { CliError, isCliError } from '../cli-error.js';

/**
 * The settings given now, lowest first: the config file, ASRCTL_* variables, flags (commander's
 * option names are DeployInput's keys). A variable read under its old name is said on stderr.
 */
export function givenSettings(
  flags: DeployInput & { config?: string },
  env: NodeJS.ProcessEnv,
  /** The only settings read from the file and the environment (render); the others there are another command's. */
  keys?: ReadonlyArray<keyof DeployInput>,
): SettingsSource[] {
  const { config: file, ...rest } = flags;
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (keys) env = withoutOtherSettings(env, keys);
  const deprecated: DeprecatedEnv[] = [];
  const problems: string[] = [];
  const fromEnv = deployInputFromEnv(env, deprecated, problems);
  problems.push(...checkEnv(DEPLOY_OPTIONS, env, deprecated, keys));
  if (problems.length > 0) throw new DeployConfigError(problems);
  return [
    ...(path ? [{ from: path, input: deployInputFromFile(path, keys) }] : []),
    { from: 'environment', input: fromEnv },
    { from: 'flag', input: rest },
  ];
}

/**
 * The settings given now, for a command that acts on no running deployment (render); `keys`: the
 * only settings it reads from the config file and the environment.
 */
export function deployConfigFrom(flags: DeployInput & { config?: string }, keys: ReadonlyArray<keyof DeployInput>): DeployConfig {
  return resolveDeployConfig(
    givenSettings(flags, process.env, keys).map((s) => s.input),
    process.cwd(),
  );
}

/** The environment without the variables (any of their names) of settings other than `keys`. */
function withoutOtherSettings(env: NodeJS.ProcessEnv, keys: ReadonlyArray<keyof DeployInput>): NodeJS.ProcessEnv {
  const others = Object.keys(DEPLOY_OPTIONS.options)
    .filter((key) => !keys.includes(key as keyof DeployInput))
    .flatMap((key) => envNamesOf(DEPLOY_OPTIONS, key));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !others.includes(name)));
}

/**
 * What `deploy` and `restart` deploy: the settings the running deployment recorded, under the ones
 * given now. `restart` never falls back to defaults for what runs: without a record (deployed by an
 * older asrctl) it needs the models named. `deploy` starts from the defaults when nothing runs, or
 * when asked to (`fresh`). `say` gets what was reused and overridden.
 */
export async function settingsFor(
  docker: Docker,
  command: 'deploy' | 'restart',
  given: SettingsSource[],
  options: { cwd: string; fresh?: boolean; say: (line: string) => void },
): Promise<DeployConfig> {
  const inputs = given.map((s) => s.input);
  const project = resolveDeployConfig(
    inputs.map((s) => ({ project: s.project })),
    options.cwd,
  ).project;
  const names = deploymentNames(project);
  const recorded = options.fresh
    ? undefined
    : await readRecordedSettings(docker, names).catch(async (err: unknown) => {
        // On a Swarm worker a deploy starts from what is given: its own checks say what this engine
        // can run (a Swarm deploy refuses there; a plain one may run beside the Swarm's tasks).
        if (command === 'deploy' && isCliError(err, 'swarm_worker')) return undefined;
        // An engine out of reach: a deploy goes on to its environment check, which says so with
        // its hint (nothing is deployed without an engine); a restart says so now.
        const reachable = await engineFacts(docker).then(
          () => true,
          (engineError: unknown) => {
            if (command === 'restart') throw engineError;
            return false;
          },
        );
        if (reachable) throw err;
        return undefined;
      });
  if (recorded?.kind === 'recorded') {
    const merge = mergeWithRecord(recorded.settings, given, project);
    for (const line of describeMerge(command, project, merge)) options.say(line);
    return resolveDeployConfig(merge.sources, options.cwd);
  }
  if (command === 'restart') {
    const flag = project === 'asrctl' ? '' : ` --project ${project}`;
    if (recorded?.kind === 'none')
      throw new CliError('unrecorded_deployment', `nothing is deployed as "${project}" to restart`, { hint: `asrctl deploy${flag}` });
    if (!inputs.some((i) => i.model !== undefined))
      throw new CliError(
        'unrecorded_deployment',
        `no settings are recorded for "${project}" (no app of it runs, or an older asrctl deployed it), so a restart cannot know its models`,
        {
          hint: `asrctl restart${flag} with its settings (at least --model LANG=DIR for each language), or asrctl deploy with them once: later restarts reuse them`,
        },
      );
    // Without a record, what runs decides only the target.
    if (recorded?.kind === 'unrecorded' && !inputs.some((i) => i.target !== undefined)) inputs.push({ target: recorded.target });
  }
  return resolveDeployConfig(inputs, options.cwd);
}
