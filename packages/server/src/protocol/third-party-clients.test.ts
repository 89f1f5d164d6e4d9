import { encodeWav, lowHighClip } from '@asrctl/tone-model';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../testing/self-signed-certificate.js';
import { runClientInPrivateNetwork } from '../testing/private-network.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';

/**
 * The existing clients of vosk-server and FunASR in shared/thirdparty, byte for byte, each run
 * unchanged against the server on its customary port (2700, 10095) in a private network
 * namespace, and judged by what it prints. Debian's python3-websockets, python3-srt and ffmpeg
 * (installed by `pnpm test:setup`, scripts/install-test-clients).
 */
const THIRDPARTY = fileURLToPath(new URL('../../../../../shared/thirdparty/', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** Every "text" a vosk-server client printed (libvosk's JSON, as received). */
const texts = (stdout: string): string[] => [...stdout.matchAll(/"text"\s*:\s*"([^"]*)"/gu)].map((m) => m[1]!);

describe('third-party clients, unchanged, on their customary ports', () => {
  let models: ToneModelSet;
  let work: string;
  let tls: { cert: string; key: string };
  const wav = (name: string): string => join(work, name);

  beforeAll(async () => {
    execFileSync(PYTHON, ['-c', 'import websockets, srt'], { stdio: 'pipe' }); // a clear failure when setup was skipped
    models = await makeToneModels();
    work = await mkdtemp(join(tmpdir(), 'asrctl-thirdparty-'));
    await writeFile(wav('low-high-8k.wav'), encodeWav(lowHighClip(8000), 8000));
    await writeFile(wav('low-high-16k.wav'), encodeWav(lowHighClip(16000), 16000));
    await writeFile(wav('low-high-44k.wav'), encodeWav(lowHighClip(44100), 44100));
    const twice = (rate: number): Int16Array => {
      const clip = lowHighClip(rate);
      const both = new Int16Array(clip.length * 2);
      both.set(clip);
      both.set(clip, clip.length);
      return both;
    };
    await writeFile(wav('two-sentences-16k.wav'), encodeWav(twice(16000), 16000));
    tls = await selfSignedCertificate(work);
  });

  afterAll(async () => {
    await models?.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const voskServer = (): string[] => [
    '--vosk-port',
    '2700',
    '--model',
    `cn=${models.cn}`,
    '--model',
    `en=${models.en}`,
    '--default-language',
    'en',
  ];

  async function vosk(script: string, file: string): Promise<string> {
    const run = await runClientInPrivateNetwork(voskServer(), [PYTHON, join(THIRDPARTY, 'vosk-server', script), wav(file)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return run.stdout;
  }

  describe.concurrent('vosk-server (websocket/, c2e82f0)', () => {
    it.each(['low-high-8k.wav', 'low-high-16k.wav'])('test.py %s: one reply per frame, the final "low high"', async (file) => {
      const out = await vosk('test.py', file);
      expect(texts(out).filter(Boolean)).toEqual(['low high']);
      expect(out).toMatch(/"partial"\s*:\s*"low"/u);
    });

    it('test_words.py: its phrase list is accepted (a tone model has no runtime graph), words off', async () => {
      const out = await vosk('test_words.py', 'low-high-16k.wav');
      expect(texts(out).filter(Boolean)).toEqual(['low high']);
      expect(out).not.toContain('"result"');
    });

    it('test_alternatives.py: 20 alternatives, the best "low high", each with its word times', async () => {
      const out = await vosk('test_alternatives.py', 'low-high-8k.wav');
      expect(out).toMatch(/"alternatives"\s*:\s*\[\{\s*"confidence"\s*:\s*-?[\d.]+,\s*"result"\s*:\s*\[/u);
      expect(texts(out)[0]).toBe('low high');
    });

    it('test_srt.py: subtitles with the words and their times', async () => {
      const out = await vosk('test_srt.py', 'low-high-16k.wav');
      expect(out).toMatch(/^1\n00:00:00,\d{3} --> 00:00:0\d,\d{3}\nlow high\n/u);
    });

    it('test_ffmpeg.py: a 44.1 kHz file through ffmpeg', async () => {
      const out = await vosk('test_ffmpeg.py', 'low-high-44k.wav');
      expect(texts(out).filter(Boolean)).toEqual(['low high']);
    });
  });

  describe.concurrent('FunASR funasr_wss_client.py', () => {
    const clients = ['4f224c8', 'a397d0b', '3c58cb5'];
    const modes = ['online', 'offline', '2pass'];
    const cases = clients.flatMap((commit) => modes.map((mode) => [commit, mode] as const));

    async function funasr(commit: string, mode: string, secure: boolean): Promise<string> {
      const server = ['--funasr-port', '10095', '--model', `cn=${models.cn}`, '--model', `en=${models.en}`];
      if (secure) server.push('--tls-cert', tls.cert, '--tls-key', tls.key);
      const run = await runClientInPrivateNetwork(
        server,
        [
          PYTHON,
          join(THIRDPARTY, 'funasr', `funasr_wss_client_${commit}.py`),
          '--host',
          '127.0.0.1',
          '--port',
          '10095',
          '--mode',
          mode,
          '--ssl',
          secure ? '1' : '0',
          '--audio_in',
          wav('two-sentences-16k.wav'),
        ],
        { tls: secure },
      );
      // Its exit code stays 0 when its child process fails: what it prints is the verdict. The
      // older clients close first and report their own normal close as an "Exception".
      const problems = `${run.stdout}\n${run.stderr}`
        .split('\n')
        .filter((line) => /Traceback|Error|Exception|did not acknowledge|failed to finalize/u.test(line))
        .filter((line) => !/^Exception: sent 1000 \(OK\); then received 1000 \(OK\)$/u.test(line.trim()));
      expect(problems).toEqual([]);
      expect(run.code).toBe(0);
      return run.stdout;
    }

    it.each(cases)('%s --mode %s: the whole transcript, and no error or timeout', async (commit, mode) => {
      const out = await funasr(commit, mode, false);
      expect(out).toContain('低高低高');
    });

    it.each(clients)('%s over TLS (--ssl 1)', async (commit) => {
      expect(await funasr(commit, '2pass', true)).toContain('低高低高');
    });
  });
});
