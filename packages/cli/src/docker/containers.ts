import { basename, dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import { pack } from 'tar-stream';
import type Docker from 'dockerode';
import { engineStatus } from './engine.js';

export type HealthStatus = 'healthy' | 'unhealthy' | 'starting' | 'none';

export interface ContainerFacts {
  id: string;
  name: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  /** created, running, exited, ... */
  state: string;
  health: HealthStatus;
  /** The last health check's output, for errors. */
  healthLog: string;
  restartCount: number;
  startedAt: string;
  exitCode: number;
  /** Host port published for each container port ("8765/tcp" -> 49153). */
  ports: Record<string, number>;
  /** The host port each container port was created to publish on; a port left to the engine (a loopback probe port) is not here. */
  fixedPorts: Record<string, number>;
}

/** The container's facts, or undefined when it does not exist. */
export async function inspectContainer(docker: Docker, idOrName: string): Promise<ContainerFacts | undefined> {
  try {
    const c = await docker.getContainer(idOrName).inspect();
    const ports: Record<string, number> = {};
    for (const [port, bindings] of Object.entries(c.NetworkSettings.Ports ?? {})) {
      const hostPort = bindings?.[0]?.HostPort;
      if (hostPort) ports[port] = Number(hostPort);
    }
    const fixedPorts: Record<string, number> = {};
    for (const [port, bindings] of Object.entries(c.HostConfig.PortBindings ?? {}) as Array<
      [string, Array<{ HostPort?: string }> | null]
    >) {
      const hostPort = bindings?.[0]?.HostPort;
      if (hostPort) fixedPorts[port] = Number(hostPort);
    }
    const health = c.State.Health;
    return {
      id: c.Id,
      name: c.Name.replace(/^\//u, ''),
      image: c.Config.Image,
      imageId: c.Image,
      labels: c.Config.Labels ?? {},
      state: c.State.Status,
      health: (health?.Status as HealthStatus | undefined) ?? 'none',
      healthLog: health?.Log?.at(-1)?.Output?.trim() ?? '',
      restartCount: c.RestartCount,
      startedAt: c.State.StartedAt,
      exitCode: c.State.ExitCode,
      ports,
      fixedPorts,
    };
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    throw err;
  }
}

/** Every container (running or not) carrying all the given labels. */
export async function findContainers(docker: Docker, labels: Record<string, string>): Promise<ContainerFacts[]> {
  const list = await docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
  const facts = await Promise.all(list.map((c) => inspectContainer(docker, c.Id)));
  return facts.filter((f): f is ContainerFacts => f !== undefined);
}

/** Stops (SIGTERM, then SIGKILL after `graceSeconds`) and removes; absent containers are fine. */
export async function stopAndRemove(docker: Docker, idOrName: string, graceSeconds: number): Promise<void> {
  const container = docker.getContainer(idOrName);
  try {
    await container.stop({ t: graceSeconds });
  } catch (err) {
    const status = engineStatus(err);
    if (status === 404) return;
    if (status !== 304) throw err; // 304: already stopped
  }
  try {
    await container.remove({ force: true });
  } catch (err) {
    if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err; // 409: removal already in progress
  }
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in a running container and collects its output. */
export async function execIn(docker: Docker, idOrName: string, cmd: string[]): Promise<ExecResult> {
  const exec = await docker.getContainer(idOrName).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Copies one file into a container (which may be stopped), creating it or replacing it. */
export async function putFile(docker: Docker, idOrName: string, path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const tar = pack();
  tar.entry({ name: basename(path), mode, mtime: new Date(0) }, content);
  tar.finalize();
  await docker.getContainer(idOrName).putArchive(tar as unknown as NodeJS.ReadableStream, { path: dirname(path) });
}

/** Creates a container from a spec built as plain data (see targets/docker/*-spec.ts); returns its id. */
export async function createContainer(docker: Docker, spec: Docker.ContainerCreateOptions): Promise<string> {
  return (await docker.createContainer(spec)).id;
}

export async function startContainer(docker: Docker, idOrName: string): Promise<void> {
  await docker.getContainer(idOrName).start();
}

/** Stops a container and keeps it (SIGTERM, then SIGKILL after `graceSeconds`). */
export async function stopContainer(docker: Docker, idOrName: string, graceSeconds: number): Promise<void> {
  await docker.getContainer(idOrName).stop({ t: graceSeconds });
}

/** Sends a signal to a container's main process. */
export async function signalContainer(docker: Docker, idOrName: string, signal: string): Promise<void> {
  await docker.getContainer(idOrName).kill({ signal });
}

/** A running container and the TCP ports it publishes on the host. */
export interface PublishingContainer {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  tcpHostPorts: number[];
}

/** Every running container with the host ports it publishes. */
export async function runningContainers(docker: Docker): Promise<PublishingContainer[]> {
  return (await docker.listContainers({})).map((c) => ({
    id: c.Id,
    name: c.Names[0]?.replace(/^\//u, '') ?? c.Id.slice(0, 12),
    image: c.Image,
    labels: c.Labels,
    tcpHostPorts: c.Ports.filter((p) => p.Type === 'tcp' && p.PublicPort !== undefined).map((p) => p.PublicPort),
  }));
}

/** What every container (running or not) was created from: the image ids, and the references as given (`asrctl/p-app:TAG`). */
export async function containerImages(docker: Docker): Promise<{ ids: Set<string>; refs: Set<string> }> {
  const list = await docker.listContainers({ all: true });
  return { ids: new Set(list.map((c) => c.ImageID)), refs: new Set(list.map((c) => c.Image)) };
}

/** The labels of every container (running or not) carrying all the given labels, from the list alone (no inspect). */
export async function containerLabels(docker: Docker, labels: Record<string, string>): Promise<Array<Record<string, string>>> {
  const list = await docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
  return list.map((c) => c.Labels);
}
