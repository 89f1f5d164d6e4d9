import type Docker from 'dockerode';
import { engineStatus } from './engine.js';
import { containerTemplate } from './swarm.js';

/** A host path that a container or a Swarm service mounts. */
export interface HostMount {
  /** The path on the engine's host. */
  source: string;
  /** Where it appears inside. */
  target: string;
  /** What mounts it, as an error names it: `container "p-app-blue" (running)`, `Swarm service "p_app"`. */
  holder: string;
  /** The holder's labels (an asrctl deployment's carry its project). */
  labels: Record<string, string>;
}

/**
 * Every host path mounted by any container on this engine (running or not, asrctl's or not) and,
 * on a Swarm manager, by any service, in its current spec or the one a rollback returns to.
 */
export async function hostMounts(docker: Docker): Promise<HostMount[]> {
  const mounts: HostMount[] = [];
  for (const c of await docker.listContainers({ all: true })) {
    const holder = `container "${c.Names[0]?.replace(/^\//u, '') ?? c.Id.slice(0, 12)}" (${c.State})`;
    // Volumes count too: their Source is their directory on the host, and a local volume made
    // with `-o bind` (`--opt device=DIR`) mounts DIR itself.
    for (const m of c.Mounts) {
      const sources = [m.Source, ...(m.Type === 'volume' && m.Name ? [await boundDevice(docker, m.Name)] : [])];
      for (const source of sources) if (source) mounts.push({ source, target: m.Destination, holder, labels: c.Labels });
    }
  }
  for (const service of await swarmServices(docker)) {
    const holder = `Swarm service "${service.Spec?.Name ?? service.ID}"`;
    for (const spec of [service.Spec, service.PreviousSpec])
      for (const m of containerTemplate(spec)?.ContainerSpec?.Mounts ?? [])
        if (m.Type === 'bind' && m.Source)
          mounts.push({ source: m.Source, target: m.Target ?? '', holder, labels: service.Spec?.Labels ?? {} });
  }
  return mounts;
}

/** The Swarm's services; none when this engine is not a Swarm manager (503). */
async function swarmServices(docker: Docker): Promise<Docker.Service[]> {
  try {
    return (await docker.listServices({})) as Docker.Service[];
  } catch (err) {
    if (engineStatus(err) === 503) return [];
    throw err;
  }
}

/** The host directory a local volume binds (`--opt type=none --opt o=bind --opt device=DIR`), if it does. */
async function boundDevice(docker: Docker, volume: string): Promise<string | undefined> {
  const options = (await docker
    .getVolume(volume)
    .inspect()
    .catch(() => undefined)) as { Options?: Record<string, string> | null } | undefined;
  const o = options?.Options;
  return o?.device && /(^|,)bind(,|$)/u.test(o.o ?? '') ? o.device : undefined;
}
