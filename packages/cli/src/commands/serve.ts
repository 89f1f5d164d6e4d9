import { type ConfigInput, SERVER_OPTIONS, configFrom, runServer } from '@asrctl/server';
import type { Command } from 'commander';
import { commanderOptions } from '../options/commander-options.js';

/** `asrctl serve`: the same server the image runs, on this host, without Docker; the same options. */
export function registerServe(program: Command): void {
  const command = program.command('serve').description('run the recognition server on this host (no Docker); JSON logs on stdout');
  for (const option of commanderOptions(SERVER_OPTIONS)) command.addOption(option);
  command.action((flags: ConfigInput) => runServer(configFrom(process.env, flags)));
}
