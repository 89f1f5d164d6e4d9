import type Docker from 'dockerode';
import { engineMessage, engineStatus } from './engine.js';
import type { RegistryAuth } from './registry-auth.js';

/** This engine's place in a Swarm: only a manager can create and update services. */
export interface SwarmFacts {
  state: 'inactive' | 'pending' | 'active' | 'error' | 'locked';
  isManager: boolean;
  nodeId: string;
  nodes: SwarmNode[];
}

export interface SwarmNode {
  id: string;
  hostname: string;
  address: string;
  /** ready, down, unknown, disconnected */
  state: string;
  /** active, pause, drain */
  availability: string;
  role: 'manager' | 'worker';
  memoryBytes: number;
  cpus: number;
}

interface NodeListing {
  ID: string;
  Description?: { Hostname?: string; Resources?: { MemoryBytes?: number; NanoCPUs?: number } };
  Status?: { State?: string; Addr?: string };
  Spec?: { Availability?: string; Role?: string };
}

export async function swarmFacts(docker: Docker): Promise<SwarmFacts> {
  const info = (await docker.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } };
  const state = (info.Swarm?.LocalNodeState ?? 'inactive') as SwarmFacts['state'];
  const isManager = info.Swarm?.ControlAvailable === true;
  const nodes = isManager
    ? ((await docker.listNodes()) as NodeListing[]).map((n) => ({
        id: n.ID,
        hostname: n.Description?.Hostname ?? n.ID.slice(0, 12),
        address: n.Status?.Addr ?? '',
        state: n.Status?.State ?? 'unknown',
        availability: n.Spec?.Availability ?? 'active',
        role: n.Spec?.Role === 'manager' ? ('manager' as const) : ('worker' as const),
        memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
        cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / 1e9,
      }))
    : [];
  return { state, isManager, nodeId: info.Swarm?.NodeID ?? '', nodes };
}

export type ServiceSpec = Docker.ServiceSpec;

/** Labels Swarm puts on the containers of its tasks. */
export const SWARM_LABELS = { service: 'com.docker.swarm.service.name', task: 'com.docker.swarm.task.id' } as const;

/** A container service's task template (plugin and attachment tasks have none of these). */
export function containerTemplate(spec: ServiceSpec | undefined): Docker.ContainerTaskSpec | undefined {
  const template = spec?.TaskTemplate;
  return template && 'ContainerSpec' in template ? template : undefined;
}

/** The image a service spec runs. */
export const specImage = (spec: ServiceSpec | undefined): string | undefined => containerTemplate(spec)?.ContainerSpec?.Image;

/** A service as the engine reports it, with the fields a deploy reads. */
export interface ServiceFacts {
  id: string;
  name: string;
  version: number;
  spec: ServiceSpec;
  previousSpec?: ServiceSpec;
  updateState?: Docker.UpdateState;
  updateMessage?: string;
  labels: Record<string, string>;
}

export async function inspectService(docker: Docker, name: string): Promise<ServiceFacts | undefined> {
  let s: Docker.Service;
  try {
    s = (await docker.getService(name).inspect()) as Docker.Service;
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    throw err;
  }
  return {
    id: s.ID,
    name: s.Spec?.Name ?? name,
    version: s.Version?.Index ?? 0,
    spec: s.Spec ?? {},
    ...(s.PreviousSpec && { previousSpec: s.PreviousSpec }),
    ...(s.UpdateStatus?.State && { updateState: s.UpdateStatus.State }),
    ...(s.UpdateStatus?.Message && { updateMessage: s.UpdateStatus.Message }),
    labels: s.Spec?.Labels ?? {},
  };
}

/** `auth`: the registry login nodes use to pull the image (as `docker service create --with-registry-auth`). */
export async function createService(docker: Docker, spec: ServiceSpec, auth?: RegistryAuth): Promise<void> {
  // dockerode takes the login first, as its runtime does (its types know only the spec).
  const create = docker.createService.bind(docker) as unknown as (...args: unknown[]) => Promise<unknown>;
  await (auth ? create(auth, spec) : create(spec));
}

/**
 * Replaces a service's spec (`version` guards against a concurrent change: the engine refuses a
 * stale one), or asks the engine to go back to the previous spec with `rollback`.
 */
export async function updateService(
  docker: Docker,
  service: ServiceFacts,
  spec: ServiceSpec,
  options: { rollback?: boolean; auth?: RegistryAuth } = {},
): Promise<void> {
  // dockerode would put the spec in the query string too: query and body are given apart.
  // dockerode takes the registry login from `authconfig` when given one argument.
  const request = {
    _query: { version: service.version, ...(options.rollback && { rollback: 'previous' }) },
    _body: spec,
    ...(options.auth && { authconfig: options.auth }),
  };
  await docker.getService(service.id).update(request as unknown as Docker.ServiceSpec);
}

export async function removeService(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getService(name).remove();
    return true;
  } catch (err) {
    if (engineStatus(err) === 404) return false;
    throw err;
  }
}

/** One task (a container slot) of a service, as the orchestrator sees it. */
export interface TaskFacts {
  id: string;
  slot?: number;
  nodeId: string;
  desiredState: string;
  /** new, pending, assigned, accepted, preparing, starting, running, complete, failed, shutdown, rejected, orphaned, remove */
  state: string;
  /** The orchestrator's reason, e.g. "invalid mount config for type "bind": bind source path does not exist". */
  error?: string;
  message: string;
  containerId?: string;
  image: string;
  /** Overlay addresses, without the prefix length. */
  addresses: string[];
  updatedAt: string;
  /** The service's ForceUpdate when this task was made (a restart bumps it). */
  forceUpdate: number;
  /** The labels of the spec it was made from (asrctl's spec hash tells an edge's versions apart). */
  labels: Record<string, string>;
}

interface TaskListing {
  ID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  UpdatedAt?: string;
  Version?: { Index?: number };
  Spec?: { ContainerSpec?: { Image?: string; Labels?: Record<string, string> }; ForceUpdate?: number };
  Status?: { State?: string; Message?: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
  NetworksAttachments?: Array<{ Addresses?: string[] }>;
}

export async function serviceTasks(docker: Docker, service: string): Promise<TaskFacts[]> {
  const tasks = (await docker.listTasks({ filters: { service: [service] } })) as TaskListing[];
  return tasks
    .map((t) => ({
      id: t.ID,
      ...(t.Slot !== undefined && { slot: t.Slot }),
      nodeId: t.NodeID ?? '',
      desiredState: t.DesiredState ?? '',
      state: t.Status?.State ?? 'unknown',
      ...(t.Status?.Err && { error: t.Status.Err }),
      message: t.Status?.Message ?? '',
      ...(t.Status?.ContainerStatus?.ContainerID && { containerId: t.Status.ContainerStatus.ContainerID }),
      image: t.Spec?.ContainerSpec?.Image ?? '',
      addresses: (t.NetworksAttachments ?? []).flatMap((n) => (n.Addresses ?? []).map((a) => a.replace(/\/\d+$/u, ''))),
      updatedAt: t.UpdatedAt ?? '',
      forceUpdate: t.Spec?.ForceUpdate ?? 0,
      labels: t.Spec?.ContainerSpec?.Labels ?? {},
    }))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

/** Swarm configs and secrets are immutable: a name carries a hash of its content, so a change is a new object. */
export async function ensureSwarmObject(
  docker: Docker,
  kind: 'config' | 'secret',
  name: string,
  data: string | Buffer,
  labels: Record<string, string>,
): Promise<{ id: string; name: string }> {
  const list =
    kind === 'config' ? await docker.listConfigs({ filters: { name: [name] } }) : await docker.listSecrets({ filters: { name: [name] } });
  const existing = (list as Array<{ ID: string; Spec?: { Name?: string } }>).find((o) => o.Spec?.Name === name);
  if (existing) return { id: existing.ID, name };
  const spec = { Name: name, Labels: labels, Data: Buffer.from(data).toString('base64') };
  try {
    const created = (kind === 'config' ? await docker.createConfig(spec) : await docker.createSecret(spec)) as { id?: string; ID?: string };
    return { id: created.id ?? created.ID ?? '', name };
  } catch (err) {
    throw new Error(`creating swarm ${kind} ${name} failed: ${engineMessage(err)}`, { cause: err });
  }
}

/** A Swarm config or secret. */
export interface SwarmObject {
  kind: 'config' | 'secret';
  id: string;
  name: string;
  remove(): Promise<void>;
}

/** Configs and secrets with these labels that no service refers to. */
export async function unusedSwarmObjects(docker: Docker, labels: Record<string, string>): Promise<SwarmObject[]> {
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  type Listing = Array<{ ID: string; Spec?: { Name?: string } }>;
  const objects: SwarmObject[] = [
    ...((await docker.listConfigs({ filters })) as Listing).map((o) => ({
      kind: 'config' as const,
      id: o.ID,
      name: o.Spec?.Name ?? o.ID,
      remove: async () => void (await docker.getConfig(o.ID).remove()),
    })),
    ...((await docker.listSecrets({ filters })) as Listing).map((o) => ({
      kind: 'secret' as const,
      id: o.ID,
      name: o.Spec?.Name ?? o.ID,
      remove: async () => void (await docker.getSecret(o.ID).remove()),
    })),
  ];
  const used = new Set(
    ((await docker.listServices({})) as Docker.Service[]).flatMap((service) =>
      [service.Spec, service.PreviousSpec].flatMap((spec) => {
        const c = containerTemplate(spec)?.ContainerSpec;
        return [...(c?.Configs ?? []).map((r) => r.ConfigID), ...(c?.Secrets ?? []).map((r) => r.SecretID)];
      }),
    ),
  );
  return objects.filter((o) => !used.has(o.id));
}

/** Removes the unused ones; one taken into use meanwhile is refused by the engine and kept. */
export async function removeUnusedSwarmObjects(docker: Docker, labels: Record<string, string>): Promise<string[]> {
  const removed: string[] = [];
  for (const o of await unusedSwarmObjects(docker, labels)) {
    try {
      await o.remove();
      removed.push(o.name);
    } catch (err) {
      if (engineStatus(err) !== 400 && engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err;
    }
  }
  return removed;
}

/** Creates an attachable overlay network unless it exists. */
export async function ensureOverlayNetwork(docker: Docker, name: string, labels: Record<string, string>): Promise<void> {
  try {
    const existing = (await docker.getNetwork(name).inspect()) as { Driver?: string };
    if (existing.Driver !== 'overlay')
      throw new Error(`network ${name} exists with driver ${existing.Driver ?? '?'}, not overlay: remove it (docker network rm ${name})`);
    return;
  } catch (err) {
    if (engineStatus(err) !== 404) throw err;
  }
  try {
    await docker.createNetwork({ Name: name, Driver: 'overlay', Attachable: true, Labels: labels, CheckDuplicate: true });
  } catch (err) {
    if (engineStatus(err) !== 409) throw err;
  }
}
