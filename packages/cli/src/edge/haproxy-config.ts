/** The two app slots of a blue/green deployment. */
export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];
export const otherColor = (c: Color): Color => (c === 'blue' ? 'green' : 'blue');

/** blue/green on one host: both colours listed, the active one weighted. */
export interface ColorUpstream {
  kind: 'colors';
  /** DNS name of each colour's app container on the deployment's network. */
  hosts: Record<Color, string>;
  /** The colour that takes new connections; the other one gets none (weight 0). */
  active: Color;
}

/**
 * Swarm: every healthy task of the app service, as Docker's DNS lists them under `tasks.NAME`
 * (a task is listed only once healthy, and unlisted before it is stopped). Slots are filled
 * and emptied as the answer changes, with no reload.
 */
export interface TaskUpstream {
  kind: 'tasks';
  dnsName: string;
  slots: number;
}

export interface EdgeSettings {
  /** Port HAProxy listens on inside its container (published on the host by the deploy). */
  listenPort: number;
  upstream: ColorUpstream | TaskUpstream;
  appPort: number;
  /** Ports (the same inside the edge and the app) where every path speaks that protocol. */
  protocolPorts: { vosk?: number; funasr?: number };
  /** PEM file (certificate, then key) inside the container, and its sha256; TLS is off without one. */
  tls?: { pemPath: string; sha256: string };
  /** Client CIDRs allowed to connect; everyone when empty. */
  allow: readonly string[];
  /** How long a drained WebSocket session may stay open through the edge after a reload or stop. */
  drainTimeoutSeconds: number;
}

/** Connections the edge holds at once, and per client address (behind no proxy, the app's own --max-connections and --max-connections-per-ip). */
export const EDGE_MAX_CONNECTIONS = 4096;
export const EDGE_MAX_CONNECTIONS_PER_IP = 64;

export const EDGE_CONFIG_PATH = '/usr/local/etc/haproxy/haproxy.cfg';
export const EDGE_TLS_PATH = '/usr/local/etc/haproxy/tls.pem';
export const EDGE_ADMIN_SOCKET = '/run/haproxy/admin.sock';
export const BACKEND = 'app';
/** Every backend is `app` or `app_<protocol>`: switching and draining treat them alike. */
export const isAppBackend = (name: string): boolean => name === BACKEND || name.startsWith(`${BACKEND}_`);

/**
 * haproxy.cfg for the edge. Both colours are always listed and health-checked on /readyz, so a
 * new colour is known to be UP before it gets traffic; switching sets weights through the runtime
 * API, and this file is rewritten with the same weights so a restarted edge comes back the same.
 */
export function renderHaproxyConfig(s: EdgeSettings): string {
  const tls = s.tls ? ` ssl crt ${s.tls.pemPath} alpn http/1.1` : '';
  const allow = s.allow.length > 0 ? [`    tcp-request connection reject unless { src ${s.allow.join(' ')} }`] : [];
  const listeners: Array<{ name: string; port: number; backend: string }> = [
    { name: 'asr', port: s.listenPort, backend: BACKEND },
    ...Object.entries(s.protocolPorts).map(([protocol, port]) => ({ name: protocol, port, backend: `${BACKEND}_${protocol}` })),
  ];
  const frontend = (l: (typeof listeners)[number]): string[] => [
    `frontend ${l.name}`,
    // HAProxy reads the certificate at start and reload: a new one must change this file to be reloaded.
    ...(s.tls ? [`    # certificate sha256 ${s.tls.sha256}`] : []),
    `    bind :${l.port}${tls}`,
    ...allow,
    // Open connections per client address, counted from the accept: one address cannot hold them all.
    '    stick-table type ipv6 size 100k expire 30s store conn_cur',
    '    tcp-request connection track-sc0 src',
    `    tcp-request connection reject if { sc_conn_cur(0) gt ${EDGE_MAX_CONNECTIONS_PER_IP} }`,
    `    default_backend ${l.backend}`,
    '',
  ];
  // Health is the app's readiness on its main port, whichever port a backend forwards to.
  const check = `check port ${s.appPort} inter 1s fall 2 rise 1 resolvers docker`;
  const servers = (port: number): string[] => {
    const u = s.upstream;
    if (u.kind === 'colors')
      return (['blue', 'green'] as const).map(
        (c) => `    server ${c} ${u.hosts[c]}:${port} weight ${c === u.active ? 100 : 0} ${check} init-addr last,libc,none`,
      );
    return [`    server-template task 1-${u.slots} ${u.dnsName}:${port} ${check} init-addr none resolve-prefer ipv4`];
  };
  const backend = (l: (typeof listeners)[number]): string[] => [
    `backend ${l.backend}`,
    '    balance leastconn',
    '    option httpchk GET /readyz',
    '    http-check expect status 200',
    // A connection that reaches a task as it stops (refused, or 503 while draining) is tried on another.
    // A task that is gone can instead leave an address that never answers, and a frozen one (a
    // stopped process, a stalled VM) accepts the connect and never replies: each is given up after
    // 1 s for the connect and 2 s for the answer to a request, an upgrade or any HTTP route (a live
    // task takes milliseconds for both), so the retry lands on another task before a client's
    // handshake timeout, not after 5 s or 60 s. Once upgraded, a session is a tunnel and
    // `timeout tunnel` applies instead.
    ...(s.upstream.kind === 'tasks'
      ? [
          '    retries 3',
          '    option redispatch 1',
          '    retry-on conn-failure empty-response response-timeout 503',
          '    timeout connect 1s',
          '    timeout server 2s',
        ]
      : []),
    ...servers(l.port === s.listenPort ? s.appPort : l.port),
    '',
  ];
  return [
    '# Written by asrctl deploy; changes are overwritten at the next deploy.',
    'global',
    `    stats socket ${EDGE_ADMIN_SOCKET} mode 600 level admin expose-fd listeners`,
    `    hard-stop-after ${s.drainTimeoutSeconds + 5}s`,
    `    maxconn ${EDGE_MAX_CONNECTIONS}`,
    '    user haproxy',
    '    group haproxy',
    // No log target: in the foreground (-db) HAProxy prints its warnings and alerts on stderr
    // itself; a `log stdout` target printed each of them a second time.
    '',
    'resolvers docker',
    '    nameserver dns 127.0.0.11:53',
    // Many tasks make an answer longer than 512 bytes.
    '    accepted_payload_size 8192',
    '    hold valid 1s',
    '    hold nx 1s',
    '    hold other 1s',
    '',
    'defaults',
    '    mode http',
    '    option forwardfor',
    '    timeout connect 5s',
    // Seconds, not minutes: a client that trickles its request (or its TLS handshake) is cut.
    '    timeout http-request 10s',
    '    timeout http-keep-alive 5s',
    '    timeout client 20s',
    '    timeout server 60s',
    // A WebSocket session is a tunnel once upgraded; live streams may last hours.
    '    timeout tunnel 4h',
    '    timeout client-fin 5s',
    '',
    ...listeners.flatMap(frontend),
    ...listeners.flatMap(backend),
  ].join('\n');
}
