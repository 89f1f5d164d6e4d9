import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DeprecatedEnv, envOf, flagOf } from '@asrctl/server';
import { describe, expect, it } from 'vitest';
import { DeployConfigError, deployInputFromEnv, deployInputFromFile, resolveDeployConfig } from './deploy-config.js';
import { DEPLOY_OPTIONS } from '../deploy/deploy-options.js';

describe('resolveDeployConfig', () => {
  it('defaults to blue/green on 8765 with the small catalog models in ./models, cn first', () => {
    const config = resolveDeployConfig([], '/srv/asr');
    expect(config).toMatchObject({
      modelsDir: '/srv/asr/models',
      protocolPorts: { vosk: 2700, funasr: 10095 },
      project: 'asrctl',
      port: 8765,
      bindAddress: '0.0.0.0',
      strategy: 'blue-green',
      defaultLanguage: 'cn',
      models: [
        { language: 'cn', hostDir: '/srv/asr/models/vosk-model-small-cn-0.22', catalogName: 'vosk-model-small-cn-0.22' },
        { language: 'en', hostDir: '/srv/asr/models/vosk-model-small-en-us-0.15', catalogName: 'vosk-model-small-en-us-0.15' },
      ],
      allow: [],
      drainTimeoutSeconds: 30,
    });
  });

  it('lets the environment override the file and flags override both', () => {
    const config = resolveDeployConfig(
      [
        { port: '9000', project: 'fromfile' },
        deployInputFromEnv({ ASRCTL_PORT: '9100', ASRCTL_ALLOW: '10.0.0.0/8, ::1' }),
        { port: '9200' },
      ],
      '/x',
    );
    expect(config).toMatchObject({ project: 'fromfile', port: 9200, allow: ['10.0.0.0/8', '::1'] });
  });

  it('lists every problem at once, each with what was given and what is expected', () => {
    const attempt = (): unknown =>
      resolveDeployConfig(
        [
          {
            project: 'Bad Name',
            port: '70000',
            model: ['cn=/m/cn', 'english'],
            strategy: 'rolling',
            memory: 'lots',
            allow: ['10.0.0.0/33'],
            tlsCert: 'c.pem',
            gpus: 'some',
          },
        ],
        '/x',
      );
    expect(attempt).toThrow(DeployConfigError);
    try {
      attempt();
    } catch (err) {
      expect((err as DeployConfigError).problems).toEqual([
        'project "Bad Name": use lower-case letters, digits, - and _ (at most 41 characters)',
        'port "70000": expected a whole number from 1 to 65535',
        'model "english": expected LANG=NAME or LANG=DIR, e.g. en=vosk-model-small-en-us-0.15 or en=/srv/models/en',
        'strategy "rolling": expected blue-green or recreate',
        'memory "lots": expected a size of at least 64m, such as 2g or 512m',
        'gpus "some": expected all, a count, or device=0,1',
        'TLS needs both --tls-cert and --tls-key',
        'allow "10.0.0.0/33": expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8',
      ]);
    }
  });

  it('reads a bare name as a model under the models directory, a catalog name as one to install', () => {
    const config = resolveDeployConfig(
      [{ model: ['cn=vosk-model-cn-0.22', 'en=my-own-model', 'fr=./fr'], modelsDir: '/data/models' }],
      '/x',
    );
    expect(config.models).toEqual([
      { language: 'cn', hostDir: '/data/models/vosk-model-cn-0.22', catalogName: 'vosk-model-cn-0.22' },
      { language: 'en', hostDir: '/data/models/my-own-model' },
      { language: 'fr', hostDir: '/x/fr' },
    ]);
  });

  it('takes several models per language (the first is its default), auto as the default language, and refuses two models of one name', () => {
    const config = resolveDeployConfig(
      [{ model: ['cn=vosk-model-small-cn-0.22', 'cn=vosk-model-cn-0.22', 'en=/m/en'], modelsDir: '/data/models', defaultLanguage: 'auto' }],
      '/x',
    );
    expect(config.models.map((m) => [m.language, m.hostDir])).toEqual([
      ['cn', '/data/models/vosk-model-small-cn-0.22'],
      ['cn', '/data/models/vosk-model-cn-0.22'],
      ['en', '/m/en'],
    ]);
    expect(config.defaultLanguage).toBe('auto');
    expect(() => resolveDeployConfig([{ model: ['cn=/a/tone', 'en=/b/tone'] }], '/x')).toThrow(
      /two models are named "tone" \(\/b\/tone\); rename one directory/u,
    );
    expect(() => resolveDeployConfig([{ model: ['cn=/a/cn'], defaultLanguage: 'fr' }], '/x')).toThrow(
      /default language "fr" has no model/u,
    );
  });

  it('takes zh for cn and sizes in k, m, g', () => {
    const config = resolveDeployConfig([{ model: ['zh=/m/zh'], memory: '1.5g', cpus: '1.5', gpus: 'device=0,1' }], '/x');
    expect(config).toMatchObject({
      models: [{ language: 'cn', hostDir: '/m/zh' }],
      defaultLanguage: 'cn',
      memoryBytes: 1.5 * 1024 ** 3,
      cpus: 1.5,
      gpus: 'device=0,1',
    });
  });

  it('targets Swarm with replicas, a registry and a publish mode, and says which settings belong to which target', () => {
    expect(
      resolveDeployConfig(
        [deployInputFromEnv({ ASRCTL_TARGET: 'swarm', ASRCTL_REPLICAS: '3', ASRCTL_REGISTRY: 'reg.local:5000/asr/' })],
        '/x',
      ),
    ).toMatchObject({ target: 'swarm', replicas: 3, registry: 'reg.local:5000/asr', publishMode: 'host' });
    expect(resolveDeployConfig([], '/x')).toMatchObject({ target: 'docker', publishMode: 'host' });
    expect(resolveDeployConfig([], '/x').replicas).toBeUndefined();
    const problems = (sources: Parameters<typeof resolveDeployConfig>[0]): string[] => {
      try {
        resolveDeployConfig(sources, '/x');
        return [];
      } catch (err) {
        return (err as DeployConfigError).problems;
      }
    };
    expect(
      problems([{ target: 'swarm', strategy: 'recreate', bind: '127.0.0.1', gpus: 'all', replicas: '64', publishMode: 'mesh' }]),
    ).toEqual([
      'replicas "64": expected a whole number from 1 to 63',
      'publish mode "mesh": expected host or ingress',
      '--strategy applies to --target docker; on Swarm every deploy is a rolling update (start-first)',
      '--bind applies to --target docker; Swarm publishes on every address of a node (limit clients with --allow)',
      '--gpus applies to --target docker; on Swarm, give GPUs as node generic resources',
    ]);
    expect(problems([{ replicas: '2', registry: 'bad registry', constraint: ['node.role=manager'] }])).toEqual([
      'registry "bad registry": expected HOST[:PORT][/PATH], e.g. registry.example.com:5000/asr',
      'constraint "node.role=manager": expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.asr-models==yes',
      '--replicas applies to --target swarm',
      '--registry applies to --target swarm',
      '--constraint applies to --target swarm',
    ]);
    expect(resolveDeployConfig([{ target: 'swarm', constraint: ['node.labels.asr-models==yes'] }], '/x').constraints).toEqual([
      'node.labels.asr-models==yes',
    ]);
  });
});

describe('deploy settings from the option table', () => {
  const fileWith = (content: unknown): string => {
    const dir = mkdtempSync(join(tmpdir(), 'asrctl-config-'));
    const path = join(dir, 'asrctl.json');
    writeFileSync(path, JSON.stringify(content));
    return path;
  };
  const problemsOf = (attempt: () => unknown): string[] => {
    try {
      attempt();
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(DeployConfigError);
      return (err as DeployConfigError).problems;
    }
  };

  it('refuses an unknown key in a config file, naming the nearest setting', () => {
    const path = fileWith({ modle: ['cn=/m/cn'], port: 9000, bnid: '127.0.0.1', colour: 'blue' });
    expect(problemsOf(() => deployInputFromFile(path))).toEqual([
      `${path}: unknown setting "modle" (did you mean "model"?)`,
      `${path}: unknown setting "bnid" (did you mean "bind"?)`,
      `${path}: unknown setting "colour" (settings: ${Object.keys(DEPLOY_OPTIONS.options).join(', ')})`,
    ]);
    const typo = fileWith({ port: { n: 1 }, allow: [['::1']] });
    expect(problemsOf(() => deployInputFromFile(typo))).toEqual([
      `${typo}: "port": expected a string or a number`,
      `${typo}: "allow.0": expected a string or a number`,
    ]);
  });

  it('names the file or the variable that holds a bad value', () => {
    const path = fileWith({ port: 'abc', allow: ['10.0.0.0/8', 'nowhere'], target: 'swarm' });
    expect(problemsOf(() => deployInputFromFile(path))).toEqual([
      `${path}: port "abc": expected a whole number from 1 to 65535`,
      `${path}: allow "nowhere": expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8`,
    ]);
    const problems: string[] = [];
    const input = deployInputFromEnv({ ASRCTL_PORT: '0', ASRCTL_CONSTRAINTS: 'x', ASRCTL_MEMORY: '2g' }, [], problems);
    expect(problems).toEqual([
      'ASRCTL_PORT: port "0": expected a whole number from 1 to 65535',
      'ASRCTL_CONSTRAINTS: constraint "x": expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.asr-models==yes',
    ]);
    expect(input).toEqual({ memory: '2g' });
  });

  it('reads a file that starts with a byte order mark, and says so when a file is empty or not JSON', () => {
    const path = fileWith({});
    writeFileSync(path, '\uFEFF{"port": 9000}');
    expect(deployInputFromFile(path)).toEqual({ port: '9000' });
    writeFileSync(path, ' \n');
    expect(problemsOf(() => deployInputFromFile(path))).toEqual([`${path} is empty: write a JSON object of settings, e.g. {"port": 8765}`]);
    writeFileSync(path, '{"port": 9000,}');
    expect(problemsOf(() => deployInputFromFile(path))[0]).toMatch(new RegExp(`^${path} is not valid JSON: `, 'u'));
  });

  it('reads a config file with numbers as numbers and one value for a list', () => {
    const input = deployInputFromFile(fileWith({ port: 9000, model: 'en=/m/en', allow: ['10.0.0.0/8'], mirror: 'http://mirror.local/' }));
    expect(input).toEqual({ port: '9000', model: ['en=/m/en'], allow: ['10.0.0.0/8'], mirror: 'http://mirror.local/' });
    expect(resolveDeployConfig([input], '/x')).toMatchObject({
      port: 9000,
      models: [{ language: 'en', hostDir: '/m/en' }],
      defaultLanguage: 'en',
    });
  });

  it('names variables ASRCTL_ and the flag, reading the old names with a deprecation', () => {
    const deprecated: DeprecatedEnv[] = [];
    const input = deployInputFromEnv(
      {
        ASRCTL_MODELS: 'cn=/m/cn,en=/m/en',
        ASRCTL_CONSTRAINTS: 'node.role==manager',
        ASR_MODEL_MIRROR: 'http://old.local',
        ASRCTL_MODELS_DIR: '/d',
      },
      deprecated,
    );
    expect(input).toEqual({
      model: ['cn=/m/cn', 'en=/m/en'],
      constraint: ['node.role==manager'],
      mirror: 'http://old.local',
      modelsDir: '/d',
    });
    expect(deprecated).toEqual([
      { name: 'ASRCTL_MODELS', use: 'ASRCTL_MODEL' },
      { name: 'ASR_MODEL_MIRROR', use: 'ASRCTL_MODEL_MIRROR' },
      { name: 'ASRCTL_CONSTRAINTS', use: 'ASRCTL_CONSTRAINT' },
    ]);
    expect(deployInputFromEnv({ ASRCTL_MODEL_MIRROR: 'http://new.local', ASR_MODEL_MIRROR: 'http://old.local' })).toEqual({
      mirror: 'http://new.local',
    });
    for (const key of Object.keys(DEPLOY_OPTIONS.options))
      if (key !== 'mirror') expect(envOf(DEPLOY_OPTIONS, key)).toBe(`ASRCTL_${flagOf(key).replaceAll('-', '_').toUpperCase()}`);
  });

  it('takes the models directory and the mirror, and normalizes languages as the server does', () => {
    const config = resolveDeployConfig(
      [{ modelsDir: 'store', mirror: 'http://mirror.local/models', model: ['ZH=vosk-model-cn-0.22'], defaultLanguage: 'zh' }],
      '/x',
    );
    expect(config).toMatchObject({
      modelsDir: '/x/store',
      mirror: 'http://mirror.local/models',
      defaultLanguage: 'cn',
      models: [{ language: 'cn', hostDir: '/x/store/vosk-model-cn-0.22', catalogName: 'vosk-model-cn-0.22' }],
    });
    expect(problemsOf(() => resolveDeployConfig([{ model: ['en-us=/m/en'] }], '/x'))[0]).toMatch(
      /^model "en-us=\/m\/en": expected LANG=NAME/u,
    );
  });
});
