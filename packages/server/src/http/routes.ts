import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessRefusal } from './access-policy.js';
import type { ServerMetrics } from './metrics.js';
import { PACKAGE_ROOT } from '../package-root.js';

export interface Readiness {
  ready: boolean;
  status: 'loading' | 'ready' | 'draining' | 'failed';
  reason?: string;
  languages: string[];
}

export interface HttpDependencies {
  readiness(): Readiness;
  metrics: ServerMetrics;
  /** Whether this request may read /metrics (a token, when one is configured). */
  metricsAllowed(req: IncomingMessage): boolean;
  /** Why this client's address may not be served (--allow-ip), if it may not. */
  addressRefusal(req: IncomingMessage): AccessRefusal | undefined;
}

/** Plain HTTP on the WebSocket's port: the test page, liveness, readiness and metrics. */
export async function handleHttp(req: IncomingMessage, res: ServerResponse, deps: HttpDependencies): Promise<void> {
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return json(res, 400, { error: 'bad_request', message: 'not a valid request target' });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return json(res, 405, { error: 'method_not_allowed', message: `${req.method} is not supported; use GET` }, { allow: 'GET, HEAD' });
  }
  // Probes stay open to every address (Docker's health check, load balancers); the rest is the
  // server's, which --allow-ip keeps to its clients.
  const refusal = path === '/healthz' || path === '/readyz' ? undefined : deps.addressRefusal(req);
  if (refusal) return json(res, refusal.status, { error: refusal.reason, message: refusal.message });
  switch (path) {
    case '/':
    case '/index.html': {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        // Inline script and styles only; the audio worklet comes from a data: URL (see the page).
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline' data:; style-src 'unsafe-inline'; connect-src ws: wss:; base-uri 'none'; form-action 'none'",
      });
      res.end(req.method === 'HEAD' ? undefined : await testPage());
      return;
    }
    case '/healthz':
      return json(res, 200, { status: 'ok' });
    case '/readyz': {
      const r = deps.readiness();
      return json(res, r.ready ? 200 : 503, r);
    }
    case '/metrics': {
      if (!deps.metricsAllowed(req))
        return json(
          res,
          401,
          { error: 'unauthorized', message: '/metrics needs the metrics token: Authorization: Bearer TOKEN, or ?token=TOKEN' },
          { 'www-authenticate': 'Bearer' },
        );
      const body = await deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType, 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    default:
      return json(res, 404, {
        error: 'not_found',
        message: `no resource at ${path}; WebSocket clients connect to / (see docs/protocol.md)`,
      });
  }
}

let page: Promise<string> | undefined;

/** The browser test page, read once (page/index.html in the package root, beside dist/). */
function testPage(): Promise<string> {
  page ??= readFile(new URL('page/index.html', PACKAGE_ROOT), 'utf8');
  return page;
}

function json(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}
