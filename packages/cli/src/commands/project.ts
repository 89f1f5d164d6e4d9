import { existsSync } from 'node:fs';
import { deployInputFromEnv, deployInputFromFile, resolveDeployConfig } from '../deployment/deploy-config.js';
import { ignoredEnv } from '@asrctl/server';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { warnEnv } from '../options/commander-options.js';
import { DEFAULT_CONFIG_FILE } from './deployment-options.js';

/** The project a management command targets: --project, else the config file's, else ASRCTL_PROJECT, else the default. */
export function projectFrom(flags: { project?: string; config?: string }): string {
  const path = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  // ASRCTL_PROJEKT would otherwise act on the default project without a word.
  warnEnv([], ignoredEnv(DEPLOY_OPTIONS, process.env));
  const sources = [
    ...(path ? [deployInputFromFile(path)] : []),
    deployInputFromEnv(process.env),
    flags.project ? { project: flags.project } : {},
  ];
  return resolveDeployConfig(
    sources.map((s) => ({ project: s.project })),
    process.cwd(),
  ).project;
}
