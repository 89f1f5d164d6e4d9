import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeWav, lowHighClip, synthesize } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '@asrctl/server';
import { startModelServer, zipDirectory } from './testing/model-server.js';

const ASRCTL = fileURLToPath(new URL('../dist/main.cjs', import.meta.url));
const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `asrctl ARGS` as a user would; never throws on a non-zero exit. */
async function asrctl(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [ASRCTL, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  return port;
}

let dir: string;
let url: string;
let serve: ReturnType<typeof spawn>;
let serveLog = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asrctl-cli-'));
  // The README's demo: the clip `models synth --clip` writes (as `pnpm start` does) is what transcribe reads.
  const cn = await asrctl('models', 'synth', join(dir, 'cn'), '--lang', 'cn', '--clip', join(dir, 'demo', 'low-high.wav'));
  expect(cn).toMatchObject({ code: 0 });
  expect(cn.stdout).toContain('low-high.wav: "低 高"');
  const en = await asrctl('models', 'synth', join(dir, 'en'));
  expect(en.stdout).toContain('low=500 Hz, mid=1000 Hz, high=2000 Hz');
  const port = await freePort();
  url = `ws://127.0.0.1:${port}`;
  serve = spawn(
    process.execPath,
    [
      ASRCTL,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--model',
      `cn=${join(dir, 'cn')}`,
      '--model',
      `en=${join(dir, 'en')}`,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  serve.stdout!.on('data', (d: Buffer) => (serveLog += d.toString()));
  await pollUntil(
    () => serveLog,
    (log) => log.includes('"event":"ready"'),
    { what: 'asrctl serve to be ready', timeoutMs: 10_000, intervalMs: 50 },
  );
  expect(serveLog).toContain('"event":"ready"');
});

afterAll(async () => {
  if (serve.exitCode === null) {
    serve.kill('SIGTERM');
    await once(serve, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
});

describe('asrctl transcribe against asrctl serve', () => {
  it('prints the final on stdout: the demo clip of models synth --clip', async () => {
    const wav = join(dir, 'demo', 'low-high.wav');
    expect(await asrctl('transcribe', wav, '--url', url)).toMatchObject({ code: 0, stdout: '低 高\n' });
    expect(await asrctl('transcribe', wav, '--url', url, '--language', 'en')).toMatchObject({ code: 0, stdout: 'low high\n' });
  });

  it('takes 48 kHz stereo, switches language, and prints JSON with word times', async () => {
    const mono = lowHighClip(48000);
    const stereo = new Int16Array(mono.length * 2);
    mono.forEach((v, i) => {
      stereo[2 * i] = v;
      stereo[2 * i + 1] = v;
    });
    const wav = join(dir, 'stereo48.wav');
    await writeFile(wav, encodeWav(stereo, 48000, 2));
    const out = await asrctl('transcribe', wav, '--url', url, '--language', 'en', '--json', '--words');
    expect(out.code).toBe(0);
    const final = JSON.parse(out.stdout) as { text: string; language: string; words: Array<{ word: string }> };
    expect(final).toMatchObject({ text: 'low high', language: 'en' });
    expect(final.words.map((w) => w.word)).toEqual(['low', 'high']);
  });

  it('with --language auto, prints each final with the language the server chose', async () => {
    const wav = join(dir, 'low-high.wav');
    await writeFile(wav, encodeWav(lowHighClip(), 16000));
    // Both tone models hear these tones: a tie keeps the session's language before auto (cn).
    expect(await asrctl('transcribe', wav, '--url', url, '--language', 'auto')).toMatchObject({ code: 0, stdout: '[cn] 低 高\n' });
  });

  it('delivers trailing audio with no endpoint (eof flushes it)', async () => {
    const wav = join(dir, 'trailing.wav');
    await writeFile(wav, encodeWav(synthesize([{ silence: 0.3 }, { tone: 1000, seconds: 0.4 }]), 16000));
    expect(await asrctl('transcribe', wav, '--url', url)).toMatchObject({ code: 0, stdout: '中\n' });
  });

  it('paces audio in real time with --realtime, showing partials on stderr', async () => {
    const wav = join(dir, 'short.wav');
    await writeFile(wav, encodeWav(synthesize([{ silence: 0.3 }, { tone: 2000, seconds: 0.4 }, { silence: 0.3 }]), 16000));
    const started = Date.now();
    const out = await asrctl('transcribe', wav, '--url', url, '--realtime', '--language', 'en');
    expect(out).toMatchObject({ code: 0, stdout: 'high\n' });
    expect(out.stderr).toContain('partial: high');
    // 1 s of audio cannot be sent in real time in less than 1 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('exits non-zero with the server’s error message', async () => {
    const wav = join(dir, 'demo', 'low-high.wav');
    const out = await asrctl('transcribe', wav, '--url', url, '--language', 'fr');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('server error unsupported_language: language "fr" is not available; this server has: cn, en');
  });

  it('exits non-zero when it cannot connect, with a hint', async () => {
    const port = await freePort();
    const out = await asrctl('transcribe', join(dir, 'demo', 'low-high.wav'), '--url', `ws://127.0.0.1:${port}`);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*\n {2}hint: is the server running\?/);
  });

  it('gives up within --timeout on a listener that accepts and never answers, naming the URL', async () => {
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const silentUrl = `ws://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const out = await asrctl('transcribe', join(dir, 'demo', 'low-high.wav'), '--url', silentUrl, '--timeout', '1000');
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`asrctl: no WebSocket handshake from ${silentUrl} within 1000 ms\n  hint: check that the URL names`);
    } finally {
      silent.close();
    }
  });

  it('reads the server URL from ASR_URL, as its help says', async () => {
    const { stdout: help } = await run(process.execPath, [ASRCTL, 'transcribe', '--help']);
    expect(help.replace(/\s+/gu, ' ')).toContain('--url <url> server WebSocket URL (default: "ws://localhost:8765", env: ASR_URL)');
    const out = await run(process.execPath, [ASRCTL, 'transcribe', join(dir, 'demo', 'low-high.wav')], {
      env: { ...process.env, ASR_URL: url },
    });
    expect(out.stdout).toBe('低 高\n');
  });

  it('exits non-zero on a file that is not a WAV', async () => {
    const notWav = join(dir, 'notes.txt');
    await writeFile(notWav, 'just text');
    const out = await asrctl('transcribe', notWav, '--url', url);
    expect(out).toMatchObject({ code: 1, stderr: `asrctl: ${notWav} is not a WAV file (no RIFF/WAVE header)\n` });
    expect((await asrctl('transcribe', join(dir, 'missing.wav'), '--url', url)).stderr).toContain('no such file');
    // Before, the server's invalid_sample_rate after connecting.
    const fast = join(dir, 'fast.wav');
    await writeFile(fast, encodeWav(new Int16Array(960), 96000));
    expect(await asrctl('transcribe', fast, '--url', url)).toMatchObject({
      code: 1,
      stderr: `asrctl: ${fast} is 96000 Hz; servers take 8000 to 48000 Hz (convert with: sox ${fast} -r 16000 out.wav)\n`,
    });
  });
});

describe('exit codes', () => {
  it.each([
    ['an unknown option', ['status', '--no-such-flag'], "unknown option '--no-such-flag'"],
    ['an unknown command', ['transcrib'], "unknown command 'transcrib'"],
    ['a value not among the choices', ['logs', '--service', 'db'], 'Allowed choices are app, edge'],
    ['a missing argument', ['transcribe'], "missing required argument 'file'"],
  ])('exits 2 on %s, saying what was wrong', async (_what, args, said) => {
    const out = await asrctl(...args);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(said);
  });

  it.each([
    [['scale', 'abc', '--project', 'asrcli'], 'replicas "abc": expected a whole number from 1 to 63'],
    [['scale', '64', '--project', 'asrcli'], 'replicas "64": expected a whole number from 1 to 63'],
    [['logs', '--tail', 'abc', '--project', 'asrcli'], 'tail "abc": expected a whole number from 0 to 1000000000'],
    [['transcribe', 'x.wav', '--timeout', 'abc'], 'timeout "abc": expected a whole number from 1 to 3600000'],
    [['transcribe', 'x.wav', '--timeout', '-5'], 'timeout "-5": expected a whole number from 1 to 3600000'],
    // Before: "Invalid URL", exit 1.
    [
      ['transcribe', 'x.wav', '--url', 'notaurl'],
      `option '--url <url>' argument 'notaurl' is invalid. url "notaurl": expected a WebSocket URL such as ws://host:8765/`,
    ],
    [['transcribe', 'x.wav', '--url', 'ftp://host/'], 'url "ftp://host/": expected a WebSocket URL such as ws://host:8765/'],
    // Before: retried 5 times over 16 s, exit 1; deploy took it.
    [['models', 'pull', 'vosk-model-small-cn-0.22', '--mirror', 'ftp://x'], 'mirror "ftp://x": expected an http:// or https:// URL'],
    [['deploy', '--mirror', 'notaurl'], 'mirror "notaurl": expected an http:// or https:// URL'],
  ])('exits 2 on asrctl %j, naming the value', async (args, said) => {
    // The engine is out of reach: the value is refused before anything is looked up.
    const out: Partial<Outcome> = await run(process.execPath, [ASRCTL, ...args], {
      env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` },
    }).catch((err: Outcome) => err);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(said);
  });

  it('exits 0 on --help and --version', async () => {
    expect(await asrctl('--help')).toMatchObject({ code: 0 });
    expect(await asrctl('transcribe', '--help')).toMatchObject({ code: 0 });
    expect(await asrctl('--version')).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });
});

describe('asrctl serve', () => {
  it('exits 2 with the problems when the configuration is incomplete', async () => {
    const out = await asrctl('serve', '--port', '0');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('no model configured: pass --model cn=DIR');
  });

  it('exits 2 naming a missing model directory, a certificate that is not PEM and a bad host, before listening', async () => {
    // Before: each exit 1, after "listening" or with an OpenSSL message and a stack in the log.
    const port = await freePort();
    const notPem = join(dir, 'not-pem.txt');
    await writeFile(notPem, 'hello\n');
    const out = await asrctl(
      ...['serve', '--port', String(port), '--host', '999.1.1.1', '--model', `cn=${join(dir, 'nope')}`],
      ...['--tls-cert', notPem, '--tls-key', notPem],
    );
    expect(out).toMatchObject({ code: 2, stdout: '' });
    expect(out.stderr).toBe(
      [
        'asrctl: invalid configuration:',
        `  - --model cn=${join(dir, 'nope')}: model directory ${join(dir, 'nope')} does not exist or is not a directory`,
        '  - host "999.1.1.1": expected an IP address such as 0.0.0.0, 127.0.0.1 or ::, or a host name such as localhost',
        `  - the TLS certificate ${notPem} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
        `  - the TLS key ${notPem} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`,
        '',
      ].join('\n'),
    );
  });
});

describe('asrctl models synth', () => {
  it('writes custom words and the heavy variant deterministically', async () => {
    const a = await asrctl('models', 'synth', join(dir, 'yes-no'), '--words', 'yes:600,no:1800');
    expect(a).toMatchObject({ code: 0 });
    expect(await readFile(join(dir, 'yes-no', 'graph', 'words.txt'), 'utf8')).toBe('<eps> 0\nyes 1\nno 2\n');
    await asrctl('models', 'synth', join(dir, 'h1'), '--heavy');
    await asrctl('models', 'synth', join(dir, 'h2'), '--heavy');
    expect((await readFile(join(dir, 'h1', 'am', 'final.mdl'))).equals(await readFile(join(dir, 'h2', 'am', 'final.mdl')))).toBe(true);
  });

  it('rejects words it cannot build', async () => {
    const out = await asrctl('models', 'synth', join(dir, 'bad'), '--words', 'x:100');
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('tone 100 Hz is too close to the filterbank edge');
  });
});

describe('asrctl models rm', () => {
  it('fails on a model that is not installed, saying what is, before any engine is asked', async () => {
    const store = await mkdtemp(join(tmpdir(), 'asrcli-store-'));
    try {
      expect(await asrctl('models', 'synth', join(store, 'mine'))).toMatchObject({ code: 0 });
      const rmModel = (name: string) =>
        run(process.execPath, [ASRCTL, 'models', 'rm', name, '--models-dir', store], {
          env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` },
        }).catch((err: Outcome) => err);
      // Before, it printed "other was not installed" and exited 0.
      const missing: Partial<Outcome> = await rmModel('other');
      expect(missing.code).toBe(1);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toBe(
        `asrctl: other is not installed in ${store} (installed: mine): nothing removed\n  hint: asrctl models list shows what is installed; check --models-dir (ASRCTL_MODELS_DIR)\n`,
      );
      // An engine that does not answer may still run a deployment mounting it (before, it was removed).
      const unchecked: Partial<Outcome> = await rmModel('mine');
      expect(unchecked.code).toBe(1);
      expect(unchecked.stderr).toContain(
        `asrctl: mine was not removed: whether a deployment mounts ${join(store, 'mine')} cannot be checked, as the Docker engine (unix://${join(dir, 'no-engine.sock')}) cannot be reached`,
      );
      expect(unchecked.stderr).toContain(
        `hint: start the engine or check DOCKER_HOST, so the check can be made; if no deployment uses this store, remove ${join(store, 'mine')} by hand`,
      );
      expect(await readdir(store)).toEqual(['mine']);
      await rm(join(store, 'mine'), { recursive: true });
      const none: Partial<Outcome> = await rmModel('mine');
      expect(none.code).toBe(1);
      expect(none.stderr).toContain(`mine is not installed in ${store} (nothing is installed there): nothing removed`);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });
});

describe('asrctl models verify', () => {
  it('says when nothing, or not the model named, is installed, and repairs a model from the mirror it came from', async () => {
    const store = await mkdtemp(join(tmpdir(), 'asrcli-verify-'));
    const mirror = await startModelServer();
    try {
      // Before, nothing was printed (exit 0), and a name not installed was told to pull it.
      expect(await asrctl('models', 'verify', '--models-dir', store)).toMatchObject({
        code: 0,
        stdout: `nothing is installed in ${store}\n`,
      });
      const name = 'vosk-model-small-cn-0.22';
      mirror.serve(`/${name}.zip`, await zipDirectory(join(dir, 'cn'), name));
      expect(await asrctl('models', 'pull', name, '--mirror', mirror.url, '--models-dir', store)).toMatchObject({ code: 0 });
      expect(await asrctl('models', 'verify', 'nosuch', '--models-dir', store)).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`asrctl: nosuch is not installed in ${store} (installed: ${name})`),
      });
      await writeFile(join(store, name, 'conf', 'model.conf'), 'changed\n');
      // Before, the fix went to alphacephei.com, out of reach on an air-gapped host.
      const failed = await asrctl('models', 'verify', '--models-dir', store);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain(`  fix: asrctl models pull ${name} --force --mirror ${mirror.url}\n`);
    } finally {
      await mirror.close();
      await rm(store, { recursive: true, force: true });
    }
  });
});

describe('asrctl deploy on a terminal', () => {
  /** `asrctl deploy` on a pseudo-terminal of this many columns (util-linux `script`), the engine unreachable. */
  async function deployOnTerminal(columns: number): Promise<string> {
    const command = [
      `stty cols ${columns} rows 40;`,
      process.execPath,
      ASRCTL,
      'deploy',
      '--project',
      `asrcli${process.pid}`,
      '--model',
      `cn=${join(dir, 'cn')}`,
      '--model',
      `en=${join(dir, 'en')}`,
    ].join(' ');
    const out = await run('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` },
      timeout: 60_000,
    }).catch((err: { stdout: string }) => err);
    return out.stdout;
  }

  it('prints plain lines when the terminal reports no width, not one character a line', async () => {
    const out = await deployOnTerminal(0);
    expect(out).toContain('[Environment check]');
    expect(out).toContain('asrctl: cannot reach the Docker engine');
  });

  it('prints a failure once under the task list', async () => {
    const out = await deployOnTerminal(120);
    expect(out).toContain('Environment check');
    expect(out.split('cannot reach the Docker engine').length - 1).toBe(1);
  });
});

describe('asrctl deploy settings from the environment', () => {
  it('reads an old variable name, saying which to set instead', async () => {
    const out: Partial<Outcome> = await run(process.execPath, [ASRCTL, 'deploy', '--plain', '--project', `asrcli${process.pid}`], {
      env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`, ASRCTL_MODELS: `cn=${join(dir, 'cn')}` },
    }).catch((err: Outcome) => err);
    expect(out.stderr).toContain('asrctl: ASRCTL_MODELS is deprecated, set ASRCTL_MODEL instead');
  });

  it('refuses a memory limit too small for the app, from a flag or the environment, before any engine is asked', async () => {
    const deploy = (args: string[], env: Record<string, string>) =>
      run(
        process.execPath,
        [ASRCTL, 'deploy', '--plain', '--project', `asrcli${process.pid}`, '--model', `cn=${join(dir, 'cn')}`, ...args],
        {
          env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`, ...env },
        },
      ).catch((err: Outcome) => err);
    // Before, 1k passed the configuration and was refused by the environment check, at the engine (exit 1).
    const flag: Partial<Outcome> = await deploy(['--memory', '1k'], {});
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('asrctl: invalid deploy configuration:');
    expect(flag.stderr).toContain('memory "1k": expected a size of at least 64m, such as 2g or 512m');
    expect(flag.stderr).not.toContain('Docker engine');
    const env: Partial<Outcome> = await deploy([], { ASRCTL_MEMORY: '1k' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('ASRCTL_MEMORY: memory "1k": expected a size of at least 64m, such as 2g or 512m');
  });

  it('refuses a missing tokens file, a certificate that is not PEM and a missing verify clip before anything is changed, every problem at once', async () => {
    // Before, each was found once the running app had stopped (an outage), and Docker made a
    // directory where the tokens file was missing.
    const notPem = join(dir, 'not-a-cert.pem');
    await writeFile(notPem, 'hello\n');
    const tokens = join(dir, 'missing-tokens');
    const all: Partial<Outcome> = await run(
      process.execPath,
      [
        ASRCTL,
        'deploy',
        '--plain',
        '--project',
        `asrcli${process.pid}`,
        '--model',
        `cn=${join(dir, 'cn')}`,
        '--tokens-file',
        tokens,
        '--tls-cert',
        notPem,
        '--tls-key',
        notPem,
        '--verify-wav',
        join(dir, 'missing.wav'),
        '--verify-text',
        'x',
      ],
      { env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` } },
    ).catch((err: Outcome) => err);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('asrctl: files the deployment needs cannot be used:');
    expect(all.stderr).toContain(`--tls-cert/--tls-key: the TLS certificate ${notPem} is not a PEM certificate`);
    expect(all.stderr).toContain(`--tokens-file: cannot read the tokens file: ENOENT`);
    expect(all.stderr).toContain(`--verify-wav: cannot read ${join(dir, 'missing.wav')}: no such file`);
    expect(all.stderr).toContain('hint: fix the files or the options naming them; nothing was changed');
    expect(all.stderr).not.toContain('Docker engine');
    expect(existsSync(tokens)).toBe(false);
  });

  it('refuses a FIFO (the read would block for good), a clip at a rate no server takes, and files the app (uid 1000) cannot read', async () => {
    const fifo = join(dir, 'tokens-fifo');
    await run('mkfifo', [fifo]);
    const slow = join(dir, 'slow.wav');
    await writeFile(slow, encodeWav(new Int16Array(4000), 4000));
    const secret = join(dir, 'secret-tokens');
    await writeFile(secret, 'token-1\n', { mode: 0o600 });
    const hidden = join(dir, 'hidden-cn');
    await run('cp', ['-r', join(dir, 'cn'), hidden]);
    await run('chmod', ['700', hidden]);
    const deploy = (args: string[]) =>
      run(process.execPath, [ASRCTL, 'deploy', '--plain', '--project', `asrcli${process.pid}`, ...args], {
        env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` },
        timeout: 30_000,
      }).catch((err: Outcome) => err);
    // Before, the FIFO hung the deploy, deaf to one SIGTERM; the others were found after the old app stopped.
    const out: Partial<Outcome> = await deploy([
      '--model',
      `cn=${join(dir, 'cn')}`,
      '--tokens-file',
      fifo,
      '--verify-wav',
      slow,
      '--verify-text',
      'x',
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`--tokens-file: ${fifo} is not a regular file`);
    expect(out.stderr).toContain(`--verify-wav: ${slow} is 4000 Hz; servers take 8000 to 48000 Hz`);
    // Owned by whoever runs this: unreadable by uid 1000 unless that is who runs it.
    if (process.getuid?.() !== 1000) {
      const unreadable: Partial<Outcome> = await deploy(['--model', `cn=${hidden}`, '--tokens-file', secret]);
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toContain(`--tokens-file: ${secret} cannot be read by the app, which runs as uid 1000`);
      expect(unreadable.stderr).toContain(
        `--model: ${hidden} cannot be read by the app, which runs as uid 1000 (make it readable: chown -R 1000 ${hidden}, or chmod -R a+rX ${hidden})`,
      );
    }
  });
});

describe('every command that needs the engine, with the engine out of reach', () => {
  it.each([['restart'], ['status'], ['logs'], ['stop'], ['scale', '2'], ['cleanup', '--yes']])(
    '%s says so, with what to do',
    async (...command) => {
      const out: Partial<Outcome> = await run(process.execPath, [ASRCTL, ...command, '--project', `asrcli${process.pid}`], {
        env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` },
      }).catch((err: Outcome) => err);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('cannot reach the Docker engine');
      expect(out.stderr).toContain('start it (systemctl start docker, or dockerd)');
    },
  );
});

describe('the settings a management command reads', () => {
  it("are only the project: a deploy setting's bad value in asrctl.json is the next deploy's to refuse; a near-miss of another variable is told, of the project's refused", async () => {
    const work = await mkdtemp(join(tmpdir(), 'asrcli-settings-'));
    try {
      await writeFile(join(work, 'asrctl.json'), JSON.stringify({ strategy: 'blue-grene' }));
      const stop = (env: Record<string, string>) =>
        run(process.execPath, [ASRCTL, 'stop', '--project', `asrcli${process.pid}`], {
          cwd: work,
          env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`, ...env },
        }).catch((err: Outcome) => err);
      // Before, stop refused the file's strategy and could not stop what runs.
      const out: Partial<Outcome> = await stop({ ASRCTL_GPU: 'all' });
      expect(out.stderr).toContain('asrctl: ASRCTL_GPU is not a setting and is ignored: did you mean ASRCTL_GPUS?');
      expect(out.stderr).toContain('cannot reach the Docker engine');
      const typo: Partial<Outcome> = await stop({ ASRCTL_PROJEKT: 'other' });
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain('ASRCTL_PROJEKT is not a setting: did you mean ASRCTL_PROJECT? (rename or unset it)');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('asrctl cleanup', () => {
  it('refuses to run without a terminal to ask on, naming --yes and --dry-run', async () => {
    // stdin is a pipe here; no engine: the refusal comes before anything is looked up.
    const out = await run(process.execPath, [ASRCTL, 'cleanup', '--project', `asrcli${process.pid}`], {
      env: { ...process.env, DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}` },
    }).catch((err: Outcome) => err);
    expect(out).toMatchObject({ code: 1, stdout: '' });
    expect(out.stderr).toContain('asrctl: cleanup asks before removing anything, and its input is not a terminal');
    expect(out.stderr).toContain('asrctl cleanup --yes');
  });
});
