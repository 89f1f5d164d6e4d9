import { randomBytes } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ZipFile } from 'yazl';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ModelServer, startModelServer, zipDirectory } from '../testing/model-server.js';
import type { DownloadProgress } from './download.js';
import { MANIFEST_FILE } from './model-manifest.js';
import { ModelStore } from './model-store.js';

const NAME = 'vosk-model-small-cn-0.22';

/**
 * A zip of the model in `model` under `evil/`, plus `extra` entries, each with its Unix mode (file
 * type and permissions) in the entry's external attributes, as zips made on Unix carry them.
 */
async function modelZipWith(model: string, extra: Record<string, { data: string; mode: number }>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const path of ['am/final.mdl', 'conf/model.conf', 'conf/fbank.conf', 'graph/HCLG.fst', 'graph/phones/word_boundary.int'])
    zip.addBuffer(await readFile(join(model, path)), `evil/${path}`);
  for (const [path, { data, mode }] of Object.entries(extra)) zip.addBuffer(Buffer.from(data), `evil/${path}`, { mode });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('ModelStore against a real HTTP server', () => {
  let server: ModelServer;
  let work: string;
  let zip: Buffer;
  let store: ModelStore;

  beforeAll(async () => {
    server = await startModelServer();
    work = await mkdtemp(join(tmpdir(), 'asrctl-models-'));
    // A tone model with 2 MiB of extra data, so a download can be cut in the middle.
    const model = join(work, 'source');
    await writeToneModel(model, { words: toneWordsFor('cn') });
    await mkdir(join(model, 'extra'));
    await writeFile(join(model, 'extra', 'padding.bin'), randomBytes(2 * 1024 * 1024));
    zip = await zipDirectory(model, NAME);
    server.serve(`/${NAME}.zip`, zip);
  });

  afterAll(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    store = new ModelStore(await mkdtemp(join(work, 'store-')));
    server.requests.length = 0;
  });

  afterEach(async () => {
    await rm(store.root, { recursive: true, force: true });
  });

  it('installs a catalog model from a mirror with progress, a manifest, and no network once present', async () => {
    const progress: DownloadProgress[] = [];
    const outcome = await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url }, { onProgress: (p) => progress.push(p) });
    expect(outcome).toMatchObject({ action: 'installed', downloadedBytes: zip.length, dir: join(store.root, NAME) });
    expect(server.requests).toEqual([{ path: `/${NAME}.zip` }]);
    expect(progress.at(-1)).toMatchObject({ transferredBytes: zip.length, totalBytes: zip.length });
    expect(progress.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(await stat(join(store.root, NAME, 'am', 'final.mdl'))).toBeTruthy();
    expect(await store.verify(NAME)).toEqual({ ok: true, files: expect.any(Number) as number });
    expect((await readdir(store.root)).sort()).toEqual(['.downloads', NAME]);
    expect(await readdir(join(store.root, '.downloads'))).toEqual([]);

    const again = await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url });
    expect(again.action).toBe('present');
    expect(server.requests).toHaveLength(1);
  });

  it('resumes with an HTTP Range after the server cuts the connection mid-file', async () => {
    const cut = Math.floor(zip.length / 2);
    server.cutNextAt(`/${NAME}.zip`, cut);
    const retries: number[] = [];
    const outcome = await store.pull(
      { name: NAME, source: { kind: 'url', url: `${server.url}/${NAME}.zip` } },
      { onRetry: (_attempt, _err, resumeAt) => retries.push(resumeAt) },
    );
    expect(outcome.action).toBe('installed');
    // It resumes from what reached the disk: up to the cut (bytes still buffered when the stream
    // failed are fetched again).
    expect(retries).toHaveLength(1);
    expect(retries[0]).toBeGreaterThan(cut / 2);
    expect(retries[0]).toBeLessThanOrEqual(cut);
    // Only while the file is the one the bytes came from (its ETag).
    expect(server.requests).toEqual([
      { path: `/${NAME}.zip` },
      { path: `/${NAME}.zip`, range: `bytes=${retries[0]}-`, ifRange: expect.stringMatching(/^"[0-9a-f]{16}"$/u) },
    ]);
    expect((await store.verify(NAME)).ok).toBe(true);
  }, 30_000);

  it('starts over when a resumed download is answered from another byte than the one asked for', async () => {
    const cut = Math.floor(zip.length / 2);
    server.cutNextAt(`/${NAME}.zip`, cut);
    server.misrangeNextFrom(`/${NAME}.zip`, 1000);
    const retries: number[] = [];
    const outcome = await store.pull(
      { name: NAME, source: { kind: 'url', url: `${server.url}/${NAME}.zip` } },
      { onRetry: (_attempt, _err, resumeAt) => retries.push(resumeAt) },
    );
    expect(outcome.action).toBe('installed');
    // The misranged answer was not appended: the third request fetches the whole file again.
    expect(retries).toHaveLength(2);
    expect(retries[1]).toBe(0);
    expect(server.requests.map((r) => r.range)).toEqual([undefined, `bytes=${retries[0]}-`, undefined]);
    expect((await store.verify(NAME)).ok).toBe(true);
  }, 30_000);

  it('starts over when the file on the mirror changed between attempts: If-Range with its ETag, or its size without one', async () => {
    // Before, the rest of the new file was appended to the start of the old one: not a valid zip.
    const changed = zip;
    // The same model with one more file: another zip, of another size.
    const source = join(work, 'source-changed');
    await cp(join(work, 'source'), source, { recursive: true });
    await writeFile(join(source, 'extra', 'more.txt'), 'more');
    const replacement = await zipDirectory(source, NAME);
    for (const validators of [true, false]) {
      const path = `/changing-${String(validators)}.zip`;
      server.serve(path, changed, { validators });
      server.cutNextAt(path, Math.floor(changed.length / 2));
      server.requests.length = 0;
      const outcome = await store.pull(
        { name: `changing-${String(validators)}`, source: { kind: 'url', url: `${server.url}${path}` } },
        { onRetry: () => server.serve(path, replacement, { validators }) },
      );
      expect(outcome.action).toBe('installed');
      if (validators) {
        // The second request names the first file; the server sends the new one whole.
        expect(server.requests[1]).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/u), ifRange: expect.stringMatching(/^"/u) });
        expect(server.requests).toHaveLength(2);
      } else {
        // Answered with the rest of a file of another size: started over.
        expect(server.requests.map((r) => r.range === undefined)).toEqual([true, false, true]);
      }
    }
  }, 30_000);

  it('retries a server error (503) and installs', async () => {
    server.failNextWith(`/${NAME}.zip`, 503);
    const retries: string[] = [];
    const outcome = await store.pull(
      { name: NAME, source: { kind: 'catalog' }, mirror: server.url },
      { onRetry: (_attempt, err) => retries.push(err.message) },
    );
    expect(outcome.action).toBe('installed');
    expect(retries).toEqual([`${server.url}/${NAME}.zip: HTTP 503`]);
    expect(server.requests).toHaveLength(2);
  }, 30_000);

  // Pulls go into the store the deploy reads, named: a pull into ./models would not help it.
  const offlineWays = (): string[] => [
    `asrctl deploy --model cn=/path/to/model`,
    `asrctl models pull ${NAME} --from /path/to/${NAME}.zip --models-dir ${store.root}`,
    'asrctl deploy --mirror URL',
    'asrctl models synth models/cn --lang cn',
  ];

  it("fails at once when the mirror's name does not resolve, and names the ways in without a download", async () => {
    const retries: number[] = [];
    const attempt = store.pull(
      { name: NAME, source: { kind: 'catalog' }, mirror: 'http://asrctl-no-such-mirror.invalid/vosk' },
      { onRetry: (n) => retries.push(n) },
    );
    const error = (await attempt.catch((err: unknown) => err)) as Error;
    expect(error.message).toMatch(/asrctl-no-such-mirror\.invalid.* failed: the host name does not resolve \(.*\); not retried/u);
    for (const way of offlineWays()) expect(error.message).toContain(way);
    expect(retries).toEqual([]);
    expect(await readdir(store.root)).toEqual(['.downloads']);
  });

  it('fails at once when nothing listens at the mirror (connection refused)', async () => {
    const closed = await startModelServer();
    await closed.close();
    const retries: number[] = [];
    const error = (await store
      .pull({ name: NAME, source: { kind: 'catalog' }, mirror: closed.url }, { onRetry: (n) => retries.push(n) })
      .catch((err: unknown) => err)) as Error;
    expect(error.message).toContain(`downloading ${closed.url}/${NAME}.zip failed: nothing accepts connections there`);
    for (const way of offlineWays()) expect(error.message).toContain(way);
    expect(retries).toEqual([]);
  });

  it('rejects a corrupt zip and keeps the installed model', async () => {
    await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url });
    const corrupt = Buffer.from(zip);
    corrupt.fill(0x42, 100, 4000);
    corrupt.fill(0, corrupt.length - 200);
    server.serve('/corrupt.zip', corrupt);
    await expect(store.pull({ name: NAME, source: { kind: 'url', url: `${server.url}/corrupt.zip` }, force: true })).rejects.toThrow(
      /is not a valid zip archive .* the installed model, if any, is unchanged/u,
    );
    expect(await store.verify(NAME)).toMatchObject({ ok: true });
    expect((await readdir(store.root)).sort()).toEqual(['.downloads', NAME]);
  });

  it('rejects a zip without a usable model, naming what is missing', async () => {
    const partial = join(work, 'partial');
    await writeToneModel(partial, { words: toneWordsFor('en') });
    await rm(join(partial, 'graph'), { recursive: true });
    server.serve('/partial.zip', await zipDirectory(partial, 'partial'));
    await expect(store.pull({ name: 'partial', source: { kind: 'url', url: `${server.url}/partial.zip` } })).rejects.toThrow(
      /does not hold a usable Vosk model[\s\S]*decoding graph missing: expected graph\/HCLG.fst/u,
    );
    expect(await readdir(store.root)).toEqual(['.downloads']);
  });

  it('installs from a local zip or directory without any network', async () => {
    const local = join(work, 'local.zip');
    await writeFile(local, zip);
    expect((await store.pull({ name: 'from-zip', source: { kind: 'local', path: local } })).action).toBe('installed');
    expect((await store.pull({ name: 'from-dir', source: { kind: 'local', path: join(work, 'source') } })).action).toBe('installed');
    // A source that is itself a link is read where it leads (links inside a model are refused).
    await symlink(join(work, 'source'), join(work, 'source-link'));
    expect((await store.pull({ name: 'from-link', source: { kind: 'local', path: join(work, 'source-link') } })).action).toBe('installed');
    const withFifo = join(work, 'with-fifo');
    await cp(join(work, 'source'), withFifo, { recursive: true });
    await execa('mkfifo', [join(withFifo, 'conf', 'pipe')]);
    await expect(store.pull({ name: 'from-fifo', source: { kind: 'local', path: withFifo } })).rejects.toThrow(
      `${withFifo} holds what a model never does: conf/pipe (a FIFO); only plain files are installed`,
    );
    await expect(store.pull({ name: 'from-none', source: { kind: 'local', path: join(work, 'nothing') } })).rejects.toThrow(
      `--from ${join(work, 'nothing')}: ENOENT: no such file or directory`,
    );
    expect(server.requests).toEqual([]);
    expect((await store.verify('from-dir')).ok).toBe(true);
  });

  it('takes a model name, never a path: rm, verify and pull refuse .., . and paths, and remove nothing', async () => {
    await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url });
    const beside = join(store.root, '..', `${store.root.split('/').pop()!}-beside.txt`);
    await writeFile(beside, 'keep');
    try {
      for (const name of ['..', '.', `../${store.root.split('/').pop()!}`, '/etc', `${NAME}/am`, '']) {
        await expect(store.remove(name)).rejects.toMatchObject({ code: 'invalid_model_name', exitCode: 2 });
        await expect(store.verify(name)).rejects.toThrow(/use letters, digits, \. - _ \(a model in .*, not a path\)/u);
        await expect(store.pull({ name, source: { kind: 'catalog' }, mirror: server.url })).rejects.toMatchObject({ code: 'invalid_model_name' });
      }
      expect(await readFile(beside, 'utf8')).toBe('keep');
      expect(await store.verify(NAME)).toMatchObject({ ok: true });
      // Before, removing what is not there said so and succeeded.
      await expect(store.remove('not-installed')).rejects.toMatchObject({
        code: 'model_not_installed',
        exitCode: 1,
        message: `not-installed is not installed in ${store.root} (installed: ${NAME}): nothing removed\n  hint: asrctl models list shows what is installed; check --models-dir (ASRCTL_MODELS_DIR)`,
      });
      // A directory that is no model (a --models-dir pointing at the wrong place) stays.
      await mkdir(join(store.root, 'docs'));
      await writeFile(join(store.root, 'docs', 'a.txt'), 'precious');
      await expect(store.remove('docs')).rejects.toMatchObject({ code: 'not_a_model', message: expect.stringMatching(/docs is not a model \(it holds none of asrctl-manifest.json, am\/final.mdl, conf\/model.conf\): not removed/u) as string });
      expect(await readFile(join(store.root, 'docs', 'a.txt'), 'utf8')).toBe('precious');
      await rm(join(store.root, 'docs'), { recursive: true });
      await store.remove(NAME);
      expect(await readdir(store.root)).toEqual(['.downloads']);
    } finally {
      await rm(beside, { force: true });
    }
  });

  it('refuses a zip holding a symbolic link (the server would read the host file it points to); verify flags one', async () => {
    await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url });
    server.serve('/evil.zip', await modelZipWith(join(work, 'source'), { 'graph/words.txt': { data: '/etc/passwd', mode: 0o120777 } }));
    await expect(store.pull({ name: NAME, source: { kind: 'url', url: `${server.url}/evil.zip` }, force: true })).rejects.toThrow(
      /evil.zip holds what a model never does: graph\/words.txt \(a symbolic link to \/etc\/passwd\); only plain files are installed/u,
    );
    expect(await store.verify(NAME)).toMatchObject({ ok: true });
    expect((await readdir(store.root)).sort()).toEqual(['.downloads', NAME]);

    // A link put into an installed model by hand.
    await rm(join(store.root, NAME, 'graph', 'words.txt'));
    await symlink('/etc/passwd', join(store.root, NAME, 'graph', 'words.txt'));
    expect(await store.verify(NAME)).toEqual({
      ok: false,
      problems: ['graph/words.txt (a symbolic link to /etc/passwd): not a plain file'],
    });
  });

  it('refuses a zip holding a FIFO, a device or a socket (unpacked, each would be a plain file), as it does a link', async () => {
    await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url });
    // File types in the entries' external attributes (S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK): any zip may claim them.
    const special = await modelZipWith(join(work, 'source'), {
      'conf/pipe': { data: '', mode: 0o010644 },
      'conf/tty': { data: '', mode: 0o020620 },
      'graph/disk': { data: '', mode: 0o060660 },
      'graph/words.txt': { data: '', mode: 0o140755 },
    });
    server.serve('/special.zip', special);
    const local = join(work, 'special.zip');
    await writeFile(local, special);
    const refusal = (source: string): string =>
      `${source} holds what a model never does: conf/pipe (a FIFO), conf/tty (a character device), graph/disk (a block device), graph/words.txt (a socket); only plain files are installed`;
    // Before, both installed them as empty plain files.
    await expect(store.pull({ name: NAME, source: { kind: 'url', url: `${server.url}/special.zip` }, force: true })).rejects.toThrow(
      refusal(`${server.url}/special.zip`),
    );
    await expect(store.pull({ name: 'from-special', source: { kind: 'local', path: local } })).rejects.toThrow(refusal(local));
    expect(await store.verify(NAME)).toMatchObject({ ok: true });
    expect((await readdir(store.root)).sort()).toEqual(['.downloads', NAME]);
  });

  it('pulls a model once at a time: another pull of it is refused while one runs; the lock of a dead one is taken over', async () => {
    const other = execa('sleep', ['30']);
    await mkdir(join(store.root, '.downloads'), { recursive: true });
    const lock = join(store.root, '.downloads', `${NAME}.lock`);
    await writeFile(lock, String(other.pid));
    await expect(store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url })).rejects.toThrow(
      `another pull of ${NAME} is running (pid ${other.pid}): wait for it to finish, then run this again`,
    );
    expect(server.requests).toEqual([]);
    other.kill();
    await other.catch(() => undefined);
    expect((await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url })).action).toBe('installed');
    expect(await readdir(join(store.root, '.downloads'))).toEqual([]);
  });

  it("removes the staging directories of pulls whose process is gone, not a running pull's", async () => {
    const gone = (await execa('sh', ['-c', 'echo $$'])).stdout;
    await mkdir(join(store.root, `.staging-${gone}-${NAME}-abc123`, 'model'), { recursive: true });
    await mkdir(join(store.root, `.staging-${process.pid}-${NAME}-def456`));
    await store.pull({ name: 'from-dir', source: { kind: 'local', path: join(work, 'source') } });
    expect((await readdir(store.root)).sort()).toEqual([`.downloads`, `.staging-${process.pid}-${NAME}-def456`, 'from-dir']);
  });

  it('verify finds a changed file; pull --force repairs it', async () => {
    await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url });
    await appendFile(join(store.root, NAME, 'conf', 'model.conf'), '--extra-option=1\n');
    const result = await store.verify(NAME);
    expect(result).toEqual({ ok: false, problems: [expect.stringMatching(/^conf\/model.conf changed/u)] });
    // A quick presence check sees the size change too: this is not "present".
    expect((await store.pull({ name: NAME, source: { kind: 'catalog' }, mirror: server.url })).action).toBe('replaced');
    expect((await store.verify(NAME)).ok).toBe(true);
    expect((await readdir(join(store.root, NAME))).includes(MANIFEST_FILE)).toBe(true);
  });
});

describe('ModelStore on a small filesystem (tmpfs, as root)', () => {
  let mount: string;
  let server: ModelServer;

  beforeAll(async () => {
    mount = await mkdtemp(join(tmpdir(), 'asrctl-small-fs-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]);
    server = await startModelServer();
  });

  afterAll(async () => {
    await server.close();
    await execa('umount', [mount]);
    await rm(mount, { recursive: true, force: true });
  });

  it('checks free disk before downloading a catalog model', async () => {
    const store = new ModelStore(mount);
    await expect(store.pull({ name: 'vosk-model-cn-0.22', source: { kind: 'catalog' }, mirror: server.url })).rejects.toThrow(
      /vosk-model-cn-0.22 needs about 3.1 GiB free in .* only [\d.]+ (KiB|MiB) is/u,
    );
    expect(server.requests).toEqual([]);
  });

  it('says the disk is full when it fills during a download, and installs nothing', async () => {
    server.serve('/big.zip', randomBytes(3 * 1024 * 1024));
    const store = new ModelStore(mount);
    await expect(store.pull({ name: 'big', source: { kind: 'url', url: `${server.url}/big.zip` } })).rejects.toThrow(/no space left for .*big.zip while downloading/u);
    expect((await readdir(mount)).filter((e) => !e.startsWith('.'))).toEqual([]);
  });

  it('says the disk is full when it fills while copying a local model, and installs nothing', async () => {
    const big = await mkdtemp(join(tmpdir(), 'asrctl-big-'));
    await writeToneModel(big, { words: toneWordsFor('en') });
    await writeFile(join(big, 'padding.bin'), Buffer.alloc(3 * 1024 * 1024));
    try {
      await expect(new ModelStore(mount).pull({ name: 'big-local', source: { kind: 'local', path: big } })).rejects.toMatchObject({
        code: 'disk_full',
        message: expect.stringMatching(/^no space left in .* while installing big-local: free some space/u) as string,
      });
      expect((await readdir(mount)).filter((e) => !e.startsWith('.'))).toEqual([]);
    } finally {
      await rm(big, { recursive: true, force: true });
    }
  });

  it('says the disk is full when it fills while unpacking, keeps the download, and unpacks it without fetching once space is freed', async () => {
    await rm(join(mount, '.downloads'), { recursive: true, force: true }); // the test before keeps its partial download
    // Zeros compress to almost nothing: the zip fits in 1 MiB, the model does not.
    const roomy = await mkdtemp(join(tmpdir(), 'asrctl-roomy-'));
    await writeToneModel(roomy, { words: toneWordsFor('en') });
    await writeFile(join(roomy, 'padding.bin'), Buffer.alloc(3 * 1024 * 1024));
    server.serve('/roomy.zip', await zipDirectory(roomy, 'roomy'));
    await rm(roomy, { recursive: true, force: true });
    server.requests.length = 0;
    const store = new ModelStore(mount);
    const pull = (): Promise<unknown> => store.pull({ name: 'roomy', source: { kind: 'url', url: `${server.url}/roomy.zip` } });
    await expect(pull()).rejects.toMatchObject({
      code: 'disk_full',
      message: expect.stringMatching(/^no space left in .* to unpack .*roomy.zip: free some space .* the download is kept/u) as string,
    });
    expect((await readdir(join(mount, '.downloads'))).sort()).toEqual(['roomy.zip', 'roomy.zip.source']);
    expect((await readdir(mount)).filter((e) => !e.startsWith('.'))).toEqual([]);

    await execa('mount', ['-o', 'remount,size=8m', mount]);
    expect(await pull()).toMatchObject({ action: 'installed', downloadedBytes: 0 });
    expect(server.requests).toHaveLength(1);
    expect(await readdir(join(mount, '.downloads'))).toEqual([]);
  });
});
