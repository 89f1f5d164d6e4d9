import { pollUntil } from '@asrctl/server';
import { lowHighClip } from '@asrctl/tone-model';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../../client/transcription-client.js';
import { deploy, plainPhaseRunner } from '../../deploy/deploy.js';
import { deploymentNames } from '../../deployment/deployment-names.js';
import { lockNetwork } from '../../docker/networks.js';
import { inspectService, specImage } from '../../docker/swarm.js';
import { type TestModels, dockerForTests, freePort, testDeployConfig, toneModelsForDeploy } from '../../testing/docker-fixture.js';
import { swarmForTests } from '../../testing/swarm-fixture.js';
import { stopSwarmDeployment } from './swarm-operations.js';

const CLI = new URL('../../../dist/main.cjs', import.meta.url).pathname;
const project = `asrswarmsig${process.pid}`;
const names = deploymentNames(project);

describe('Ctrl-C during asrctl deploy --target swarm (single-node Swarm, built CLI)', () => {
  let docker: Docker;
  let swarm: { leave(): Promise<void> };
  let models: TestModels;
  let port: number;

  beforeAll(async () => {
    docker = await dockerForTests();
    swarm = await swarmForTests(docker);
    models = await toneModelsForDeploy();
    port = await freePort('0.0.0.0');
  }, 300_000);

  afterAll(async () => {
    if (!docker) return;
    await stopSwarmDeployment(docker, names).catch(() => undefined);
    await docker
      .getNetwork(names.lock)
      .remove()
      .catch(() => undefined);
    await swarm?.leave();
    for (const image of await docker.listImages({ filters: { reference: [`${names.appImage}:*`, `${names.edgeImage}:*`] } }))
      for (const tag of image.RepoTags ?? [])
        await docker
          .getImage(tag)
          .remove({})
          .catch(() => undefined);
    await models?.remove();
  }, 180_000);

  it('during the rolling update, rolls the app service back to its previous spec, releases the lock and exits 130', async () => {
    await deploy(
      docker,
      testDeployConfig(project, port, models, { target: 'swarm' }),
      plainPhaseRunner(() => undefined),
    );
    const before = specImage((await inspectService(docker, names.appService))?.spec);

    const child = execa('node', [CLI, 'deploy', '--plain', '--project', project], { reject: false, cwd: models.dir });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString('utf8')));
    await pollUntil(
      () => stdout.includes(`rolling update of ${names.appService}`),
      (yes) => yes,
      { what: 'the rolling update to start', timeoutMs: 240_000, intervalMs: 100 },
    );
    child.kill('SIGINT');
    const result = await child;

    expect(result.exitCode).toBe(130);
    expect(result.stdout).toContain('interrupted: rolling the services back to their previous specs');
    expect(result.stdout).toContain(`${names.appService} is back on its previous version`);
    expect(result.stderr).toContain(
      'asrctl: deploy interrupted by SIGINT during Swap: the swap was undone (the services are back on their previous specs): the previous version serves',
    );
    expect(specImage((await inspectService(docker, names.appService))?.spec)).toBe(before);
    expect(await lockNetwork(docker, names.lock)).toBeUndefined();
    const finals = await transcribe({ url: `ws://127.0.0.1:${port}/`, samples: lowHighClip(16000), sampleRate: 16000, language: 'en' });
    expect(finals.map((f) => f.text)).toEqual(['low high']);
  }, 300_000);
});
