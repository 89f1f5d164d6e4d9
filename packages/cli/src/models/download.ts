import { createWriteStream } from 'node:fs';
import { rename, stat, truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import got, { type Progress } from 'got';

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

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
}

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
      return { bytes: total, resumed };
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      if (error.code === 'ENOSPC')
        throw new DownloadError(`no space left for ${dest} while downloading ${url}: free some space (the partial download is kept in ${part} and resumes next time)`, { cause: err });
      if (err instanceof DownloadError || attempt >= attempts || options.signal?.aborted)
        throw new DownloadError(`downloading ${url} failed after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${error.message}`, { cause: err });
      const resumeAt = await stat(part).then((s) => s.size, () => 0);
      options.onRetry?.(attempt, error, resumeAt);
      await new Promise((r) => setTimeout(r, backoff));
      backoff *= 2;
    }
  }
}

/** One request; resolves with the full size once `part` holds the whole body. */
async function fetchOnce(url: string, part: string, have: number, options: DownloadOptions): Promise<number> {
  const started = performance.now();
  const stream = got.stream(url, {
    headers: have > 0 ? { range: `bytes=${have}-` } : {},
    retry: { limit: 0 }, // attempts are ours: each one resumes from what arrived
    timeout: { connect: 15_000, response: 30_000, read: 60_000 },
    throwHttpErrors: false,
    ...(options.signal && { signal: options.signal }),
  });
  const response = await new Promise<{ statusCode: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  if (response.statusCode === 404) throw new DownloadError(`${url}: 404 Not Found (check the model name, or the mirror: --mirror, ASRCTL_MODEL_MIRROR)`);
  if (response.statusCode === 416 && have > 0) {
    // The part file is already complete (or longer than the file): start over.
    stream.destroy();
    await truncate(part, 0);
    throw new Error('the server refused the range; restarting the download');
  }
  if (response.statusCode >= 400) throw new DownloadError(`${url}: HTTP ${response.statusCode}`);
  const append = response.statusCode === 206;
  const offset = append ? have : 0;
  const length = Number(response.headers['content-length'] ?? Number.NaN);
  const total = Number.isFinite(length) ? offset + length : undefined;
  stream.on('downloadProgress', (p: Progress) => {
    const seconds = (performance.now() - started) / 1000;
    options.onProgress?.({ transferredBytes: offset + p.transferred, ...(total !== undefined && { totalBytes: total }), bytesPerSecond: seconds > 0 ? p.transferred / seconds : 0 });
  });
  await pipeline(stream, createWriteStream(part, { flags: append ? 'a' : 'w' }));
  const size = (await stat(part)).size;
  if (total !== undefined && size !== total) throw new Error(`the connection ended after ${size} of ${total} bytes`);
  return size;
}
