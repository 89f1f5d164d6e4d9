import { type DeprecatedEnv, configInputFromEnv, resolveConfig } from '@asrctl/server';
import { describe, expect, it } from 'vitest';
import { appEnvironment } from './app-environment.js';
import { resolveDeployConfig } from './deploy-config.js';

describe("the app container's environment", () => {
  it('is read back by the server as the deployment configured it, with no deprecated name', () => {
    const config = resolveDeployConfig(
      [{ model: ['zh=/m/cn', 'en=/m/en'], defaultLanguage: 'en', tokensFile: '/t', funasrPort: '0' }],
      '/x',
    );
    const env = appEnvironment(config, { behindEdge: true, tokensPath: '/run/secrets/t', sessionDrainSeconds: 20 });
    const deprecated: DeprecatedEnv[] = [];
    const input = configInputFromEnv(
      Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      deprecated,
    );
    expect(input).toEqual({
      model: ['cn=/models/cn', 'en=/models/en'],
      defaultLanguage: 'en',
      shutdownTimeout: '10000',
      sessionDrain: '20000',
      voskPort: '2700',
      tokensFile: '/run/secrets/t',
      trustProxy: 'true',
    });
    expect(deprecated).toEqual([]);
    expect(() => resolveConfig(input, {})).toThrow(/cannot read the tokens file/u);
    expect(resolveConfig({ ...input, tokensFile: undefined }, {})).toMatchObject({
      sessionDrainMs: 20000,
      trustProxy: true,
      protocolPorts: { vosk: 2700 },
    });
  });

  it('mounts each model under its own name and gives a language its models in order, the first its default', () => {
    const config = resolveDeployConfig([{ model: ['cn=/srv/small-cn', 'cn=/srv/vosk-model-cn-0.22', 'en=/srv/en-us'] }], '/x');
    const env = appEnvironment(config, { behindEdge: false, tokensPath: '/t' });
    const input = configInputFromEnv(Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])));
    expect(resolveConfig(input, {}).models).toEqual([
      ['cn', '/models/small-cn'],
      ['cn', '/models/vosk-model-cn-0.22'],
      ['en', '/models/en-us'],
    ]);
  });
});
