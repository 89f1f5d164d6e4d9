import { type Command, Option } from 'commander';
import { type DeploymentNames, deploymentNames } from '../deployment/deployment-names.js';
import { assessDeployment } from '../targets/docker/deployment-state.js';
import { connectEngine } from '../docker/engine.js';
import { copyLogs, copyServiceLogs } from '../docker/logs.js';
import { isSwarmDeployment } from '../targets/swarm/swarm-operations.js';
import { addTargetOptions } from './deployment-options.js';
import { projectFrom } from './project.js';

/** `asrctl logs`: the serving app's logs (or the edge's), stdout and stderr kept apart. */
export function registerLogs(program: Command): void {
  addTargetOptions(program.command('logs').description("print the serving app's logs (JSON lines), or the edge's"))
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--tail <n>', 'only the last N lines', (v) => Number.parseInt(v, 10))
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
        const swarm = await isSwarmDeployment(docker, names);
        const source = swarm
          ? flags.service === 'app'
            ? names.appService
            : names.edgeService
          : await pickContainer(docker, names, flags.service);
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        await (swarm ? copyServiceLogs : copyLogs)(
          docker,
          source,
          { follow: flags.follow ?? false, ...(flags.tail !== undefined && { tail: flags.tail }), timestamps: flags.timestamps ?? false },
          process.stdout,
          process.stderr,
          abort.signal,
        );
      },
    );
}

async function pickContainer(docker: ReturnType<typeof connectEngine>, names: DeploymentNames, role: 'app' | 'edge'): Promise<string> {
  const state = await assessDeployment(docker, names);
  if (role === 'edge') {
    if (!state.edge) throw new Error(`"${names.project}" has no edge container`);
    return state.edge.id;
  }
  const app = state.apps.find((a) => a.color === state.active) ?? [...state.apps].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
  if (!app) throw new Error(`"${names.project}" has no app container (asrctl status)`);
  return app.id;
}
