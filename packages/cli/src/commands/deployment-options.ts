import { existsSync } from 'node:fs';
import type { DeprecatedEnv } from '@asrctl/server';
import type { Command } from 'commander';
import {
  type DeployConfig,
  type DeployInput,
  deployInputFromEnv,
  deployInputFromFile,
  resolveDeployConfig,
} from '../deploy/deploy-config.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { commanderOptions, warnDeprecated } from '../options/commander-options.js';

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The default config file, read when present and no --config is given. */
export const DEFAULT_CONFIG_FILE = 'asrctl.json';

/** Options every deployment command takes: which deployment, and where its settings are. */
export function addTargetOptions(command: Command): Command {
  return command
    .addOption(commanderOptions(DEPLOY_OPTIONS, ['project'])[0]!)
    .option(
      '--config <file>',
      `JSON file with deploy settings, keys as the flags in camelCase (default ./${DEFAULT_CONFIG_FILE} if present)`,
    );
}

/** The deploy settings (DEPLOY_OPTIONS), as `deploy`, `restart` and `render` take them. */
export function addDeployOptions(command: Command): Command {
  addTargetOptions(command);
  for (const option of commanderOptions(
    DEPLOY_OPTIONS,
    Object.keys(DEPLOY_OPTIONS.options).filter((key) => key !== 'project'),
    { asDeployed: true },
  ))
    command.addOption(option);
  return command;
}

/** Config file, then ASRCTL_* variables, then flags. Commander's option names are DeployInput's keys. */
export function deployConfigFrom(flags: DeployInput & { config?: string }): DeployConfig {
  const { config: file, ...rest } = flags;
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const deprecated: DeprecatedEnv[] = [];
  const sources = [...(path ? [deployInputFromFile(path)] : []), deployInputFromEnv(process.env, deprecated), rest];
  warnDeprecated(deprecated);
  return resolveDeployConfig(sources, process.cwd());
}
