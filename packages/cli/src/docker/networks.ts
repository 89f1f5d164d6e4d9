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
