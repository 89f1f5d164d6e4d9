import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeToneModel, toneWordsFor } from '@asrctl/tone-model';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCliError } from '../../cli-error.js';
import { resolveDeployConfig } from '../../deployment/deploy-config.js';
import { deploymentNames } from '../../deployment/deployment-names.js';
import { containerTemplate } from '../../docker/swarm.js';
import { writeManifest } from '../../models/model-manifest.js';
import { appServiceSpec } from './app-service.js';
import { MODEL_INTEGRITY_ENTRY } from './model-integrity-entry.js';
import { appWithModelsDockerfile, manifestFor, modelFreeBase, modelImageName } from './model-images.js';

describe('models that travel as images', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'asrctl-model-images-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('names a model image by its content, and builds the app image with each model where a mount would put it', () => {
    const names = deploymentNames('asr');
    const model = { language: 'en', hostDir: '/srv/models/Vosk-Model-EN' };
    expect(modelImageName('reg:5000', names, model, 'abcdef012345')).toBe('reg:5000/asr-model-vosk-model-en:abcdef012345');
    expect(
      appWithModelsDockerfile('reg:5000/asr-app:1', [
        { model, image: 'reg:5000/asr-model-vosk-model-en:abcdef012345', contentHash: 'abcdef012345' },
      ]),
    ).toBe(`FROM reg:5000/asr-model-vosk-model-en:abcdef012345 AS model0
FROM reg:5000/asr-app:1
COPY --from=model0 / /models/Vosk-Model-EN/
COPY model-integrity-entry.mjs /app/model-integrity-entry.mjs
CMD ["node", "/app/model-integrity-entry.mjs"]
`);
  });

  it('finds the model-free app image an app with models was built from, however often models were stacked on it', () => {
    expect(modelFreeBase('reg:5000/asr-app:e186f05bc146-mx69eru1')).toBe('reg:5000/asr-app:e186f05bc146-mx69eru1');
    expect(modelFreeBase('reg:5000/asr-app:e186f05bc146-mx69eru1-models-7d14f2e4426d')).toBe('reg:5000/asr-app:e186f05bc146-mx69eru1');
    expect(modelFreeBase('reg:5000/asr-app:e186f05bc146-mx69eru1-models-7d14f2e4426d-models-7d14f2e4426d')).toBe(
      'reg:5000/asr-app:e186f05bc146-mx69eru1',
    );
  });

  it('mounts no model from the node when the image carries them', () => {
    const config = resolveDeployConfig([{ target: 'swarm', model: ['en=/srv/models/en'] }], '/');
    const request = { image: 'i', labels: {}, replicas: 2, startPeriodSeconds: 30 };
    const names = deploymentNames('asr');
    const mounts = (modelsInImage: boolean) =>
      containerTemplate(appServiceSpec(config, names, { ...request, modelsInImage }))?.ContainerSpec?.Mounts?.map((m) => m.Type);
    expect(mounts(false)).toEqual(['bind', 'tmpfs']);
    expect(mounts(true)).toEqual(['tmpfs']);
  });

  it('says which model directory is missing on the host the models travel from', async () => {
    await expect(manifestFor({ language: 'en', hostDir: join(work, 'nowhere') })).rejects.toThrow(
      /the model directory .*nowhere cannot be read here .*\n {2}hint: put the model there/u,
    );
  });

  it('refuses a model directory that no longer matches its manifest, and tags an image by the files actually there', async () => {
    const dir = join(work, 'changed-en');
    await writeToneModel(dir, { words: toneWordsFor('en') });
    await writeManifest(dir, 'en', dir);
    const model = { language: 'en', hostDir: dir };
    const before = await manifestFor(model);
    expect(before.installed).toBe(true);

    // A file added after the manifest: refused before any image is built, naming the file.
    await writeFile(join(dir, 'extra.bin'), 'x');
    const refused = await manifestFor(model).catch((err: unknown) => err);
    expect(isCliError(refused, 'model_changed')).toBe(true);
    expect((refused as Error).message).toMatch(
      /the model directory .*changed-en no longer matches its asrctl-manifest\.json: extra\.bin is not part of the model\n {2}hint: asrctl models verify/u,
    );
    // Repaired: the same files, the same tag as before.
    await rm(join(dir, 'extra.bin'));
    expect((await manifestFor(model)).contentHash).toBe(before.contentHash);

    // A changed file is refused too; once the manifest is rewritten for it (a new install), the tag changes.
    const changed = Object.keys(before.manifest.files)[0]!;
    await writeFile(join(dir, changed), 'another model\n');
    await expect(manifestFor(model)).rejects.toThrow(`${changed} changed`);
    await writeManifest(dir, 'en', dir);
    const after = await manifestFor(model);
    expect(after.contentHash).not.toBe(before.contentHash);
  });

  it('the entry point starts the server only when every model matches its manifest', async () => {
    const root = join(work, 'models');
    const model = join(root, 'en');
    await writeToneModel(model, { words: toneWordsFor('en') });
    // A model given as a directory travels with a manifest made from its files.
    const { manifest, installed } = await manifestFor({ language: 'en', hostDir: model });
    expect(installed).toBe(false);
    await writeManifest(model, 'en', model);
    expect((await manifestFor({ language: 'en', hostDir: model })).manifest.files).toEqual(manifest.files);
    const entry = join(work, 'entry.mjs');
    await writeFile(entry, MODEL_INTEGRITY_ENTRY);
    const server = join(work, 'server.mjs');
    await writeFile(server, "console.log('server started');\n");
    const run = () => execa('node', [entry], { env: { ASR_MODELS_ROOT: root, ASR_SERVER_ENTRY: server }, reject: false });

    const good = await run();
    expect(good.exitCode).toBe(0);
    expect(good.stdout).toContain('"event":"model-integrity","model":"en","ok":true');
    expect(good.stdout).toContain('server started');

    const changed = Object.keys(manifest.files)[0]!;
    await writeFile(join(model, changed), 'not the model\n');
    await writeFile(join(model, 'extra.bin'), 'x');
    const bad = await run();
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).not.toContain('server started');
    expect(bad.stdout).toContain(`${changed} does not match its sha256`);
    expect(bad.stdout).toContain('extra.bin is not part of the model');
  });
});
