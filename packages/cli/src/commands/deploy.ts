import type { Command } from 'commander';
import { Listr } from 'listr2';
import type { DeployContext, DeployPhase } from '../deploy/deploy-context.js';
import type { DeployInput } from '../deployment/deploy-config.js';
import { type DeployReport, type PhaseRunner, RESTART_PHASES, deploy, plainPhaseRunner } from '../deploy/deploy.js';
import { connectEngine } from '../docker/engine.js';
import { addDeployOptions } from './deployment-options.js';
import { givenSettings, settingsFor } from './deployment-settings.js';
import { canDrawTaskList } from './task-list-terminal.js';
import { stopSafelyOnSignals } from './stop-signals.js';

/** `asrctl deploy`: the six phases, the running service untouched until the new one is proven. */
export function registerDeploy(program: Command): void {
  addDeployOptions(
    program
      .command('deploy')
      .description(
        'build and deploy the service on Docker with zero downtime (six phases); settings not given are those the running deployment was deployed with, else the defaults',
      ),
    { asDeployed: true },
  )
    .option('--plain', 'plain progress lines instead of the animated task list')
    .option('--reset-settings', "start from the defaults, not from the running deployment's settings")
    .action(async (flags: DeployFlags) => runDeploy(flags, 'deploy'));
  addDeployOptions(
    program
      .command('restart')
      .description(
        'replace the running app with a fresh container of the same image and the settings it was deployed with (flags override them), through the same zero-downtime swap',
      ),
    { asDeployed: true },
  )
    .option('--plain', 'plain progress lines instead of the animated task list')
    .action(async (flags: DeployFlags) => runDeploy(flags, 'restart'));
}

type DeployFlags = DeployInput & { config?: string; plain?: boolean; resetSettings?: boolean };

async function runDeploy(flags: DeployFlags, mode: 'deploy' | 'restart'): Promise<void> {
  const { plain, resetSettings, ...input } = flags;
  const docker = connectEngine();
  const config = await settingsFor(docker, mode, givenSettings(input, process.env), {
    cwd: process.cwd(),
    fresh: resetSettings === true,
    say: (l) => process.stdout.write(`${l}\n`),
  });
  const runner = plain || !canDrawTaskList(process.stdout) ? plainPhaseRunner((l) => process.stdout.write(`${l}\n`)) : listrRunner;
  const stopping = stopSafelyOnSignals((l) => process.stderr.write(`${l}\n`));
  const report = await deploy(docker, config, runner, {
    ...(mode === 'restart' && { phases: RESTART_PHASES }),
    say: (l) => process.stderr.write(`${l}\n`),
    signal: stopping.signal,
  }).finally(() => stopping.dispose());
  process.stdout.write(
    banner(
      report,
      config.models.map((m) => `${m.language}${m.language === config.defaultLanguage ? ' (default)' : ''} ← ${m.hostDir}`),
    ),
  );
}

/** listr2's task list: one task per phase, its last progress lines under it. */
export const listrRunner: PhaseRunner = async (phases: readonly DeployPhase[], ctx: DeployContext) => {
  await new Listr(
    phases.map((phase) => ({
      title: phase.title,
      task: async (_: unknown, task: { output: string }) => {
        await phase.run(ctx, (line) => {
          task.output = line;
        });
      },
      rendererOptions: { outputBar: 3, persistentOutput: true },
    })),
    // The failed phase is marked; its error is printed once, below the list, by the CLI. Ctrl-C is
    // the deploy's to handle (it undoes the current step), not listr's (which would exit at once).
    {
      concurrent: false,
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: { collapseErrors: false, showErrorMessage: false },
    },
  ).run();
};

function banner(report: DeployReport, models: string[]): string {
  const http = report.url.replace(/^ws/u, 'http');
  const flag = report.project === 'asrctl' ? '' : ` --project ${report.project}`;
  return [
    '',
    `Deployed "${report.project}" (${report.strategy}${report.previousColor ? `, ${report.previousColor} → ${report.color}` : report.color ? `, ${report.color}` : ''})`,
    `  WebSocket   ${report.url}   (test page: ${http})`,
    `  languages   ${models.join(', ')}`,
    `  verified    ${Object.entries(report.heard)
      // A real model answers the tone clip with a final but no words: say what was checked.
      .map(([l, t]) => (t === '' ? `${l} answered (a final, no words: expected of a real model)` : `${l} "${t}"`))
      .join(', ')} through the public port`,
    `  containers  ${report.serving}`,
    `  image       ${report.appImage}`,
    ...report.warnings.map((w) => `  warning     ${w}`),
    `  manage      asrctl status${flag} · asrctl logs -f${flag} · asrctl restart${flag}${report.scalable ? ` · asrctl scale N${flag}` : ''} · asrctl stop${flag} · asrctl cleanup${flag}`,
    '',
  ].join('\n');
}
