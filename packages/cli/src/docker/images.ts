import type Docker from 'dockerode';
import { engineStatus } from './engine.js';
import type { RegistryAuth } from './registry-auth.js';
import { CliError } from '../cli-error.js';

export interface ImageFacts {
  id: string;
  labels: Record<string, string>;
}

/** The image's facts, or undefined when the engine has no image by that name. */
export async function inspectImage(docker: Docker, name: string): Promise<ImageFacts | undefined> {
  try {
    const image = await docker.getImage(name).inspect();
    return { id: image.Id, labels: image.Config.Labels ?? {} };
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    throw err;
  }
}

export interface BuildRequest {
  /** Directory holding the Dockerfile and everything it copies. */
  contextDir: string;
  /** Top-level entries of contextDir sent to the engine (directories recursively). */
  entries: string[];
  dockerfile?: string;
  tag: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /** Ignore the layer cache (every step runs again). */
  noCache?: boolean;
  /** Cancels the build (the engine stops it when the request is aborted). */
  signal?: AbortSignal;
}

/** One line of build output (a step's own line, or what it printed), with the step it belongs to ("Step 3/9 : COPY ..."). */
export interface BuildProgress {
  step: string;
  line: string;
}

/**
 * A failed image build: the step that failed and the engine's reason; the step's last output too
 * unless it was already reported line by line (then the message would print it a second time).
 */
export class ImageBuildError extends CliError {
  override readonly name = 'ImageBuildError';
  constructor(
    readonly tag: string,
    readonly step: string,
    readonly detail: string,
    readonly output: string[],
    outputShown = false,
  ) {
    const tail = outputShown ? [] : output.slice(-15).map((l) => `    ${l}`);
    super(
      'image_build_failed',
      [`building ${tag} failed at ${step || 'the start'}: ${detail}`, ...(tail.length > 0 ? ['  its output:', ...tail] : [])].join('\n'),
    );
  }
}

/** The classic builder's bookkeeping between a step and its output: nothing an operator needs to read. */
const BUILDER_BOOKKEEPING = /^(?:\s*---> |Removing intermediate container |Successfully (?:built|tagged) )/u;

interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
  progress?: string;
}

/**
 * Builds an image and returns its id. The engine reports a failed step as an event in the
 * progress stream, not as an error response; that event becomes an ImageBuildError here.
 */
export async function buildImage(docker: Docker, request: BuildRequest, onProgress?: (p: BuildProgress) => void): Promise<string> {
  const stream = await docker.buildImage(
    { context: request.contextDir, src: request.entries },
    {
      t: request.tag,
      dockerfile: request.dockerfile ?? 'Dockerfile',
      buildargs: request.buildArgs ?? {},
      labels: request.labels ?? {},
      rm: true,
      forcerm: true,
      nocache: request.noCache ?? false,
      ...(request.signal && { abortSignal: request.signal }),
    },
  );
  let step = '';
  let stepOutput: string[] = [];
  let failure: string | undefined;
  let imageId: string | undefined;
  const onEvent = (event: BuildEvent): void => {
    if (event.errorDetail || event.error) failure = event.errorDetail?.message ?? event.error;
    if (event.aux?.ID) imageId = event.aux.ID;
    for (const line of (event.stream ?? event.status ?? '').split('\n')) {
      const trimmed = line.trimEnd();
      if (!trimmed || BUILDER_BOOKKEEPING.test(trimmed)) continue;
      if (/^Step \d+\/\d+ : /u.test(trimmed)) {
        step = trimmed;
        stepOutput = [];
      } else {
        stepOutput.push(trimmed);
      }
      onProgress?.({ step, line: trimmed });
    }
  };
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), onEvent);
  });
  if (failure !== undefined) throw new ImageBuildError(request.tag, step, failure, stepOutput, onProgress !== undefined);
  const built = await inspectImage(docker, request.tag);
  if (!built) throw new ImageBuildError(request.tag, step, 'the engine reported no error but the image is missing', stepOutput);
  return imageId ?? built.id;
}

/** Gives an image another name, e.g. `registry.example.com:5000/asr-app:abc` before a push. */
export async function tagImage(docker: Docker, source: string, target: string): Promise<void> {
  const at = target.lastIndexOf(':');
  const hasTag = at > target.lastIndexOf('/');
  await docker.getImage(source).tag({ repo: hasTag ? target.slice(0, at) : target, tag: hasTag ? target.slice(at + 1) : 'latest' });
}

/** Pushes an image to the registry its name starts with; like builds, failures arrive as progress events. */
export async function pushImage(docker: Docker, name: string, auth: RegistryAuth, onLine?: (line: string) => void): Promise<void> {
  let failure: string | undefined;
  try {
    const stream = await docker.getImage(name).push({ authconfig: auth });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: BuildEvent & { id?: string }) => {
          if (event.errorDetail || event.error) failure = event.errorDetail?.message ?? event.error;
          else if (event.status && !event.progress) onLine?.(`${event.id ? `${event.id}: ` : ''}${event.status}`);
        },
      );
    });
  } catch (err) {
    failure = (err as Error).message;
  }
  if (failure !== undefined)
    throw new CliError('image_push_failed', `pushing ${name} failed: ${failure}`, {
      hint: `check that the registry is reachable from this host and, for a registry without TLS, listed in the engine's insecure-registries`,
    });
}

/** Local images matching the filters (`reference`, `dangling`), as the engine lists them. */
export async function listImages(docker: Docker, filters: Record<string, string[]>): Promise<Array<{ id: string; tags: string[] }>> {
  return (await docker.listImages({ filters })).map((i) => ({ id: i.Id, tags: i.RepoTags ?? [] }));
}

/** Removes an image; one that is gone, or still in use (409), is kept without an error. */
export async function removeImage(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getImage(name).remove({});
  } catch (err) {
    if (engineStatus(err) !== 404 && engineStatus(err) !== 409) throw err;
  }
}

/** Pulls an image from its registry (the engine's own credentials). */
export async function pullImage(docker: Docker, image: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    docker.pull(image, (err: Error | null, stream: NodeJS.ReadableStream) => {
      if (err) return reject(err);
      docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
    });
  });
}

/** Imports a root filesystem tarball as `repo:tag`, with Dockerfile `changes` (CMD, ENV, ...). */
export async function importImage(
  docker: Docker,
  archive: NodeJS.ReadableStream,
  options: { repo: string; tag: string; changes: string[] },
): Promise<void> {
  const stream = await docker.importImage(archive, options as object);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
}
