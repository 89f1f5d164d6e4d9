import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../docker/engine.js';
import { acquireDeployLock } from './deploy-lock.js';
import { deploymentNames, LABELS } from '../deployment/deployment-names.js';

const names = deploymentNames(`asrlock${process.pid}`);

describe('the deploy lock on a real Docker engine', () => {
  let docker: Docker;

  beforeAll(() => {
    docker = connectEngine();
  });

  afterAll(async () => {
    await docker
      .getNetwork(names.lock)
      .remove()
      .catch(() => undefined);
  });

  it('lets one deploy in at a time and names the holder to the other', async () => {
    const lock = await acquireDeployLock(docker, names);
    await expect(acquireDeployLock(docker, names)).rejects.toThrow(expect.objectContaining({ code: 'deploy_locked' }));
    await expect(acquireDeployLock(docker, names)).rejects.toThrow(
      new RegExp(`another deploy of "${names.project}" is running \\(pid ${process.pid} on `, 'u'),
    );
    await lock.release();
    const again = await acquireDeployLock(docker, names);
    await again.release();
  });

  it('lets exactly one of many taken at the same instant in, and leaves no second lock behind', async () => {
    // The engine's duplicate-name check is not atomic: two cleanups at once once left two locks
    // of one name, and every deploy after was refused.
    for (let round = 0; round < 5; round++) {
      const tries = await Promise.allSettled(Array.from({ length: 6 }, () => acquireDeployLock(docker, names)));
      const held = tries.filter((t) => t.status === 'fulfilled');
      expect(held).toHaveLength(1);
      expect(tries.filter((t) => t.status === 'rejected').map((t) => (t.reason as { code?: string }).code)).toEqual(
        Array(5).fill('deploy_locked'),
      );
      await held[0]!.value.release();
      expect((await docker.listNetworks({ filters: { name: [names.lock] } })).filter((n) => n.Name === names.lock)).toEqual([]);
    }
  });

  it('takes over a lock left by a process on this host that has died', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    await docker.createNetwork({
      Name: names.lock,
      Internal: true,
      Labels: { [LABELS.project]: names.project, 'io.asrctl.lock.host': hostname(), 'io.asrctl.lock.pid': String(child.pid) },
    });
    const said: string[] = [];
    const lock = await acquireDeployLock(docker, names, (l) => said.push(l));
    expect(said).toEqual([
      `taking over the deploy lock ${names.lock} left by pid ${child.pid} on ${hostname()}, since ?, which is no longer running: that deploy was killed or exited at once (asrctl status shows what it left)`,
    ]);
    const holder = ((await docker.getNetwork(names.lock).inspect()) as { Labels: Record<string, string> }).Labels;
    expect(holder['io.asrctl.lock.pid']).toBe(String(process.pid));
    await lock.release();
  });
});
