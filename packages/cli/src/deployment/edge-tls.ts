import { readFile } from 'node:fs/promises';
import type { DeployConfig } from './deploy-config.js';

/** HAProxy's PEM with TLS: the certificate, then the key. */
export async function tlsPem(config: DeployConfig): Promise<string | undefined> {
  return config.tls
    ? `${(await readFile(config.tls.certPath, 'utf8')).trimEnd()}\n${(await readFile(config.tls.keyPath, 'utf8')).trimEnd()}\n`
    : undefined;
}
