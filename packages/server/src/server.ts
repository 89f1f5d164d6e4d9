import { type IncomingMessage, type Server, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, type Socket, isIP } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ServerConfig } from './config.js';
import { Engine } from './engine/engine.js';
import { AccessPolicy } from './http/access-policy.js';
import { ServerMetrics } from './http/metrics.js';
import { type Readiness, handleHttp } from './http/routes.js';
import { type Logger, createLogger } from './logger.js';
import { PollTimeoutError, pollUntil } from './poll-until.js';
import { acceptAsrctlClient } from './protocol/asrctl-protocol.js';
import { type ProtocolName, resolveEndpoint } from './protocol/endpoints.js';
import { acceptVoskClient } from './protocol/vosk-protocol.js';
import { acceptFunasrClient } from './protocol/funasr-protocol.js';
import type { ClientConnection, ProtocolContext } from './protocol/connection.js';

const ACCEPT: Record<ProtocolName, (ws: WebSocket, context: ProtocolContext, language: string, model?: string) => ClientConnection> = {
  asrctl: acceptAsrctlClient,
  vosk: acceptVoskClient,
  funasr: acceptFunasrClient,
};

/** WebSocket close code sent on shutdown: "service restart", clients should reconnect. */
export const CLOSE_SERVICE_RESTART = 1012;

export class ServerStartError extends Error {
  override readonly name = 'ServerStartError';
}

/** An HTTP server of the service; `protocol` set: a port where every path speaks that protocol. */
interface Listener {
  http: Server;
  protocol?: Exclude<ProtocolName, 'asrctl'>;
}

/**
 * The speech recognition service: an HTTP server carrying the WebSocket protocols, the test page,
 * health, readiness and metrics (and optionally one port per foreign protocol). It listens before
 * the models are loaded so health checks answer while a large model loads; `ready` settles when
 * loading does.
 */
export class AsrServer {
  readonly ready: Promise<void>;
  private draining = false;
  private readonly connections = new Set<ClientConnection>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
    readonly engine: Engine,
    readonly metrics: ServerMetrics,
    private readonly listeners: Listener[],
  ) {
    this.ready = this.loadModels();
  }

  static async start(config: ServerConfig, logger: Logger = createLogger(config.logLevel)): Promise<AsrServer> {
    const engine = Engine.open({ libvoskPath: config.libvoskPath, voskLogLevel: config.voskLogLevel, logger });
    const metrics = new ServerMetrics(engine);
    // With a certificate every port speaks TLS (wss, https); an https server is an http one to us.
    // Seconds, not Node's minutes: a socket that trickles its request, or never completes a TLS
    // handshake, holds a file descriptor only this long. Node checks these every second.
    const timeoutMs = config.limits.requestTimeoutSeconds * 1000;
    const httpOptions = {
      headersTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      keepAliveTimeout: Math.min(timeoutMs, 5000),
      connectionsCheckingInterval: 1000,
    };
    const createServer = (): Server =>
      config.tls
        ? (createHttpsServer({
            ...httpOptions,
            cert: config.tls.cert,
            key: config.tls.key,
            handshakeTimeout: timeoutMs,
          }) as unknown as Server)
        : createHttpServer(httpOptions);
    const listeners: Listener[] = [{ http: createServer() }];
    for (const protocol of Object.keys(config.protocolPorts) as Array<Exclude<ProtocolName, 'asrctl'>>)
      listeners.push({ http: createServer(), protocol });
    try {
      for (const listener of listeners)
        await listen(listener.http, config, listener.protocol ? config.protocolPorts[listener.protocol]! : config.port);
    } catch (err) {
      for (const { http } of listeners) http.close();
      throw err;
    }
    const server = new AsrServer(config, logger, engine, metrics, listeners);
    server.attach();
    logger.info(
      {
        url: server.url,
        ...(listeners.length > 1 && {
          protocol_ports: Object.fromEntries(listeners.slice(1).map((l) => [l.protocol, (l.http.address() as AddressInfo).port])),
        }),
        models: config.models.map(([language, dir]) => `${language}=${dir}`),
        default_language: config.defaultLanguage,
        decode_threads: engine.decodeThreads,
      },
      'listening',
    );
    return server;
  }

  get port(): number {
    return (this.listeners[0]!.http.address() as AddressInfo).port;
  }

  /** The port of a protocol's own listener, if it has one. */
  portFor(protocol: Exclude<ProtocolName, 'asrctl'>): number | undefined {
    const listener = this.listeners.find((l) => l.protocol === protocol);
    return listener ? (listener.http.address() as AddressInfo).port : undefined;
  }

  get url(): string {
    const host = this.config.host === '0.0.0.0' || this.config.host === '::' ? 'localhost' : this.config.host;
    return `${this.config.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  readiness(): Readiness {
    const languages = this.engine.languages;
    if (this.draining) return { ready: false, status: 'draining', reason: 'the server is shutting down', languages };
    switch (this.engine.state) {
      case 'ready':
        return { ready: true, status: 'ready', languages };
      case 'loading':
        return {
          ready: false,
          status: 'loading',
          reason: `loading models: ${this.config.models.map(([language, dir]) => `${language}=${dir}`).join(', ')}`,
          languages,
        };
      default:
        return { ready: false, status: 'failed', reason: this.engine.loadError?.message ?? 'engine closed', languages };
    }
  }

  /**
   * Refuses new sessions (readiness turns 503, so a load balancer moves clients away), lets open
   * sessions go on for up to `sessionDrainMs`, then delivers the final result of every open
   * session's buffered audio, closes them with 1012, stops listening and frees the engine.
   * Sessions still decoding `timeoutMs` after that are closed with 1012 without their final.
   */
  async drain(timeoutMs = this.config.shutdownTimeoutMs, sessionDrainMs = this.config.sessionDrainMs): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.logger.info({ sessions: this.connections.size, session_drain_ms: sessionDrainMs, timeout_ms: timeoutMs }, 'draining');
    // Sessions still open when the drain ends are closed below.
    await pollUntil(
      () => this.connections.size,
      (open) => open === 0,
      { what: 'open sessions to end', timeoutMs: sessionDrainMs, intervalMs: 100 },
    ).catch((err: unknown) => {
      if (!(err instanceof PollTimeoutError)) throw err;
    });
    const flushed = Promise.all([...this.connections].map((c) => c.shutdown(CLOSE_SERVICE_RESTART, 'server shutting down')));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([flushed, timedOut])) === 'timeout') {
      this.logger.warn({ sessions: this.connections.size }, 'drain_timeout');
      // Audio still queued is not decoded, but clients learn why the session ends (1012, not a reset).
      for (const c of this.connections) c.abandon(CLOSE_SERVICE_RESTART, 'server shutting down: out of time to decode');
      await pollUntil(
        () => this.connections.size,
        (open) => open === 0,
        { what: 'closing handshakes', timeoutMs: 1000, intervalMs: 20 },
      ).catch(() => undefined);
    }
    clearTimeout(timer);
    const closed = Promise.all(this.listeners.map(({ http }) => new Promise<void>((resolve) => http.close(() => resolve()))));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    // Models still loading cannot be freed (nor the process exit: Node waits for libuv's pool) until
    // libvosk returns them.
    await this.ready.catch(() => undefined);
    await this.engine.close();
    this.logger.info({}, 'stopped');
  }

  private async loadModels(): Promise<void> {
    try {
      await this.engine.loadModels(this.config.models);
      for (const { name, language } of this.engine.modelList)
        this.metrics.modelLoaded(language, name, this.engine.modelNamed(name)!.model.loadSeconds);
      this.logger.info({ languages: this.engine.languages }, 'ready');
    } catch (err) {
      // Said once: /readyz reports it, and the process (run.ts) logs it as it exits.
      this.logger.debug({ message: (err as Error).message }, 'model_load_failed');
      throw err;
    }
  }

  private attach(): void {
    const context: ProtocolContext = {
      engine: this.engine,
      defaultLanguage: this.config.defaultLanguage,
      logger: this.logger,
      metrics: this.metrics,
      connections: this.connections,
      limits: this.config.limits,
      voskDefaults: this.config.voskDefaults,
    };
    const sessionsPerAddress = new AddressCounts();
    const access = new AccessPolicy(this.config.access);
    const { metricsTokens } = this.config.access;
    const metricsAccess =
      metricsTokens.length > 0 ? new AccessPolicy({ tokens: metricsTokens, allowIps: [], allowOrigins: [], metricsTokens: [] }) : undefined;
    const wss = new WebSocketServer({ noServer: true, maxPayload: this.config.maxMessageBytes, perMessageDeflate: false });
    // Refusals are logged at most once a second each kind, so a flood does not flood the log too.
    const logUpgradeRefusal = oncePerSecond();
    const logConnectionRefusal = oncePerSecond();
    const upgrade = (req: IncomingMessage, socket: Socket, head: Buffer, protocol: Listener['protocol']): void => {
      const endpoint = resolveEndpoint(
        req.url ?? '/',
        { languages: this.engine.languages, models: this.engine.modelList },
        this.config.defaultLanguage,
        protocol,
      );
      const refuse = (status: RefusalStatus, reason: string, message: string): void => {
        this.metrics.rejected(reason);
        // A browser sees none of this (its WebSocket reports 1006): the log is where an operator
        // learns why a page cannot connect.
        if (logUpgradeRefusal()) {
          const { origin } = req.headers;
          this.logger.warn(
            { status, reason, message, address: clientAddress(req, this.config.trustProxy), ...(origin && { origin }) },
            'upgrade_refused',
          );
        }
        refuseUpgrade(socket, status, reason, message);
      };
      // A path that names no endpoint, or no valid target at all, is refused whatever the state.
      if ('status' in endpoint && !('loadedModels' in endpoint)) return refuse(endpoint.status, endpoint.reason, endpoint.message);
      const readiness = this.readiness();
      if (!readiness.ready) return refuse(503, 'not_ready', `not ready (${readiness.status}): ${readiness.reason ?? ''}`);
      if ('status' in endpoint) return refuse(endpoint.status, endpoint.reason, endpoint.message);
      const address = clientAddress(req, this.config.trustProxy);
      const refusal = access.check(req, address);
      if (refusal) return refuse(refusal.status, refusal.reason, refusal.message);
      const { maxSessions, maxSessionsPerIp } = this.config.limits;
      if (this.connections.size >= maxSessions)
        return refuse(503, 'max_sessions', `the server is at its limit of ${maxSessions} sessions; try again later`);
      if (sessionsPerAddress.count(address) >= maxSessionsPerIp)
        return refuse(429, 'max_sessions_per_ip', `${address} already has ${maxSessionsPerIp} sessions open, the limit per address`);
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.once('close', sessionsPerAddress.add(address));
        try {
          ACCEPT[endpoint.protocol](ws, context, endpoint.language, endpoint.model);
        } catch (err) {
          // No recognizer could be made (e.g. out of memory): tell the client, keep serving others.
          this.logger.error({ message: (err as Error).message }, 'session_failed');
          ws.close(1011, 'could not start a recognition session');
        }
      });
    };
    const socketsPerAddress = new AddressCounts();
    const { maxConnections, maxConnectionsPerIp } = this.config.limits;
    // Counted from the TCP accept, before any request or upgrade: every socket holds a file descriptor.
    const accept = (socket: Socket): void => {
      const address = canonicalAddress(socket.remoteAddress ?? 'unknown');
      const held = socketsPerAddress.count(address);
      // Behind a trusted proxy every socket comes from the proxy: only the total applies.
      const reason =
        this.sockets.size >= maxConnections
          ? 'max_connections'
          : !this.config.trustProxy && held >= maxConnectionsPerIp
            ? 'max_connections_per_ip'
            : undefined;
      if (reason) {
        this.metrics.rejected(reason);
        if (logConnectionRefusal())
          this.logger.warn({ reason, address, open_sockets: this.sockets.size, max_connections: maxConnections }, 'connection_refused');
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      const release = socketsPerAddress.add(address);
      socket.once('close', () => {
        this.sockets.delete(socket);
        release();
      });
    };
    for (const { http, protocol } of this.listeners) {
      http.on('connection', accept);
      http.on('request', (req, res) => {
        handleHttp(req, res, {
          readiness: () => this.readiness(),
          metrics: this.metrics,
          metricsAllowed: (r) => metricsAccess === undefined || metricsAccess.check(r, '') === undefined,
          addressRefusal: (r) => access.checkAddress(clientAddress(r, this.config.trustProxy)),
        }).catch((err: unknown) => {
          this.logger.error({ message: (err as Error).message }, 'http_error');
          if (!res.headersSent) res.writeHead(500).end();
        });
      });
      http.on('upgrade', (req, socket: Socket, head: Buffer) => {
        // Node leaves an upgrading socket without an error listener: a client that resets the
        // connection while being refused would otherwise crash the process.
        socket.on('error', (err) => this.logger.debug({ message: err.message }, 'upgrade_socket_error'));
        try {
          upgrade(req, socket, head, protocol);
        } catch (err) {
          // Whatever a client sent, it must not throw out of this handler: that would end the process.
          this.logger.error({ message: (err as Error).message, stack: (err as Error).stack }, 'upgrade_failed');
          socket.destroy();
        }
      });
    }
  }
}

/** The client's address: the socket's peer, or behind a trusted proxy the entry it appended to X-Forwarded-For. */
function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').at(-1)?.trim();
  return canonicalAddress((trustProxy && last) || (req.socket.remoteAddress ?? 'unknown'));
}

/** How many of something (sessions, sockets) each client address holds now. */
class AddressCounts {
  private readonly counts = new Map<string, number>();

  count(address: string): number {
    return this.counts.get(address) ?? 0;
  }

  /** Counts one more for `address`; the function returned gives it back (once). */
  add(address: string): () => void {
    this.counts.set(address, this.count(address) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(address) - 1;
      if (left > 0) this.counts.set(address, left);
      else this.counts.delete(address);
    };
  }
}

/**
 * One text per address, for per-address accounting: IPv6 in its shortest form, and IPv4-mapped
 * IPv6 (`::ffff:10.7.7.7`, `::ffff:a07:707`) as the IPv4 address it is.
 */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  let short: string;
  try {
    short = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    // A zone index (fe80::1%eth0) is not URL syntax; such an address is kept as it is.
    return address;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/u.exec(short);
  if (!mapped) return short;
  const [high, low] = [Number.parseInt(mapped[1]!, 16), Number.parseInt(mapped[2]!, 16)];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

type RefusalStatus = 400 | 401 | 403 | 404 | 429 | 503;

const REASONS: Record<RefusalStatus, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answers an upgrade request with a plain HTTP error and `{"error": code, "message"}`: no session is created. */
function refuseUpgrade(socket: Socket, status: RefusalStatus, error: string, message: string): void {
  const reason = REASONS[status];
  const body = `${JSON.stringify({ error, message })}\n`;
  const retry = status === 503 || status === 429 ? 'Retry-After: 5\r\n' : '';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n${retry}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function listen(http: Server, config: ServerConfig, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = `${config.host}:${port}`;
      const hint =
        err.code === 'EADDRINUSE'
          ? `port ${port} is already in use by another process; stop it or choose another port (--port, --vosk-port, --funasr-port)`
          : err.code === 'EACCES'
            ? `no permission to listen on ${where}; use a port above 1023 or run with the needed privilege`
            : err.code === 'EADDRNOTAVAIL'
              ? `address ${config.host} is not on this machine; use --host 0.0.0.0 or a local address`
              : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
                ? `host name ${config.host} does not resolve to an address (${err.code}); use --host 0.0.0.0 or a local address`
                : err.message;
      reject(new ServerStartError(`cannot listen on ${where}: ${hint}`, { cause: err }));
    };
    http.once('error', onError);
    http.listen(port, config.host, () => {
      http.off('error', onError);
      resolve();
    });
  });
}

/** A gate that opens at most once a second: true when the caller may act now. */
function oncePerSecond(): () => boolean {
  let last = 0;
  return () => {
    if (Date.now() - last <= 1000) return false;
    last = Date.now();
    return true;
  };
}
