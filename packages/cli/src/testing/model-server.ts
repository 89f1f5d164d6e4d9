import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZipFile } from 'yazl';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface ServedRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export interface ModelServer {
  url: string;
  requests: ServedRequest[];
  /**
   * Replace what a path serves, with a strong ETag (its hash) that If-Range is checked against, as
   * web servers do; `validators: false` sends neither ETag nor Last-Modified (a bare file server).
   */
  serve(path: string, body: Buffer, options?: { validators?: boolean }): void;
  /** The next response to `path` stops after this many bytes (the connection is closed). */
  cutNextAt(path: string, bytes: number): void;
  /** The next response to `path` is this HTTP status (a 503 from an overloaded server, say). */
  failNextWith(path: string, status: number): void;
  /** The next Range request to `path` is answered from this byte instead of the one asked for (a broken cache). */
  misrangeNextFrom(path: string, start: number): void;
  close(): Promise<void>;
}

/** A real HTTP server for download tests: Content-Length, Range requests (206), cut connections. */
export async function startModelServer(): Promise<ModelServer> {
  const bodies = new Map<string, Buffer>();
  const etags = new Map<string, string>();
  const cuts = new Map<string, number>();
  const failures = new Map<string, number>();
  const misranges = new Map<string, number>();
  const requests: ServedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const ifRange = req.headers['if-range'] as string | undefined;
    requests.push({ path, ...(req.headers.range && { range: req.headers.range }), ...(ifRange && { ifRange }) });
    const failure = failures.get(path);
    if (failure !== undefined) {
      failures.delete(path);
      res.writeHead(failure).end('try again later');
      return;
    }
    const body = bodies.get(path);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const etag = etags.get(path);
    // If-Range: the range only while the file is the one named; else the whole file (RFC 9110).
    const range = ifRange === undefined || ifRange === etag ? /^bytes=(\d+)-$/u.exec(req.headers.range ?? '') : null;
    const validator = etag === undefined ? {} : { etag };
    if (range) {
      start = misranges.get(path) ?? Number(range[1]);
      misranges.delete(path);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': body.length - start,
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'accept-ranges': 'bytes',
        ...validator,
      });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes', ...validator });
    }
    const cut = cuts.get(path);
    if (cut !== undefined) {
      cuts.delete(path);
      // End the TCP stream (FIN, not RST) so the client receives every byte before the cut.
      res.write(body.subarray(start, start + cut), () => res.socket?.end());
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    serve: (path, body, options = {}) => {
      bodies.set(path, body);
      if (options.validators === false) etags.delete(path);
      else etags.set(path, `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`);
    },
    cutNextAt: (path, bytes) => void cuts.set(path, bytes),
    failNextWith: (path, status) => void failures.set(path, status),
    misrangeNextFrom: (path, start) => void misranges.set(path, start),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A zip of `dir` under a top-level `prefix/` directory, as Vosk publishes its models. */
export async function zipDirectory(dir: string, prefix: string): Promise<Buffer> {
  const zip = new ZipFile();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) await walk(path);
      else zip.addBuffer(await readFile(path), `${prefix}/${relative(dir, path)}`, { mtime: new Date(0) });
    }
  };
  await walk(dir);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
