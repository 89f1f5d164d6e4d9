import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { engineStatus } from './engine.js';

/** Creates a user-defined bridge network unless it exists (user networks give containers DNS names). */
export async function ensureNetwork(docker: Docker, name: string, labels: Record<string, string>): Promise<void> {
  try {
    await docker.getNetwork(name).inspect();
    return;
  } catch (err) {
    if (engineStatus(err) !== 404) throw err;
  }
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', Labels: labels, CheckDuplicate: true });
  } catch (err) {
    if (engineStatus(err) !== 409) throw err; // created meanwhile by a concurrent command
  }
}

/** Removes the network if it exists and nothing uses it any more. */
export async function removeNetwork(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (err) {
    if (engineStatus(err) !== 404) throw err;
  }
}

/**
 * Creates an internal network that serves as a named lock: its id when this caller holds the lock,
 * undefined when another does. The engine's duplicate check is best effort (two creations at the
 * same instant both succeed), so the oldest network of the name holds the lock, and a newer one is
 * removed again by its creator.
 */
export async function createLockNetwork(docker: Docker, name: string, labels: Record<string, string>): Promise<string | undefined> {
  let id: string;
  const started = Date.now();
  try {
    ({ id } = await docker.createNetwork({ Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: labels }));
  } catch (err) {
    if (engineStatus(err) === 409) return undefined;
    throw err;
  }
  const took = Date.now() - started;
  // A creation begun before ours (so older) may be listed only once it finishes, after our first
  // look: we hold the lock if we are still the oldest once such a creation would have finished.
  const oldest = async (): Promise<boolean> => (await lockNetwork(docker, name))?.id === id;
  if ((await oldest()) && (await sleep(Math.max(250, 2 * took)).then(oldest))) return id;
  await removeNetwork(docker, id).catch(() => undefined);
  return undefined;
}

/** The network holding the lock `name` (the oldest of that name), or undefined when there is none. */
export async function lockNetwork(docker: Docker, name: string): Promise<{ id: string; labels: Record<string, string> } | undefined> {
  // The engine's name filter matches parts of names too.
  const named = (await docker.listNetworks({ filters: { name: [name] } })).filter((n) => n.Name === name);
  const [oldest] = named.sort((a, b) => compareCreated(a.Created, b.Created) || a.Id.localeCompare(b.Id));
  return oldest && { id: oldest.Id, labels: oldest.Labels ?? {} };
}

/** Orders the engine's creation times to the nanosecond it gives (Date keeps only milliseconds). */
function compareCreated(a: string, b: string): number {
  const key = (t: string): [number, string] => {
    const [whole = '', rest = ''] = t.split('.');
    const fraction = /^\d*/u.exec(rest)![0];
    return [Date.parse(`${whole}${rest.slice(fraction.length) || 'Z'}`), fraction.padEnd(9, '0')];
  };
  const [sa, fa] = key(a);
  const [sb, fb] = key(b);
  return sa - sb || fa.localeCompare(fb);
}
