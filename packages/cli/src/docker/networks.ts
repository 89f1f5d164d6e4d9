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

/** Creates an internal network that serves as a named lock; false when one of that name exists. */
export async function createLockNetwork(docker: Docker, name: string, labels: Record<string, string>): Promise<boolean> {
  try {
    await docker.createNetwork({ Name: name, Driver: 'bridge', Internal: true, CheckDuplicate: true, Labels: labels });
    return true;
  } catch (err) {
    if (engineStatus(err) === 409) return false;
    throw err;
  }
}

/** A network's labels, or undefined when it does not exist (or cannot be read). */
export async function networkLabels(docker: Docker, name: string): Promise<Record<string, string> | undefined> {
  const network = (await docker
    .getNetwork(name)
    .inspect()
    .catch(() => undefined)) as { Labels?: Record<string, string> } | undefined;
  return network ? (network.Labels ?? {}) : undefined;
}

/** A network's id and labels, or undefined when it does not exist (or cannot be read). */
export async function inspectNetwork(docker: Docker, name: string): Promise<{ id: string; labels: Record<string, string> } | undefined> {
  const network = (await docker
    .getNetwork(name)
    .inspect()
    .catch(() => undefined)) as { Id: string; Labels?: Record<string, string> } | undefined;
  return network ? { id: network.Id, labels: network.Labels ?? {} } : undefined;
}
