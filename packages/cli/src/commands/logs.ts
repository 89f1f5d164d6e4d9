import { type Command, Option } from 'commander';
import { wholeNumber } from '@asrctl/server';
import { deploymentNames } from '../deployment/deployment-names.js';
import { connectEngine } from '../docker/engine.js';
import { deployedTarget } from '../targets/index.js';
import { parsedAs } from '../options/commander-options.js';
import { addTargetOptions } from './deployment-options.js';
import { projectFrom } from './project.js';

/** `asrctl logs`: the serving app's logs (or the edge's), stdout and stderr kept apart. */
export function registerLogs(program: Command): void {
  addTargetOptions(program.command('logs').description("print the serving app's logs (JSON lines), or the edge's"))
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <n>', 'only the last N lines', parsedAs(wholeNumber(0, 1_000_000_000), 'tail'))
    .option('-t, --timestamps', "prefix each line with Docker's timestamp")
    .addOption(new Option('--service <role>', 'app or edge').choices(['app', 'edge']).default('app'))
    .action(
      async (flags: {
        project?: string;
        config?: string;
        follow?: boolean;
        tail?: number;
        timestamps?: boolean;
        service: 'app' | 'edge';
      }) => {
        const docker = connectEngine();
        const names = deploymentNames(projectFrom(flags));
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        await (
          await deployedTarget(docker, names)
        ).logs(docker, names, {
          service: flags.service,
          follow: flags.follow ?? false,
          ...(flags.tail !== undefined && { tail: flags.tail }),
          timestamps: flags.timestamps ?? false,
          stdout: process.stdout,
          stderr: process.stderr,
          signal: abort.signal,
        });
      },
    );
}
