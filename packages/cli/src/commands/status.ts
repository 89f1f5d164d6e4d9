import type { Command } from 'commander';
import type { DeployInput } from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { settingText } from '../deployment/deployment-record.js';
import { connectEngine } from '../docker/engine.js';
import { readRecordedSettings } from '../operations/recorded-settings.js';
import { deployedTarget } from '../targets/index.js';
import { addTargetOptions } from './deployment-options.js';
import { projectFrom } from './project.js';

/** `asrctl status`: containers, health, image labels, routing and open sessions. */
export function registerStatus(program: Command): void {
  addTargetOptions(program.command('status').description('show the deployment: containers, health, images, routing, open sessions'))
    .option('--json', 'machine-readable output')
    .action(async (flags: { project?: string; config?: string; json?: boolean }) => {
      const docker = connectEngine();
      const names = deploymentNames(projectFrom(flags));
      const status = await (await deployedTarget(docker, names)).status(docker, names);
      const recorded = await readRecordedSettings(docker, names);
      const settings = recorded.kind === 'recorded' ? recorded.settings : undefined;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ ...status.json, ...(settings && { settings }) }, null, 2)}\n`
          : `${status.text}${recorded.kind === 'none' ? '' : presentSettings(settings)}`,
      );
      if (status.kind === 'broken') process.exitCode = 1;
    });
}

/** What `restart` (and a bare `deploy`) reuse. */
function presentSettings(settings: DeployInput | undefined): string {
  if (!settings)
    return '  settings: none recorded (no app of this deployment runs, or an older asrctl deployed it; the next deploy records them)\n';
  const lines = (Object.entries(settings) as Array<[keyof DeployInput, string | string[]]>).map(([k, v]) => `    ${settingText(k, v)}`);
  return `  deployed with (restart and a bare deploy reuse these):\n${lines.join('\n')}\n`;
}
