import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ZipFile } from 'yazl';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface ServedRequest {
  path: string;
  range?: string;
}

export interface ModelServer {
  url: string;
  requests: ServedRequest[];
  /** Replace what a path serves. */
  serve(path: string, body: Buffer): void;
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
  const cuts = new Map<string, number>();
  const failures = new Map<string, number>();
  const misranges = new Map<string, number>();
  const requests: ServedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, ...(req.headers.range && { range: req.headers.range }) });
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
    const range = /^bytes=(\d+)-$/u.exec(req.headers.range ?? '');
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
      });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
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
    serve: (path, body) => void bodies.set(path, body),
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
