import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import got, { type Progress } from 'got';
import { CliError } from '../cli-error.js';

export interface DownloadProgress {
  transferredBytes: number;
  totalBytes?: number;
  bytesPerSecond: number;
}

export interface DownloadOptions {
  /** Attempts in all, resuming where the last one stopped. */
  attempts?: number;
  /** First backoff; doubles after each failed attempt. */
  backoffMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** Called when an attempt fails and another follows. */
  onRetry?: (attempt: number, error: Error, resumeAt: number) => void;
  signal?: AbortSignal;
}

export class DownloadError extends CliError {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    options?: ErrorOptions & {
      /** The host could not be reached at all (no name, nobody listening, no route): offline, or a wrong address. */
      unreachable?: boolean;
    },
  ) {
    super('download_failed', message, options);
    this.unreachable = options?.unreachable ?? false;
  }
  readonly unreachable: boolean;
}

/**
 * Failures a retry seconds later cannot heal: each attempt would fail the same way at once (an
 * offline host, a wrong mirror address). Timeouts, resets and 5xx answers are retried instead.
 */
const UNREACHABLE: Record<string, string> = {
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name cannot be resolved (no DNS server answers)',
  ECONNREFUSED: 'nothing accepts connections there',
  EHOSTUNREACH: 'the host cannot be reached (no route)',
  ENETUNREACH: 'the network cannot be reached (no route)',
  ENETDOWN: 'the network is down',
};

/**
 * Downloads `url` to `dest`. Bytes arrive in `dest.part`; after an interruption the next attempt
 * asks for the rest with an HTTP Range (a server that ignores it sends everything again, and the
 * part file is restarted). `dest` appears only when the whole body arrived.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<{ bytes: number; resumed: boolean }> {
  const part = `${dest}.part`;
  const attempts = options.attempts ?? 5;
  let backoff = options.backoffMs ?? 1000;
  let resumed = false;
  for (let attempt = 1; ; attempt++) {
    const have = await stat(part).then((s) => s.size, () => 0);
    try {
      const total = await fetchOnce(url, part, have, options);
      if (have > 0) resumed = true;
      await rename(part, dest);
      await rm(`${part}.origin`, { force: true });
      return { bytes: total, resumed };
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      if (error.code === 'ENOSPC')
        throw new DownloadError(`no space left for ${dest} while downloading ${url}: free some space (the partial download is kept in ${part} and resumes next time)`, { cause: err });
      const unreachable = error.code === undefined ? undefined : UNREACHABLE[error.code];
      if (unreachable)
        throw new DownloadError(`downloading ${url} failed: ${unreachable} (${error.message}); not retried, as no retry can heal that`, {
          cause: err,
          unreachable: true,
        });
      if (err instanceof DownloadError || attempt >= attempts || options.signal?.aborted)
        throw new DownloadError(`downloading ${url} failed after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${error.message}`, { cause: err });
      const resumeAt = await stat(part).then((s) => s.size, () => 0);
      options.onRetry?.(attempt, error, resumeAt);
      await new Promise((r) => setTimeout(r, backoff));
      backoff *= 2;
    }
  }
}

/**
 * What identifies the file the part file's bytes came from (beside it, as `.origin`): its ETag or
 * Last-Modified, sent as If-Range so that a server whose file changed sends it whole (resumed, it
 * would splice two files), and its size, which a server without either must still answer with.
 */
interface PartOrigin {
  validator?: string;
  size?: number;
}

async function readOrigin(part: string): Promise<PartOrigin> {
  return readFile(`${part}.origin`, 'utf8').then(
    (text) => JSON.parse(text) as PartOrigin,
    () => ({}),
  );
}

/** One request; resolves with the full size once `part` holds the whole body. */
async function fetchOnce(url: string, part: string, have: number, options: DownloadOptions): Promise<number> {
  const started = performance.now();
  const origin = have > 0 ? await readOrigin(part) : {};
  const stream = got.stream(url, {
    headers: have > 0 ? { range: `bytes=${have}-`, ...(origin.validator !== undefined && { 'if-range': origin.validator }) } : {},
    retry: { limit: 0 }, // attempts are ours: each one resumes from what arrived
    timeout: { connect: 15_000, response: 30_000, read: 60_000 },
    throwHttpErrors: false,
    ...(options.signal && { signal: options.signal }),
  });
  const response = await new Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  if (response.statusCode >= 400) stream.destroy();
  if (response.statusCode === 404) throw new DownloadError(`${url}: 404 Not Found (check the model name, or the mirror: --mirror, ASRCTL_MODEL_MIRROR)`);
  if (response.statusCode === 416 && have > 0) {
    // The part file is already complete (or longer than the file): start over.
    await truncate(part, 0);
    throw new Error('the server refused the range; restarting the download');
  }
  // A server error, a timeout or rate limit may pass: retried (with the bytes that arrived kept).
  if (response.statusCode >= 500 || response.statusCode === 408 || response.statusCode === 429)
    throw new Error(`${url}: HTTP ${response.statusCode}`);
  if (response.statusCode >= 400) throw new DownloadError(`${url}: HTTP ${response.statusCode}`);
  const append = response.statusCode === 206;
  // A server that answers another range than the one asked for, or of a file of another size
  // (changed, though it has no ETag or Last-Modified), would splice two files.
  const range = /^bytes (\d+)-\d+\/(\d+|\*)/u.exec(String(response.headers['content-range'] ?? ''));
  if (append && (Number(range?.[1]) !== have || (origin.size !== undefined && range?.[2] !== String(origin.size)))) {
    stream.destroy();
    await truncate(part, 0);
    throw new Error(
      Number(range?.[1]) !== have
        ? `the server answered the range from byte ${range?.[1] ?? '?'}, not ${have}; restarting the download`
        : `the file on the server changed size (${origin.size} bytes before, ${range?.[2] ?? '?'} now); restarting the download`,
    );
  }
  const offset = append ? have : 0;
  const length = Number(response.headers['content-length'] ?? Number.NaN);
  const total = Number.isFinite(length) ? offset + length : undefined;
  if (!append) {
    const { etag, 'last-modified': lastModified } = response.headers;
    // A weak ETag cannot be sent as If-Range.
    const validator = typeof etag === 'string' && !etag.startsWith('W/') ? etag : typeof lastModified === 'string' ? lastModified : undefined;
    await writeFile(`${part}.origin`, JSON.stringify({ ...(validator !== undefined && { validator }), ...(total !== undefined && { size: total }) }));
  }
  stream.on('downloadProgress', (p: Progress) => {
    const seconds = (performance.now() - started) / 1000;
    options.onProgress?.({ transferredBytes: offset + p.transferred, ...(total !== undefined && { totalBytes: total }), bytesPerSecond: seconds > 0 ? p.transferred / seconds : 0 });
  });
  await pipeline(stream, createWriteStream(part, { flags: append ? 'a' : 'w' }));
  const size = (await stat(part)).size;
  if (total !== undefined && size !== total) throw new Error(`the connection ended after ${size} of ${total} bytes`);
  return size;
}
