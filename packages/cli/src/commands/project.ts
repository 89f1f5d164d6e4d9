import { existsSync } from 'node:fs';
import { DeployConfigError, deployInputFromEnv, deployInputFromFile, resolveDeployConfig } from '../deployment/deploy-config.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { checkEnv } from '../options/commander-options.js';
import { DEFAULT_CONFIG_FILE } from './deployment-options.js';

/** The project a management command targets: --project, else the config file's, else ASRCTL_PROJECT, else the default. */
export function projectFrom(flags: { project?: string; config?: string }): string {
  const path = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const misspelt = checkEnv(DEPLOY_OPTIONS, process.env, [], ['project']);
  if (misspelt.length > 0) throw new DeployConfigError(misspelt);
  const sources = [
    // Only the project: a bad setting in the file is the next deploy's to refuse, not a reason to refuse stop.
    ...(path ? [deployInputFromFile(path, ['project'])] : []),
    deployInputFromEnv(process.env),
    flags.project ? { project: flags.project } : {},
  ];
  return resolveDeployConfig(
    sources.map((s) => ({ project: s.project })),
    process.cwd(),
  ).project;
}
