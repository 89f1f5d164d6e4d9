import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowHighClip, pcmBytes, synthesize } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_SERVICE_RESTART } from './server.js';
import { AsrctlClient } from './client/asrctl-client.js';
import { pollUntil } from './poll-until.js';
import { httpUrl, metric, startTestServer } from './testing/test-server.js';
import { type ToneModelSet, makeToneModels } from './testing/tone-models.js';

const MAIN = fileURLToPath(new URL('../dist/main.cjs', import.meta.url));
/** Two tones and no trailing silence: only a flush produces the final. */
const UNFINISHED = pcmBytes(synthesize([{ silence: 0.5 }, { tone: 500, seconds: 0.4 }, { silence: 0.3 }, { tone: 2000, seconds: 0.4 }]));

let models: ToneModelSet;
let heavy: ToneModelSet;

beforeAll(async () => {
  models = await makeToneModels();
  heavy = await makeToneModels({ heavy: true });
});
afterAll(async () => {
  await models.remove();
  await heavy.remove();
});

describe('server lifecycle', () => {
  it('listens before models load: /healthz 200, /readyz 503 and sessions refused until loaded', async () => {
    // A FIFO as the acoustic model: libvosk blocks reading it until the test writes the bytes.
    const dir = join(models.root, 'slow-en');
    await mkdir(join(dir, 'am'), { recursive: true });
    execFileSync('cp', ['-r', join(models.en, 'conf'), join(models.en, 'graph'), dir]);
    execFileSync('mkfifo', [join(dir, 'am', 'final.mdl')]);
    const server = await startTestServer({ en: dir }, { waitReady: false });
    try {
      expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
      const loading = await fetch(httpUrl(server, '/readyz'));
      expect(loading.status).toBe(503);
      expect(await loading.json()).toMatchObject({ ready: false, status: 'loading' });
      await expect(AsrctlClient.connect(server.url)).rejects.toThrow(/HTTP 503/);
    } finally {
      const fifo = createWriteStream(join(dir, 'am', 'final.mdl'));
      createReadStream(join(models.en, 'am', 'final.mdl')).pipe(fifo);
      await once(fifo, 'close');
    }
    await server.ready;
    expect((await fetch(httpUrl(server, '/readyz'))).status).toBe(200);
    await server.drain(1000);
  });

  it('answers HTTP while recognizers are busy: decoding runs off the main thread', async () => {
    const server = await startTestServer({ en: heavy.en });
    try {
      const client = await AsrctlClient.connect(server.url);
      await client.nextType('connection_established');
      // One 60 s frame: a single native call of over a second of CPU on the heavy model.
      client.ws.send(pcmBytes(synthesize([{ silence: 0.3 }, { tone: 500, seconds: 0.4 }, { silence: 60 }])));
      // The main thread serves /metrics while a decode call runs on a decode thread...
      const inFlight = await pollUntil(
        () => metric(server, 'asr_native_calls_in_flight'),
        (n) => n > 0,
        { timeoutMs: 10_000, intervalMs: 5, what: 'a native call in flight' },
      );
      expect(inFlight).toBe(1);
      // ...and /healthz too.
      expect((await fetch(httpUrl(server, '/healthz'))).status).toBe(200);
      expect(await client.nextFinal()).toMatchObject({ text: 'low' });
      await client.close();
    } finally {
      await server.drain(1000);
    }
  });

  it('drains: readiness turns 503, new sessions are refused, open sessions get their final then 1012', async () => {
    const server = await startTestServer({ cn: models.cn, en: heavy.en }, { defaultLanguage: 'en' });
    const client = await AsrctlClient.connect(server.url);
    await client.nextType('connection_established');
    client.sendAudio(UNFINISHED);
    // A backlog on the heavy model keeps the drain busy while we look at readiness.
    client.ws.send(pcmBytes(synthesize([{ silence: 30 }])));
    // Drain once the server has decoded the two tones (the backlog is still queued).
    await pollUntil(
      () => metric(server, 'asr_audio_seconds_total'),
      (seconds) => seconds >= 1.6,
      { what: '1.6 s of audio decoded', timeoutMs: 20_000, intervalMs: 10 },
    );
    const drained = server.drain(20_000);
    const ready = await fetch(httpUrl(server, '/readyz'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'draining' });
    await expect(AsrctlClient.connect(server.url)).rejects.toThrow(/HTTP 503/);
    await drained;
    expect(await client.closed).toBe(CLOSE_SERVICE_RESTART);
    expect(client.finals().map((f) => f.text)).toEqual(['low high']);
  });

  it('closes a session still decoding when the shutdown runs out of time with 1012, not a dropped connection', async () => {
    const server = await startTestServer({ en: heavy.en });
    const client = await AsrctlClient.connect(server.url);
    await client.nextType('connection_established');
    // Minutes of audio at once on the heavy model: far more than the drain below may take.
    for (let i = 0; i < 8; i++) client.ws.send(pcmBytes(synthesize([{ silence: 30 }])));
    await pollUntil(
      () => metric(server, 'asr_audio_seconds_total'),
      (seconds) => seconds > 0,
      { what: 'decoding to start', timeoutMs: 20_000, intervalMs: 10 },
    );
    await server.drain(200);
    expect(await client.closed).toBe(CLOSE_SERVICE_RESTART);
  });

  it('with a session drain, open sessions go on after SIGTERM until they end, or until the drain ends (final, then 1012)', async () => {
    const server = await startTestServer({ en: models.en }, { config: { sessionDrain: '4000' } });
    const leaving = await AsrctlClient.connect(server.url);
    const staying = await AsrctlClient.connect(server.url);
    await leaving.nextType('connection_established');
    await staying.nextType('connection_established');
    staying.sendAudio(UNFINISHED);
    const started = Date.now();
    const drained = server.drain(5000);
    expect((await fetch(httpUrl(server, '/readyz'))).status).toBe(503);
    await expect(AsrctlClient.connect(server.url)).rejects.toThrow(/HTTP 503/);
    // A session still recognizes during the drain, and may end by itself.
    await leaving.sendAudioInRealTime(pcmBytes(lowHighClip(16000)));
    leaving.send({ command: 'eof' });
    expect(await leaving.nextFinal()).toMatchObject({ text: 'low high' });
    expect(await leaving.close()).toBe(1000);
    await drained;
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(await staying.closed).toBe(CLOSE_SERVICE_RESTART);
    expect(staying.finals().map((f) => f.text)).toEqual(['low high']);
  });

  it('a session drain ends as soon as the last session closes', async () => {
    const server = await startTestServer({ en: models.en }, { config: { sessionDrain: '600000' } });
    const client = await AsrctlClient.connect(server.url);
    await client.nextType('connection_established');
    const drained = server.drain(5000);
    await new Promise((r) => setTimeout(r, 300));
    await client.close();
    // Resolves within the test's timeout, not after ten minutes.
    await drained;
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  return port;
}

/** The server as operators run it: a process, JSON logs on stdout. */
async function spawnServer(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; port: number; child: ReturnType<typeof spawn>; stdout: () => string; stderr: () => string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { url: `ws://127.0.0.1:${port}`, port, child, stdout: () => out, stderr: () => err };
}

async function waitForLog(get: () => string, event: string, child: ReturnType<typeof spawn>): Promise<void> {
  await pollUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}) before "${event}": ${get()}`);
      return get();
    },
    (log) => log.includes(`"event":"${event}"`),
    { what: `"${event}" in the log`, timeoutMs: 15_000, intervalMs: 50, timeoutError: (message, log) => new Error(`${message}: ${log}`) },
  );
}

describe('the server process', () => {
  it('on SIGTERM flushes finals, closes sessions with 1012, and exits 0', async () => {
    const server = await spawnServer(['--model', `cn=${models.cn}`, '--model', `en=${models.en}`]);
    await waitForLog(server.stdout, 'ready', server.child);
    const clients = await Promise.all([AsrctlClient.connect(server.url), AsrctlClient.connect(server.url)]);
    await Promise.all(clients.map((c) => c.nextType('connection_established')));
    clients[1]!.send({ command: 'switch_language', language: 'en' });
    await clients[1]!.nextType('language_switched');
    for (const c of clients) c.sendAudio(UNFINISHED);
    await Promise.all(clients.map((c) => c.next((m) => m.is_final === false && String(m.text).includes(' '), 'both words as a partial')));
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    expect(await Promise.all(clients.map((c) => c.closed))).toEqual([1012, 1012]);
    expect(clients.map((c) => c.finals().map((f) => f.text))).toEqual([['低 高'], ['low high']]);
    expect(clients[0]!.closeReason).toBe('server shutting down');
    const [code] = await exited;
    expect(code).toBe(0);
    const events = server
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; level: string; time: string });
    expect(events.map((e) => e.event)).toEqual(
      expect.arrayContaining(['listening', 'model_loaded', 'ready', 'session_opened', 'signal', 'draining', 'stopped']),
    );
    expect(events.every((e) => typeof e.time === 'string' && typeof e.level === 'string')).toBe(true);
  });

  it('refuses to start on a broken model, naming it, and exits 1', async () => {
    const dir = join(models.root, 'broken');
    await mkdir(join(dir, 'conf'), { recursive: true });
    await copyFile(join(models.en, 'conf', 'model.conf'), join(dir, 'conf', 'model.conf'));
    const server = await spawnServer(['--model', `en=${dir}`]);
    const [code] = await once(server.child, 'exit');
    expect(code).toBe(1);
    expect(server.stdout()).toMatch(/"event":"start_failed"/);
    expect(server.stdout()).toContain(`model directory ${dir} is not a usable Vosk model`);
    expect(server.stdout()).toContain('acoustic model missing: expected am/final.mdl or final.mdl');
    // Said once, with what to do.
    expect(server.stdout().match(/is not a usable Vosk model/gu)).toHaveLength(1);
    expect(server.stdout()).toContain('"hint":"give a complete model directory with --model LANG=DIR');
    await rm(dir, { recursive: true });
  });

  it('says when the port is taken and exits 1', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as { port: number };
    const child = spawn(process.execPath, [MAIN, '--host', '127.0.0.1', '--port', String(port), '--model', `en=${models.en}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    blocker.close();
    expect(code).toBe(1);
    expect(out).toContain(`port ${port} is already in use by another process`);
  });

  it('says when the host name does not resolve and exits 1', async () => {
    // Well-formed, so the configuration takes it; .invalid never resolves. Before: a bare "getaddrinfo ENOTFOUND".
    const child = spawn(process.execPath, [MAIN, '--host', 'asr.invalid', '--port', '0', '--model', `en=${models.en}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(out).toMatch(
      /cannot listen on asr\.invalid:0: host name asr\.invalid does not resolve to an address \((ENOTFOUND|EAI_AGAIN)\); use --host 0\.0\.0\.0/u,
    );
  });

  it("logs why it refused an upgrade (a browser's WebSocket sees only 1006), at most once a second", async () => {
    const server = await spawnServer(['--model', `en=${models.en}`, '--allow-origin', 'https://ok.example']);
    try {
      await waitForLog(server.stdout, 'ready', server.child);
      const started = Date.now();
      for (let i = 0; i < 20; i++)
        await expect(AsrctlClient.connect(server.url, { headers: { Origin: 'https://other.example' } })).rejects.toMatchObject({
          status: 403,
        });
      const seconds = (Date.now() - started) / 1000;
      await waitForLog(server.stdout, 'upgrade_refused', server.child);
      const lines = server
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"event":"upgrade_refused"'));
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 'warn',
        status: 403,
        reason: 'origin_not_allowed',
        origin: 'https://other.example',
        address: '127.0.0.1',
      });
      // One line a second at most, however many refusals: a flood does not flood the log.
      expect(lines.length).toBeLessThanOrEqual(1 + Math.ceil(seconds));
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  });

  it('logs a deprecation line for an environment variable read under its old name, and applies it', async () => {
    const server = await spawnServer(['--model', `en=${models.en}`], { ...process.env, ASR_IDLE_TIMEOUT_SECONDS: '1' });
    await waitForLog(server.stdout, 'ready', server.child);
    const line = server
      .stdout()
      .split('\n')
      .find((l) => l.includes('"event":"deprecated_env"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 'warn', variable: 'ASR_IDLE_TIMEOUT_SECONDS', use: 'ASR_IDLE_TIMEOUT' });
    const client = await AsrctlClient.connect(server.url);
    await client.nextType('connection_established');
    // Silent for the 1 s idle timeout set through the old name: the server closes with 1000.
    expect(await client.closed).toBe(1000);
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
  });

  it('rejects bad configuration with usage and exit 2', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', 'eighty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ASR_MODEL_CN: '', ASR_MODEL_EN: '' },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toContain('port "eighty": expected a whole number from 0 to 65535');
    expect(err).toContain('no model configured');
  });

  it('serves a session as a process too (lowHighClip sanity)', async () => {
    const server = await spawnServer(['--model', `en=${models.en}`, '--default-language', 'en']);
    await waitForLog(server.stdout, 'ready', server.child);
    const client = await AsrctlClient.connect(server.url);
    await client.nextType('connection_established');
    client.sendAudio(pcmBytes(lowHighClip()));
    expect(await client.nextFinal()).toMatchObject({ text: 'low high', language: 'en' });
    server.child.kill('SIGTERM');
    expect(await client.closed).toBe(1012);
    expect((await once(server.child, 'exit'))[0]).toBe(0);
  });
});
