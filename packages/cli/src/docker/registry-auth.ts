import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What the engine API takes as X-Registry-Auth: the engine never reads the CLI's login itself. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress: string;
}

/**
 * The login `docker login HOST` stored for a registry (in $DOCKER_CONFIG/config.json or
 * ~/.docker/config.json); anonymous when there is none. Credential helpers are not read.
 */
export async function registryAuth(registry: string): Promise<RegistryAuth> {
  const host = registry.split('/')[0]!;
  const file = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let auths: Record<string, { auth?: string }> = {};
  try {
    auths = (JSON.parse(await readFile(file, 'utf8')) as { auths?: typeof auths }).auths ?? {};
  } catch {
    return { serveraddress: host };
  }
  const encoded = (auths[host] ?? auths[`https://${host}`] ?? auths[`http://${host}`])?.auth;
  if (!encoded) return { serveraddress: host };
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: host };
}
