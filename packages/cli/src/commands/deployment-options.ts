import type { Command } from 'commander';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { commanderOptions } from '../options/commander-options.js';

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

/**
 * The deploy settings (DEPLOY_OPTIONS), as `deploy`, `restart` and `render` take them. `asDeployed`:
 * the command starts from the running deployment's record, so help says an omitted flag keeps it.
 */
export function addDeployOptions(
  command: Command,
  options: { asDeployed: boolean },
  /** The settings the command takes, when not all (render k8s). */
  keys: readonly string[] = Object.keys(DEPLOY_OPTIONS.options),
): Command {
  addTargetOptions(command);
  for (const option of commanderOptions(
    DEPLOY_OPTIONS,
    keys.filter((key) => key !== 'project'),
    options,
  ))
    command.addOption(option);
  return command;
}
