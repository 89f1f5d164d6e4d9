import type Docker from 'dockerode';
import { type ContainerFacts, findContainers } from '../../docker/containers.js';
import { appServerStates } from '../../edge/edge-runtime.js';
import type { Color } from '../../edge/haproxy-config.js';
import { type DeploymentNames, LABELS } from '../../deployment/deployment-names.js';
import { APP_PORT } from '../../deployment/ports.js';
import { SWARM_LABELS } from '../../docker/swarm.js';
import { brief } from '../../text/brief.js';

/**
 * The project's containers that are this target's: not Swarm's task containers (they carry the
 * project's labels too, e.g. on a worker node). Those are Swarm's to stop and replace; a container
 * stopped here is restarted by Swarm, and its sessions are cut.
 */
export async function plainContainers(docker: Docker, names: DeploymentNames): Promise<ContainerFacts[]> {
  const containers = await findContainers(docker, { [LABELS.project]: names.project });
  return containers.filter((c) => c.labels[SWARM_LABELS.task] === undefined);
}

/**
 * What is deployed under a project name, found by labels:
 * - fresh: nothing;
 * - update: a serving deployment (blue/green: a running edge routing to a healthy app; recreate:
 *   one healthy app holding the port), perhaps with containers beside it that do not serve (notes);
 * - broken: something else (listed in `problems`); a deploy repairs it, stopping nothing that serves.
 */
export interface DeploymentState {
  kind: 'fresh' | 'update' | 'broken';
  edge?: ContainerFacts;
  apps: Array<ContainerFacts & { color: Color }>;
  /** The colour that serves now, if any. */
  active?: Color;
  /** blue-green when an edge holds the port, recreate when an app holds it itself; swarm: services. */
  shape?: 'blue-green' | 'recreate' | 'swarm';
  /** Why nothing serves (or not as it should). */
  problems: string[];
  /**
   * Containers beside a serving deployment that do not serve: a deploy's new app still starting,
   * what a switch keeps stopped to go back to, what a killed deploy left. The next deploy replaces them.
   */
  notes: string[];
}

export async function assessDeployment(docker: Docker, names: DeploymentNames): Promise<DeploymentState> {
  const containers = await plainContainers(docker, names);
  const edge = containers.find((c) => c.labels[LABELS.role] === 'edge');
  const apps = containers
    .filter((c) => c.labels[LABELS.role] === 'app')
    .map((c) => ({ ...c, color: c.labels[LABELS.color] as Color }))
    .filter((c) => c.color === 'blue' || c.color === 'green');
  if (!edge && apps.length === 0) return { kind: 'fresh', apps, problems: [], notes: [] };

  const problems: string[] = [];
  const notes: string[] = [];
  const healthy = (color: Color): boolean => apps.some((a) => a.color === color && a.state === 'running' && a.health === 'healthy');
  // Only an app created to hold the public port serves without an edge: a blue-green app has a loopback probe port only.
  const healthyApps = apps.filter((a) => a.state === 'running' && a.health === 'healthy');
  const holdingPort = healthyApps.find((a) => a.fixedPorts[`${APP_PORT}/tcp`] !== undefined)?.color;
  let active: Color | undefined;
  let shape: DeploymentState['shape'];
  if (edge && edge.state !== 'running' && holdingPort) {
    // A switch to recreate keeps the old edge stopped until the new app is verified (or a killed deploy left it).
    shape = 'recreate';
    active = holdingPort;
    notes.push(`the edge ${edge.name} is ${edge.state} and not serving`);
  } else if (edge) {
    shape = 'blue-green';
    if (edge.state !== 'running') problems.push(`the edge ${edge.name} is ${edge.state}`);
    else {
      try {
        const servers = await appServerStates(docker, edge.id);
        active = (['blue', 'green'] as const).find((c) => servers[c].weight > 0 && healthy(c));
        if (!active) problems.push('the edge routes to no healthy app');
        // A healthy app the edge's own check cannot reach (its name no longer resolves, say): 503s.
        else if (servers[active].status !== 'UP')
          problems.push(`the edge cannot reach ${active} (HAProxy has it ${servers[active].status}): new connections get 503`);
      } catch (err) {
        problems.push(`the edge does not answer its runtime API: ${brief((err as Error).message)}`);
      }
    }
  } else {
    shape = 'recreate';
    active = holdingPort;
    if (!active)
      problems.push(
        healthyApps.length > 0
          ? `no edge, and ${healthyApps.map((a) => a.name).join(', ')} ${healthyApps.length === 1 ? 'does' : 'do'} not publish the public port (${healthyApps.length === 1 ? 'it was' : 'they were'} started behind an edge)`
          : 'no app container is running and healthy',
      );
  }
  for (const app of apps) {
    if (app.color === active) continue;
    (active ? notes : problems).push(`${app.name} is ${app.state}${app.health !== 'none' ? ` (${app.health})` : ''} and not serving`);
  }
  return {
    kind: active && problems.length === 0 ? 'update' : 'broken',
    ...(edge && { edge }),
    apps,
    ...(active && { active }),
    ...(shape && { shape }),
    problems,
    notes,
  };
}
