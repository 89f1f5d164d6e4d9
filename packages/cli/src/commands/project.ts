import { existsSync } from 'node:fs';
import { DeployConfigError, deployInputFromEnv, deployInputFromFile, resolveDeployConfig } from '../deployment/deploy-config.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { checkEnv } from '../options/commander-options.js';
import { DEFAULT_CONFIG_FILE } from './deployment-options.js';

type ManagementKey = 'project' | 'modelsDir';

/** The project a management command targets: --project, else the config file's, else ASRCTL_PROJECT, else the default. */
export function projectFrom(flags: { project?: string; config?: string }): string {
  return settingsFrom(flags, ['project']).project;
}

/** The project, and the models directory (absolute): --models-dir, else the config file's, else ASRCTL_MODELS_DIR, else the default. */
export function projectAndModelsDirFrom(flags: { project?: string; config?: string; modelsDir?: string }): {
  project: string;
  modelsDir: string;
} {
  const { project, modelsDir } = settingsFrom(flags, ['project', 'modelsDir']);
  return { project, modelsDir };
}

function settingsFrom(
  flags: { project?: string; config?: string; modelsDir?: string },
  keys: ManagementKey[],
): ReturnType<typeof resolveDeployConfig> {
  const path = flags.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const misspelt = checkEnv(DEPLOY_OPTIONS, process.env, [], keys);
  if (misspelt.length > 0) throw new DeployConfigError(misspelt);
  const only = (input: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(keys.map((k) => [k, input[k]]).filter(([, v]) => v !== undefined));
  const sources = [
    // Only these settings: a bad other one in the file is the next deploy's to refuse, not a reason to refuse stop.
    ...(path ? [deployInputFromFile(path, keys)] : []),
    deployInputFromEnv(process.env),
    { ...(flags.project && { project: flags.project }), ...(flags.modelsDir && { modelsDir: flags.modelsDir }) },
  ];
  return resolveDeployConfig(sources.map(only), process.cwd());
}
