import { createInterface } from 'node:readline/promises';
import { keepGoingWithoutOutput } from '../os/lost-output.js';
import type { Command } from 'commander';
import type Docker from 'dockerode';
import { refuseWhileDeploying } from '../deploy/deploy-lock.js';
import { type DeploymentNames, deploymentNames } from '../deployment/deployment-names.js';
import { connectEngine } from '../docker/engine.js';
import { type CleanupItem, cleanupPlan } from '../operations/cleanup-plan.js';
import { collect, commanderOptions } from '../options/commander-options.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';
import { addTargetOptions } from './deployment-options.js';
import { holdingDeployLock } from './holding-deploy-lock.js';
import { projectAndModelsDirFrom } from './project.js';
import { countOf } from '../text/count-of.js';

/** `asrctl cleanup`: lists what may go and asks for each kind (or --yes). Models only with --models. */
export function registerCleanup(program: Command): void {
  addTargetOptions(
    program.command('cleanup').description('remove stopped containers, old images, dangling images, and (only if named) model directories'),
  )
    .option('-y, --yes', 'remove everything listed without asking')
    .option('--dry-run', 'only list what would be removed')
    .option(
      '--models <dir>',
      'also remove this model directory, repeatable (refused while a container or service mounts it)',
      collect,
      undefined,
    )
    // The models directory itself is never one --models directory: cleanup must know which it is.
    .addOption(commanderOptions(DEPLOY_OPTIONS, ['modelsDir'])[0]!)
    .action(
      async (flags: { project?: string; config?: string; modelsDir?: string; yes?: boolean; dryRun?: boolean; models?: string[] }) => {
        // Without a terminal the questions would go unanswered (and the command end as if declined).
        if (!flags.yes && !flags.dryRun && !process.stdin.isTTY)
          throw new Error(
            'cleanup asks before removing anything, and its input is not a terminal\n  hint: asrctl cleanup --dry-run lists what would go; asrctl cleanup --yes removes it without asking',
          );
        // A terminal that hangs up at a question must not end it halfway, lock held.
        keepGoingWithoutOutput();
        const { project, modelsDir } = projectAndModelsDirFrom(flags);
        const docker = connectEngine();
        const names = deploymentNames(project);
        // Never beside a deploy: it keeps what served stopped until the new version is verified, and
        // its new image is used by no container yet. Holding the deploy lock, no deploy starts meanwhile.
        if (flags.dryRun) {
          await refuseWhileDeploying(docker, names);
          return cleanUp(docker, names, flags, modelsDir);
        }
        // Stopped by a signal (Ctrl-C at a question, say), it lets go of the lock first.
        await holdingDeployLock(
          docker,
          names,
          (line) => process.stdout.write(`${line}\n`),
          () => cleanUp(docker, names, flags, modelsDir),
        );
      },
    );
}

async function cleanUp(
  docker: Docker,
  names: DeploymentNames,
  flags: { yes?: boolean; dryRun?: boolean; models?: string[] },
  modelsDir: string,
): Promise<void> {
  const items = await cleanupPlan(docker, names, {
    ...(flags.models && { models: { dirs: flags.models, root: modelsDir } }),
  });
  if (items.length === 0) return void process.stdout.write('nothing to clean up\n');
  const kinds = [...new Set(items.map((i) => i.kind))];
  // Not in raw mode (terminal: false): the terminal edits the line and turns Ctrl-C into SIGINT
  // itself, and no raw mode is left to undo on a terminal that hangs up.
  const ask = flags.yes || flags.dryRun ? undefined : createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  // Input that ends (a terminal that hangs up, a closed pipe) leaves a question unanswered for good,
  // and Node would exit there, lock held: the end of input is a no, to every question left.
  let inputEnded = false;
  const ended = new Promise<string>((resolve) =>
    ask?.once('close', () => {
      inputEnded = true;
      resolve('');
    }),
  );
  let removed = 0;
  try {
    for (const kind of kinds) {
      const group = items.filter((i) => i.kind === kind);
      process.stdout.write(`${kind}s:\n${group.map((i) => `  ${i.name}  (${i.why})`).join('\n')}\n`);
      if (flags.dryRun) continue;
      if (ask) {
        const question = `remove ${group.length === 1 ? 'this' : 'these'} ${countOf(group.length, kind)}? [y/N] `;
        const answer: string = inputEnded ? '' : await Promise.race([ask.question(question), ended]);
        if (!/^y(es)?$/iu.test(answer.trim())) continue;
      }
      removed += await removeAll(group);
    }
  } finally {
    ask?.close();
  }
  if (!flags.dryRun) process.stdout.write(`removed ${removed} of ${items.length}\n`);
}

async function removeAll(items: CleanupItem[]): Promise<number> {
  let n = 0;
  for (const item of items) {
    try {
      await item.remove();
      n++;
    } catch (err) {
      process.stderr.write(`could not remove ${item.kind} ${item.name}: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  }
  return n;
}
