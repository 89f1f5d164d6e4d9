import type { Color } from '../edge/haproxy-config.js';

/**
 * Labels on everything a deployment creates. The compose labels make `docker compose -p NAME ps`
 * and `logs` show the containers; the io.asrctl labels are how asrctl finds its own (names can be
 * taken by anyone, labels are checked too).
 */
export const LABELS = {
  composeProject: 'com.docker.compose.project',
  composeService: 'com.docker.compose.service',
  composeNumber: 'com.docker.compose.container-number',
  composeOneoff: 'com.docker.compose.oneoff',
  /** What `docker stack ps|services NAME` lists by. */
  stackNamespace: 'com.docker.stack.namespace',
  project: 'io.asrctl.project',
  role: 'io.asrctl.role',
  color: 'io.asrctl.color',
  version: 'io.asrctl.version',
  gitCommit: 'io.asrctl.git-commit',
  configHash: 'io.asrctl.config-hash',
  models: 'io.asrctl.models',
  port: 'io.asrctl.port',
  specHash: 'io.asrctl.spec-hash',
  /** What the deployment was deployed with (see deployment-record.ts), on its app containers or service. */
  settings: 'io.asrctl.settings',
} as const;

export type Role = 'app' | 'edge';

export interface DeploymentNames {
  project: string;
  network: string;
  edge: string;
  app: (color: Color) => string;
  /** DNS alias of each colour on the deployment's network (what the edge resolves). */
  appAlias: (color: Color) => string;
  appImage: string;
  edgeImage: string;
  lock: string;
  /** On Swarm: the services (a stack named after the project) and their overlay network. */
  appService: string;
  edgeService: string;
  overlay: string;
}

/** Project names become container, network and image names: Docker's rules, lower case. */
export const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]{0,40}$/u;

export function deploymentNames(project: string): DeploymentNames {
  return {
    project,
    network: `${project}_default`,
    edge: `${project}-edge-1`,
    app: (color) => `${project}-app-${color}`,
    appAlias: (color) => `app-${color}`,
    appImage: `asrctl/${project}-app`,
    edgeImage: `asrctl/${project}-edge`,
    lock: `${project}-deploy-lock`,
    appService: `${project}_app`,
    edgeService: `${project}_edge`,
    overlay: `${project}_swarm`,
  };
}

export function labelsFor(project: string, role: Role, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [LABELS.composeProject]: project,
    [LABELS.composeService]: role,
    [LABELS.composeOneoff]: 'False',
    [LABELS.project]: project,
    [LABELS.role]: role,
    ...extra,
  };
}
