import { ConfigError } from '@asrctl/server';
import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { engineUnreachable, isEngineConnectionError } from './docker/engine.js';
import { registerBaseImage } from './commands/base-image.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerDeploy } from './commands/deploy.js';
import { registerLogs } from './commands/logs.js';
import { registerModels } from './commands/models.js';
import { registerRender } from './commands/render.js';
import { registerScale } from './commands/scale.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerStop } from './commands/stop.js';
import { registerTranscribe } from './commands/transcribe.js';
import { releaseHungUpTerminalsAtExit } from './os/hung-up-terminal.js';

const program = new Command('asrctl')
  .description('deploy and operate a self-hosted, offline streaming speech recognition service')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerServe(program);
registerTranscribe(program);
registerModels(program);
registerDeploy(program);
registerStatus(program);
registerLogs(program);
registerStop(program);
registerScale(program);
registerRender(program);
registerCleanup(program);
registerBaseImage(program);

// Whatever ends the process, a terminal that hung up meanwhile is let go of first: Node would
// otherwise die of SIGABRT at exit restoring its settings (see releaseHungUpTerminals).
releaseHungUpTerminalsAtExit();

try {
  await program.parseAsync(process.argv);
} catch (caught) {
  // Commander has already printed what was wrong; any usage error of its own is bad usage (2), like a bad value.
  if (caught instanceof CommanderError) process.exit(caught.exitCode === 0 ? 0 : 2);
  const err = isEngineConnectionError(caught) ? engineUnreachable(caught) : caught;
  // A CliError's message ends with its hint line; the server's ConfigError is bad usage too.
  process.stderr.write(`asrctl: ${(err as Error).message}\n`);
  process.exit(err instanceof CliError ? err.exitCode : err instanceof ConfigError ? 2 : 1);
}
