import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ASRCTL = fileURLToPath(new URL('../../dist/main.cjs', import.meta.url));

/** Runs the built `asrctl ARGS` in `cwd`; never throws on a non-zero exit. */
function asrctl(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ASRCTL, ...args], { cwd, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
let mirror: Server;
let mirrorUrl: string;
const requested: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asrctl-options-'));
  // A mirror that has nothing: every request is recorded and answered 404.
  mirror = createServer((req, res) => {
    requested.push(req.url ?? '');
    res.statusCode = 404;
    res.end();
  }).listen(0, '127.0.0.1');
  await once(mirror, 'listening');
  mirrorUrl = `http://127.0.0.1:${(mirror.address() as { port: number }).port}`;
});

afterAll(async () => {
  mirror.close();
  await rm(dir, { recursive: true, force: true });
});

describe('deploy settings on the command line', () => {
  it('refuses a misspelt key in ./asrctl.json before anything runs, naming the setting meant', async () => {
    await writeFile(join(dir, 'asrctl.json'), JSON.stringify({ modle: ['cn=/srv/cn'], port: 9000 }));
    const result = await asrctl(dir, {}, 'deploy', '--project', 'h14-never-deployed');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('asrctl.json: unknown setting "modle" (did you mean "model"?)');
    await rm(join(dir, 'asrctl.json'));
  });

  it('models pull takes the mirror from --mirror, ASRCTL_MODEL_MIRROR, or the old ASR_MODEL_MIRROR with a deprecation line', async () => {
    const pull = (env: NodeJS.ProcessEnv, ...flags: string[]) =>
      asrctl(dir, env, 'models', 'pull', 'vosk-model-small-en-us-0.15', '--models-dir', join(dir, 'store'), ...flags);
    const old = await pull({ ASR_MODEL_MIRROR: `${mirrorUrl}/old` });
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('ASR_MODEL_MIRROR is deprecated, set ASRCTL_MODEL_MIRROR instead');
    expect(old.stderr).toContain(`${mirrorUrl}/old/vosk-model-small-en-us-0.15.zip: 404 Not Found`);
    const current = await pull({ ASRCTL_MODEL_MIRROR: `${mirrorUrl}/new`, ASR_MODEL_MIRROR: `${mirrorUrl}/old` });
    expect(current.stderr).not.toContain('deprecated');
    const flag = await pull({ ASRCTL_MODEL_MIRROR: `${mirrorUrl}/new` }, '--mirror', `${mirrorUrl}/flag`);
    expect(flag.code).toBe(1);
    expect(requested).toEqual([
      '/old/vosk-model-small-en-us-0.15.zip',
      '/new/vosk-model-small-en-us-0.15.zip',
      '/flag/vosk-model-small-en-us-0.15.zip',
    ]);
  });
});
