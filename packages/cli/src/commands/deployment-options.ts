import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  type DeployConfig,
  type DeployInput,
  deployInputFromEnv,
  deployInputFromFile,
  resolveDeployConfig,
} from '../deploy/deploy-config.js';

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The default config file, read when present and no --config is given. */
export const DEFAULT_CONFIG_FILE = 'asrctl.json';

/** Options every deployment command takes: which deployment, and where its settings are. */
export function addTargetOptions(command: Command): Command {
  return command
    .option('--project <name>', 'deployment name; several may share a host (ASRCTL_PROJECT, default asrctl)')
    .option('--config <file>', `JSON file with deploy settings (default ./${DEFAULT_CONFIG_FILE} if present)`);
}

/** The deploy settings, as `deploy` and `restart` take them. */
export function addDeployOptions(command: Command): Command {
  return addTargetOptions(command)
    .addOption(
      new Option('--target <where>', 'docker: containers on this engine; swarm: services on its Swarm (ASRCTL_TARGET)').choices([
        'docker',
        'swarm',
      ]),
    )
    .option('--replicas <n>', 'swarm: app tasks (ASRCTL_REPLICAS; default: as running, 2 for a new deployment)')
    .option(
      '--registry <host[:port][/path]>',
      'swarm: push images there so every node can pull them (ASRCTL_REGISTRY; needed with several nodes)',
    )
    .addOption(
      new Option('--publish-mode <mode>', 'swarm: host (each node its own port, no IPVS needed) or ingress (routing mesh)').choices([
        'host',
        'ingress',
      ]),
    )
    .option(
      '--constraint <expr>',
      'swarm: where app tasks may run, repeatable, e.g. node.labels.asr-models==yes (ASRCTL_CONSTRAINTS=a,b)',
      collect,
      undefined,
    )
    .option('--port <n>', 'public port (ASRCTL_PORT, default 8765)')
    .option('--bind <addr>', 'host address the ports are published on (ASRCTL_BIND, default 0.0.0.0)')
    .option('--vosk-port <n>', 'port for vosk-server clients, every path (ASRCTL_VOSK_PORT, default 2700; 0: off)')
    .option('--funasr-port <n>', 'port for FunASR clients, every path (ASRCTL_FUNASR_PORT, default 10095; 0: off)')
    .option(
      '--model <lang=dir>',
      'model directory per language, repeatable (ASRCTL_MODELS=cn=DIR,en=DIR; default models/cn, models/en)',
      collect,
      undefined,
    )
    .option('--default-language <lang>', 'language of new sessions (default cn when a cn model is given)')
    .option('--base-image <image>', 'base of the app image (ASRCTL_BASE_IMAGE, default node:20-bookworm-slim)')
    .option('--edge-base-image <image>', 'base of the edge proxy image (ASRCTL_EDGE_BASE_IMAGE, default debian:bookworm-slim)')
    .addOption(
      new Option('--strategy <name>', 'blue-green (zero downtime) or recreate (one container, short outage)').choices([
        'blue-green',
        'recreate',
      ]),
    )
    .option('--drain-timeout <s>', 'seconds the old app keeps open sessions after the switch (default 30)')
    .option('--memory <size>', 'memory limit per app container, e.g. 2g (ASRCTL_MEMORY)')
    .option('--cpus <n>', 'CPU limit per app container, e.g. 1.5 (ASRCTL_CPUS)')
    .option('--gpus <spec>', 'GPUs for the app: all, a count, or device=0,1 (ASRCTL_GPUS)')
    .option('--tls-cert <file>', 'certificate (PEM) for wss/https at the edge')
    .option('--tls-key <file>', 'private key (PEM) for --tls-cert')
    .option(
      '--allow <cidr>',
      'client address range allowed at the edge, repeatable (ASRCTL_ALLOW=a,b; default everyone)',
      collect,
      undefined,
    )
    .option('--tokens-file <file>', 'require a token from clients, one per line (mounted read-only into the app; ASRCTL_TOKENS_FILE)')
    .option('--verify-wav <file>', 'WAV to recognize through the public port after the swap (default: a generated tone clip)')
    .option('--verify-text <text>', 'text --verify-wav must produce');
}

/** Config file, then ASRCTL_* variables, then flags. Commander's option names are DeployInput's keys. */
export function deployConfigFrom(flags: DeployInput & { config?: string }): DeployConfig {
  const { config: file, ...rest } = flags;
  const path = file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const sources = [...(path ? [deployInputFromFile(path)] : []), deployInputFromEnv(process.env), rest];
  return resolveDeployConfig(sources, process.cwd());
}
