import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { resolveDeployConfig } from '../deployment/deploy-config.js';
import { DEPLOY_PHASES, RESTART_PHASES, deploy, plainPhaseRunner } from './deploy.js';
import { Interruption } from './interruption.js';

describe('deploy() interrupted before its first phase (no engine is reached)', () => {
  // Nothing listens there: a phase that reached the engine would fail with ENOENT instead.
  const docker = new Docker({ socketPath: '/nonexistent/docker.sock' });
  const config = resolveDeployConfig([{ model: ['cn=/srv/models/cn'] }], '/');
  const interruptedBy = (phases: typeof DEPLOY_PHASES) => {
    const controller = new AbortController();
    controller.abort(new Interruption('SIGTERM'));
    const lines: string[] = [];
    return deploy(
      docker,
      config,
      plainPhaseRunner((l) => lines.push(l)),
      { phases, signal: controller.signal },
    ).then(
      () => expect.unreachable('the deploy ran'),
      (err: unknown) => ({ err, lines }),
    );
  };

  it('names the command: a restart says "restart interrupted", with its exit code', async () => {
    const { err, lines } = await interruptedBy(RESTART_PHASES);
    expect(err).toMatchObject({
      code: 'interrupted',
      exitCode: 143,
      message:
        'restart interrupted by SIGTERM: nothing running was changed; the deploy lock is released\n  hint: asrctl status shows what runs; restart again when ready',
    });
    expect(lines).toEqual(['[Environment check]']);
  });

  it('a deploy says "deploy interrupted"', async () => {
    const { err } = await interruptedBy(DEPLOY_PHASES);
    expect((err as Error).message).toMatch(
      /^deploy interrupted by SIGTERM: nothing running was changed; the deploy lock is released\n {2}hint: .*deploy again/u,
    );
  });
});
