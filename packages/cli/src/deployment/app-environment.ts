import { SERVER_OPTIONS, envAssignments } from '@asrctl/server';
import type { DeployConfig } from './deploy-config.js';
import { modelPath } from './model-mount.js';
import { protocolPortMap } from './ports.js';

/** Where the tokens secret appears in an app task or pod (under /run/secrets). */
export const TOKENS_SECRET_FILE = 'asrctl-tokens';

/** The app server's settings, as environment variables (names from the server's option table). */
export function appEnvironment(
  config: DeployConfig,
  options: {
    behindEdge: boolean;
    tokensPath: string;
    sessionDrainSeconds?: number;
    /** Client ranges the app itself admits (recreate: no edge to apply `--allow`). */
    allowIps?: readonly string[];
  },
): string[] {
  const ports = Object.fromEntries(protocolPortMap(config).map((p) => [`${p.protocol}Port`, String(p.inside)]));
  return [
    // A language's models in order, comma-separated (the first is its default).
    ...[...new Set(config.models.map((m) => m.language))].map(
      (language) =>
        `ASR_MODEL_${language.toUpperCase()}=${config.models
          .filter((m) => m.language === language)
          .map(modelPath)
          .join(',')}`,
    ),
    ...envAssignments(SERVER_OPTIONS, {
      defaultLanguage: config.defaultLanguage,
      shutdownTimeout: String(SERVER_SHUTDOWN_MS),
      ...(options.sessionDrainSeconds && { sessionDrain: String(options.sessionDrainSeconds * 1000) }),
      ...ports,
      ...(config.tokensFile !== undefined && { tokensFile: options.tokensPath }),
      ...(options.allowIps?.length && { allowIp: [...options.allowIps] }),
      // Behind the edge every connection comes from it; its X-Forwarded-For names the client.
      trustProxy: String(options.behindEdge),
    }),
  ];
}

/** The server's own shutdown budget after SIGTERM: flush finals, close sessions with 1012. */
const SERVER_SHUTDOWN_MS = 10_000;
/** docker stop waits this long after SIGTERM before SIGKILL. */
export const APP_STOP_GRACE_SECONDS = SERVER_SHUTDOWN_MS / 1000 + 5;
