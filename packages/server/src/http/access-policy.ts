import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { Access } from '../config.js';

export interface AccessRefusal {
  status: 401 | 403;
  /** Stable code, also the metric's reason label. */
  reason: 'ip_not_allowed' | 'origin_not_allowed' | 'unauthorized';
  message: string;
}

/**
 * Who may open a session: an address allowlist, a browser-origin allowlist and bearer tokens,
 * checked before the upgrade so a refused client never gets a session.
 */
export class AccessPolicy {
  private readonly addresses?: BlockList;
  private readonly tokenDigests: Buffer[];

  constructor(private readonly access: Access) {
    if (access.allowIps.length > 0) {
      const list = new BlockList();
      for (const range of access.allowIps) {
        const [address = '', bits] = range.split('/');
        const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
        if (bits === undefined) list.addAddress(address, type);
        else list.addSubnet(address, Number(bits), type);
      }
      this.addresses = list;
    }
    this.tokenDigests = access.tokens.map(digest);
  }

  check(req: IncomingMessage, clientAddress: string): AccessRefusal | undefined {
    const refusal = this.checkAddress(clientAddress);
    if (refusal) return refusal;
    const origin = req.headers.origin;
    if (this.access.allowOrigins.length > 0 && origin !== undefined && !this.access.allowOrigins.includes(origin))
      return { status: 403, reason: 'origin_not_allowed', message: `pages from ${origin} may not connect` };
    if (this.tokenDigests.length > 0) {
      const token = presentedToken(req);
      // Comparing digests keeps the comparison constant-time whatever the token's length.
      const presented = token === undefined ? undefined : digest(token);
      if (!presented || !this.tokenDigests.some((d) => timingSafeEqual(d, presented)))
        return {
          status: 401,
          reason: 'unauthorized',
          message: token === undefined ? 'a token is required: Authorization: Bearer TOKEN, or ?token=TOKEN' : 'the token is not valid',
        };
    }
    return undefined;
  }

  /** The address allowlist alone: it also covers plain HTTP (the page, /metrics), all but the probes. */
  checkAddress(clientAddress: string): AccessRefusal | undefined {
    if (!this.addresses) return undefined;
    // An IPv4 client of a dual-stack listener appears as ::ffff:a.b.c.d.
    const address = clientAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/u, '');
    const family = isIP(address);
    if (family === 0 || !this.addresses.check(address, family === 6 ? 'ipv6' : 'ipv4'))
      return { status: 403, reason: 'ip_not_allowed', message: `${address} is not an allowed client address` };
    return undefined;
  }
}

function presentedToken(req: IncomingMessage): string | undefined {
  const header = /^Bearer\s+(\S+)\s*$/iu.exec(req.headers.authorization ?? '')?.[1];
  return header ?? new URL(req.url ?? '/', 'http://localhost').searchParams.get('token') ?? undefined;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
