import { existsSync } from 'node:fs';
import { DeployConfigError, deployInputFromEnv, deployInputFromFile, resolveDeployConfig } from '../deployment/deploy-config.js';
import { ignoredEnv } from '@asrctl/server';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { misspeltEnvProblems, warnEnv } from '../options/commander-options.js';
import { DEFAULT_CONFIG_FILE } from './deployment-options.js';

/** The project a management command targets: --project, else the config file's, else ASRCTL_PROJECT, else the default. */
export function projectFrom(flags: { project?: string; config?: string }): string {
  const path = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const ignored = ignoredEnv(DEPLOY_OPTIONS, process.env);
  warnEnv([], ignored);
  const misspelt = misspeltEnvProblems(ignored);
  if (misspelt.length > 0) throw new DeployConfigError(misspelt);
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
