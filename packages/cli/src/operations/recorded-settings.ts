import type Docker from 'dockerode';
import type { DeployInput, Target } from '../deployment/deploy-config.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import { decodeSettings } from '../deployment/deployment-record.js';
import { deployedTarget } from '../targets/index.js';

/**
 * The settings the running deployment recorded: the serving app's label (else the newest app's),
 * as its target keeps them. `none` when nothing is deployed; `unrecorded` when something runs that
 * an older asrctl deployed (`target` then says where it runs).
 */
export async function readRecordedSettings(
  docker: Docker,
  names: DeploymentNames,
): Promise<{ kind: 'recorded'; settings: DeployInput } | { kind: 'none' | 'unrecorded'; target: Target }> {
  const target = await deployedTarget(docker, names);
  const { deployed, labels } = await target.settingsLabels(docker, names);
  for (const label of labels) {
    const settings = decodeSettings(label);
    if (settings) return { kind: 'recorded', settings };
  }
  return { kind: deployed ? 'unrecorded' : 'none', target: target.name };
}
