import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

const LAB_SCRIPT = new URL('../../../../scripts/swarm-lab', import.meta.url).pathname;

describe('scripts/swarm-lab env', () => {
  let work: string | undefined;
  afterAll(() => (work ? rm(work, { recursive: true, force: true }) : undefined));

  it('does not report a lab as up when a killed `up` left only its node directories', async () => {
    work = await mkdtemp(join(tmpdir(), 'asrctl-swarm-lab-'));
    const labDir = join(work, 'lab');
    await mkdir(join(labDir, 'node1'), { recursive: true });
    await mkdir(join(labDir, 'node2'));
    await writeFile(join(labDir, 'managers'), '1\n');
    // No dockerd behind the node's socket: what a killed `up` leaves.
    const env = await execa(LAB_SCRIPT, ['env'], {
      env: { SWARM_LAB_DIR: labDir, SWARM_LAB_RUN_DIR: join(work, 'run') },
      reject: false,
    });
    expect(env.exitCode).toBe(1);
    expect(env.stdout).toBe('');
    expect(env.stderr).toContain(`the lab is not up: node 1 (${join(work, 'run', 'node1', 'docker.sock')}) is not a Swarm manager`);
  });
});
