import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostMount } from '../docker/mounts.js';
import { type AskedModelDirectory, type ModelRemovalGuards, askedModelDirectory, modelRemovalProblems } from './model-removal.js';

const guards: ModelRemovalGuards = { cwd: '/srv/asr', home: '/home/op', modelsRoot: '/srv/asr/models', mounts: [] };
const dir = (path: string, given = path): AskedModelDirectory => ({ given, path, realPath: path, found: 'directory' });
const mount = (source: string, labels: Record<string, string> = { 'io.asrctl.project': 'p' }): HostMount => ({
  source,
  target: '/models/inuse',
  holder: 'container "p-app-blue" (running)',
  labels,
});
const messages = (dirs: AskedModelDirectory[], extra: Partial<ModelRemovalGuards> = {}): string[] =>
  modelRemovalProblems(dirs, { ...guards, ...extra }).map((p) => p.message);

describe('which --models directories cleanup refuses', () => {
  it('lets a directory that nothing mounts go', () => {
    expect(
      modelRemovalProblems([dir('/data/old-model')], { ...guards, mounts: [mount('/data/inuse'), mount('/data/old-model-2')] }),
    ).toEqual([]);
  });

  it('refuses a mounted directory, naming the container, its deployment and what to do', () => {
    expect(modelRemovalProblems([dir('/data/inuse')], { ...guards, mounts: [mount('/data/inuse')] })).toEqual([
      {
        kind: 'in use',
        message:
          '--models /data/inuse is in use: container "p-app-blue" (running) of deployment "p" mounts /data/inuse at /models/inuse, and would fail at its next start without it: stop that deployment first (asrctl stop --project p), or deploy it without that model',
      },
    ]);
  });

  it('refuses a directory holding a mounted one, and one inside a mounted one', () => {
    const [holding, inside] = messages([dir('/data'), dir('/data/inuse/graph')], { mounts: [mount('/data/inuse')] });
    expect(holding).toContain('mounts /data/inuse (inside /data) at /models/inuse');
    expect(inside).toContain('mounts /data/inuse (which holds /data/inuse/graph) at /models/inuse');
  });

  it('tells a container of no deployment to be removed first', () => {
    const [problem] = messages([dir('/data/inuse')], {
      mounts: [{ ...mount('/data/inuse'), holder: 'container "other" (exited)', labels: {} }],
    });
    expect(problem).toContain('container "other" (exited) mounts /data/inuse at /models/inuse');
    expect(problem).toContain('remove that container or service first');
  });

  it('judges a symlinked path by where it leads too', () => {
    const linked: AskedModelDirectory = { given: 'link', path: '/srv/asr/link', realPath: '/data/inuse', found: 'directory' };
    expect(messages([linked], { mounts: [mount('/data/inuse')] })).toEqual([
      expect.stringContaining('--models link (/srv/asr/link) is in use'),
    ]);
  });

  it('does not take a sibling with a common prefix for a parent', () => {
    expect(messages([dir('/data/inuse-old')], { mounts: [mount('/data/inuse')] })).toEqual([]);
    expect(messages([dir('/data/in')], { mounts: [mount('/data/inuse')] })).toEqual([]);
  });

  it('refuses paths that cannot be one model, every problem at once', () => {
    const problems = modelRemovalProblems(
      [
        dir('/', '/'),
        dir('/home/op', '~'),
        dir('/home'),
        dir('/srv/asr', '.'),
        dir('/srv', '..'),
        dir('/srv/asr/models', 'models'),
        dir('/data/inuse'),
      ],
      { ...guards, mounts: [mount('/data/inuse')] },
    );
    expect(problems.map((p) => [p.kind, p.message])).toEqual([
      ['path', '--models / is the root directory, not a model directory'],
      ['path', '--models ~ (/home/op) is or holds your home directory /home/op, not a model directory'],
      ['path', '--models /home is or holds your home directory /home/op, not a model directory'],
      ['path', '--models . (/srv/asr) is or holds the current directory /srv/asr, not a model directory'],
      ['path', '--models .. (/srv) is or holds the current directory /srv/asr, not a model directory'],
      [
        'path',
        '--models models (/srv/asr/models) is or holds the models directory /srv/asr/models (every installed model): remove one model with asrctl models rm NAME',
      ],
      ['in use', expect.stringContaining('--models /data/inuse is in use')],
    ]);
  });

  it('lets a model inside the models directory go', () => {
    expect(messages([dir('/srv/asr/models/vosk-model-small-cn-0.22')])).toEqual([]);
  });

  it('refuses nothing there and a file', () => {
    expect(
      messages([
        { given: 'typo', path: '/srv/asr/typo', found: 'nothing' },
        { given: 'f', path: '/srv/asr/f', realPath: '/srv/asr/f', found: 'file' },
      ]),
    ).toEqual([
      '--models typo (/srv/asr/typo) does not exist: nothing to remove (check the path)',
      '--models f (/srv/asr/f) is a file, not a model directory',
    ]);
  });

  it('refuses a directory that holds no model (/etc, a whole store elsewhere), unless a mount says more', () => {
    const etc = { ...dir('/etc'), notAModel: true as const };
    expect(modelRemovalProblems([etc], guards)).toEqual([
      {
        kind: 'path',
        message:
          "--models /etc is not a model directory (it holds none of asrctl-manifest.json, am/final.mdl, conf/model.conf): name each model's own directory",
      },
    ]);
    const store = { ...dir('/data'), notAModel: true as const };
    expect(modelRemovalProblems([store], { ...guards, mounts: [mount('/data/inuse')] }).map((p) => p.kind)).toEqual(['in use']);
  });

  it('names each holder of a directory once (a service spec and its rollback spec mount the same)', () => {
    expect(messages([dir('/data/inuse')], { mounts: [mount('/data/inuse'), mount('/data/inuse')] })).toHaveLength(1);
  });
});

describe('how a --models directory is found on disk', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'asrctl-model-removal-'));
    await mkdir(join(root, 'real', 'model', 'am'), { recursive: true });
    await writeFile(join(root, 'real', 'model', 'am', 'final.mdl'), '');
    await writeFile(join(root, 'file'), '');
    await symlink(join(root, 'real'), join(root, 'link'));
  });

  afterAll(() => rm(root, { recursive: true, force: true }));

  it('resolves against the current directory and follows symlinks', async () => {
    expect(await askedModelDirectory('link/model', root)).toEqual({
      given: 'link/model',
      path: join(root, 'link', 'model'),
      realPath: join(root, 'real', 'model'),
      found: 'directory',
    });
    expect(await askedModelDirectory('link', root)).toMatchObject({ found: 'directory', notAModel: true });
    expect((await askedModelDirectory('file', root)).found).toBe('file');
    expect(await askedModelDirectory('missing', root)).toEqual({ given: 'missing', path: join(root, 'missing'), found: 'nothing' });
  });
});
