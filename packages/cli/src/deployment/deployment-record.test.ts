import { describe, expect, it } from 'vitest';
import { type DeployInput, resolveDeployConfig } from './deploy-config.js';
import { decodeSettings, describeMerge, encodeSettings, mergeWithRecord, recordedSettings } from './deployment-record.js';

const cwd = '/srv/deploy';
const deployed = (input: DeployInput) => resolveDeployConfig([{ project: 'asr', ...input }], cwd);

describe('the deployment record', () => {
  it('resolves back to exactly what was deployed, docker and swarm, from any folder', () => {
    const docker = deployed({
      model: ['cn=vosk-model-small-cn-0.22', 'en=/data/models/en-tone'],
      port: '9000',
      bind: '127.0.0.1',
      funasrPort: '0',
      memory: '2g',
      cpus: '1.5',
      strategy: 'recreate',
      tlsCert: 'tls/cert.pem',
      tlsKey: 'tls/key.pem',
      allow: ['10.0.0.0/8'],
      tokensFile: 'tokens',
      baseImage: 'asrctl/node-base:20.20.2',
      mirror: 'http://mirror.local/vosk',
    });
    const swarm = deployed({ target: 'swarm', model: ['cn=/m/a', 'en=/m/b'], registry: 'reg:5000', constraint: ['node.role==worker'] });
    for (const config of [docker, swarm]) {
      const record = decodeSettings(encodeSettings(recordedSettings(config)))!;
      expect(resolveDeployConfig([{ project: 'asr', ...record }], '/somewhere/else')).toEqual(config);
    }
    expect(recordedSettings(docker)).toMatchObject({
      model: ['cn=vosk-model-small-cn-0.22', 'en=/data/models/en-tone'],
      modelsDir: '/srv/deploy/models',
      memory: '2g',
      tlsCert: '/srv/deploy/tls/cert.pem',
    });
  });

  it('a bare restart reuses the record; a flag given overrides it and is reported', () => {
    const record = recordedSettings(deployed({ model: ['cn=/m/A', 'en=/m/B'], memory: '2g', baseImage: 'asrctl/node-base:20.20.2' }));
    const bare = mergeWithRecord(record, [{ from: 'flag', input: {} }], 'asr');
    expect(bare.overrides).toEqual([]);
    expect(resolveDeployConfig(bare.sources, '/elsewhere').models.map((m) => m.hostDir)).toEqual(['/m/A', '/m/B']);
    expect(describeMerge('restart', 'asr', bare)).toContain('  --model cn=/m/A --model en=/m/B');

    const given = mergeWithRecord(
      record,
      [
        { from: 'asrctl.json', input: { port: '8765' } },
        { from: 'environment', input: { cpus: '2' } },
        { from: 'flag', input: { memory: '3g', baseImage: 'asrctl/node-base:20.20.2' } },
      ],
      'asr',
    );
    // The same port from the config file is no override.
    expect(describeMerge('restart', 'asr', given).filter((l) => !l.startsWith(' '))).toEqual([
      'restart: the settings "asr" was deployed with:',
      'restart: --cpus 2 (from the environment) overrides nothing set when deployed',
      'restart: --memory 3g overrides the deployed 2g',
    ]);
    const config = resolveDeployConfig(given.sources, '/elsewhere');
    expect(config).toMatchObject({ memoryBytes: 3 * 1024 ** 3, cpus: 2, baseImage: 'asrctl/node-base:20.20.2' });
    expect(config.models.map((m) => m.hostDir)).toEqual(['/m/A', '/m/B']);
  });

  it('replaces only the languages a --model names, and drops what only made sense with a setting now replaced', () => {
    const record = recordedSettings(deployed({ model: ['cn=/m/A', 'en=/m/B'], strategy: 'recreate', defaultLanguage: 'en' }));
    const models = mergeWithRecord(record, [{ from: 'flag', input: { model: ['en=/m/C'] } }], 'asr');
    const config = resolveDeployConfig(models.sources, cwd);
    expect(config).toMatchObject({ defaultLanguage: 'en', strategy: 'recreate' });
    expect(config.models.map((m) => `${m.language}=${m.hostDir}`)).toEqual(['cn=/m/A', 'en=/m/C']);
    expect(models.overrides).toEqual([{ key: 'model', from: 'flag', value: ['en=/m/C'], deployed: ['en=/m/B'] }]);
    expect(describeMerge('restart', 'asr', models).at(-1)).toBe('restart: --model en=/m/C overrides the deployed en=/m/B');
    // A language no longer served takes its default language with it.
    const onlyFr = mergeWithRecord(
      recordedSettings(deployed({ model: ['cn=/m/A'], defaultLanguage: 'cn' })),
      [{ from: 'flag', input: { model: ['fr=/m/F'] } }],
      'asr',
    );
    expect(resolveDeployConfig(onlyFr.sources, cwd).models.map((m) => m.language)).toEqual(['cn', 'fr']);
    const swarm = mergeWithRecord(record, [{ from: 'flag', input: { target: 'swarm' } }], 'asr');
    expect(resolveDeployConfig(swarm.sources, cwd)).toMatchObject({ target: 'swarm', publishMode: 'host' });
  });

  it('ignores a label that is not a record', () => {
    for (const label of [undefined, '', 'x', '[]', '{"port":8765}', '{"model":[1]}']) expect(decodeSettings(label)).toBeUndefined();
  });
});
