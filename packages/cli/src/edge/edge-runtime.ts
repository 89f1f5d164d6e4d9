import { PollTimeoutError, pollUntil } from '@asrctl/server';
import { brief } from '../text/brief.js';
import type Docker from 'dockerode';
import { execIn } from '../docker/containers.js';
import { BACKEND, type Color, EDGE_ADMIN_SOCKET, isAppBackend, otherColor } from './haproxy-config.js';
import { CliError } from '../cli-error.js';

export interface EdgeServerState {
  /** UP, DOWN, DRAIN, MAINT, ... as HAProxy reports it (first word). */
  status: string;
  /** Open sessions (connections) on this server now. */
  sessions: number;
  weight: number;
}

/** One command on HAProxy's runtime API, through socat inside the edge container. */
export async function edgeCommand(docker: Docker, edge: string, command: string): Promise<string> {
  if (/['\n]/u.test(command)) throw new CliError('edge_failed', `refusing an edge command with a quote or newline: ${command}`);
  const result = await execIn(docker, edge, ['sh', '-c', `echo '${command}' | socat stdio unix-connect:${EDGE_ADMIN_SOCKET}`]);
  if (result.exitCode !== 0)
    throw new CliError(
      'edge_failed',
      `edge command "${command}" failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`,
    );
  return result.stdout;
}

interface StatRow {
  backend: string;
  server: Color;
  status: string;
  sessions: number;
  weight: number;
}

/** The edge's `show stat`: a row per frontend, backend and server, each by column name (pxname, svname, status, scur, ...). */
export async function edgeStats(docker: Docker, edge: string): Promise<{ csv: string; rows: Array<Record<string, string>> }> {
  const csv = await edgeCommand(docker, edge, 'show stat');
  const [head = '', ...lines] = csv.split('\n').filter((l) => l.trim());
  const header = head.replace(/^# /u, '').split(',');
  const rows = lines.map((line) => {
    const fields = line.split(',');
    return Object.fromEntries(header.map((name, i) => [name, fields[i] ?? '']));
  });
  return { csv, rows };
}

/** The app backends' server rows from `show stat`. */
async function appServerRows(docker: Docker, edge: string): Promise<StatRow[]> {
  const { csv, rows: stats } = await edgeStats(docker, edge);
  const rows: StatRow[] = [];
  for (const row of stats) {
    const backend = row.pxname ?? '';
    const server = row.svname;
    if (!isAppBackend(backend) || (server !== 'blue' && server !== 'green')) continue;
    rows.push({
      backend,
      server,
      status: (row.status ?? '').split(' ')[0] ?? '',
      sessions: Number(row.scur ?? 0),
      weight: Number(row.weight ?? 0),
    });
  }
  if (!rows.some((r) => r.backend === BACKEND))
    throw new CliError('edge_failed', `the edge's stats lack backend ${BACKEND}'s blue and green servers: ${brief(csv, 500)}`);
  return rows;
}

/**
 * Each colour as the edge sees it: health and weight from the main backend (every backend checks
 * the same /readyz), open sessions summed over every port's backend.
 */
export async function appServerStates(docker: Docker, edge: string): Promise<Record<Color, EdgeServerState>> {
  const rows = await appServerRows(docker, edge);
  const state = (color: Color): EdgeServerState => {
    const main = rows.find((r) => r.backend === BACKEND && r.server === color);
    return {
      status: main?.status ?? 'MISSING',
      weight: main?.weight ?? 0,
      sessions: rows.filter((r) => r.server === color).reduce((n, r) => n + r.sessions, 0),
    };
  };
  return { blue: state('blue'), green: state('green') };
}

/** Waits until the edge's own health check sees `color` UP (it routes nothing to it before). */
export async function waitUntilEdgeSeesUp(
  docker: Docker,
  edge: string,
  color: Color,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  await pollUntil(
    async () => (await appServerStates(docker, edge))[color].status,
    (status) => status === 'UP',
    {
      what: `the edge to see the ${color} app healthy`,
      timeoutMs,
      intervalMs: 250,
      ...(signal && { signal }),
      // What HAProxy last said of it (DOWN, MAINT, NOLB ...), so the operator knows where to look.
      timeoutError: (message, status) => new CliError('edge_failed', `${message} (HAProxy has it ${status})`),
    },
  );
}

/**
 * New connections go to `color`; the other colour keeps its open sessions but gets no new ones.
 * The new colour is given weight before the old one loses it, so no connection finds no server.
 */
export async function routeNewConnectionsTo(docker: Docker, edge: string, color: Color): Promise<void> {
  const backends = [...new Set((await appServerRows(docker, edge)).map((r) => r.backend))];
  for (const backend of backends) await edgeCommand(docker, edge, `set weight ${backend}/${color} 100`);
  for (const backend of backends) await edgeCommand(docker, edge, `set weight ${backend}/${otherColor(color)} 0`);
}

/** Waits until `color` has no open session left, the timeout passes or `signal` aborts; returns those left. */
export async function waitUntilDrained(
  docker: Docker,
  edge: string,
  color: Color,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const sessions = async (): Promise<number> => (await appServerStates(docker, edge))[color].sessions;
  return pollUntil(sessions, (left) => left === 0, {
    what: `the ${color} app's sessions to end`,
    timeoutMs,
    intervalMs: 500,
    ...(signal && { signal }),
  }).catch((err: unknown) => {
    if (err instanceof PollTimeoutError) return err.last as number;
    if (signal?.aborted) return sessions();
    throw err;
  });
}

/** One filled server slot of a Swarm edge: an app task's address as Docker's DNS gave it. */
export interface TaskServerState extends EdgeServerState {
  address: string;
}

/**
 * The app tasks a Swarm edge routes to: its main backend's filled slots (empty ones are in
 * maintenance with no address), open sessions summed over every port's backend.
 */
export async function taskServerStates(docker: Docker, edge: string): Promise<TaskServerState[]> {
  const byServer = new Map<string, TaskServerState>();
  const sessions = new Map<string, number>();
  for (const row of (await edgeStats(docker, edge)).rows) {
    const backend = row.pxname ?? '';
    const server = row.svname ?? '';
    if (!isAppBackend(backend) || !server.startsWith('task')) continue;
    sessions.set(server, (sessions.get(server) ?? 0) + Number(row.scur ?? 0));
    const address = (row.addr ?? '').replace(/:\d+$/u, '');
    const status = (row.status ?? '').split(' ')[0] ?? '';
    if (backend === BACKEND && status !== 'MAINT' && address && address !== '0.0.0.0')
      byServer.set(server, {
        address,
        status,
        weight: Number(row.weight ?? 0),
        sessions: 0,
      });
  }
  return [...byServer.entries()].map(([server, s]) => ({ ...s, sessions: sessions.get(server) ?? 0 }));
}

/**
 * Waits until the edge routes to `count` app tasks (each UP in its health check); `exactly`: and to
 * no more (after a scale down, the removed tasks' checks fail once they drain).
 */
export async function waitUntilEdgeSeesTasks(
  docker: Docker,
  edge: string,
  count: number,
  timeoutMs: number,
  { exactly = false }: { exactly?: boolean } = {},
): Promise<TaskServerState[]> {
  return pollUntil(
    // A just-started edge has no admin socket for a moment: not yet, rather than failed.
    async () => (await taskServerStates(docker, edge).catch(() => [])).filter((s) => s.status === 'UP'),
    (up) => (exactly ? up.length === count : up.length >= count),
    {
      what: `the edge to see ${count} healthy app tasks`,
      timeoutMs,
      intervalMs: 250,
      timeoutError: (message) => new CliError('edge_failed', message),
    },
  );
}
