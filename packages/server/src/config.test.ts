import { describe, expect, it } from 'vitest';
import { ConfigError, configInputFromEnv, resolveConfig } from './config.js';

describe('protocol ports in the configuration', () => {
  const models = { model: ['cn=/m/cn'] };

  it('are off unless set, and come from flags or ASR_VOSK_PORT / ASR_FUNASR_PORT', () => {
    expect(resolveConfig({}, models).protocolPorts).toEqual({});
    const fromEnv = configInputFromEnv({ ASR_VOSK_PORT: '2700', ASR_FUNASR_PORT: '10095' });
    expect(resolveConfig(fromEnv, models).protocolPorts).toEqual({ vosk: 2700, funasr: 10095 });
    expect(resolveConfig(fromEnv, { ...models, voskPort: '0' }).protocolPorts).toEqual({ funasr: 10095 });
  });

  it('may not share a port with another listener', () => {
    expect(() => resolveConfig({}, { ...models, port: '2700', voskPort: '2700' })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { ...models, voskPort: '9000', funasrPort: '9000' })).toThrow(
      /funasr port 9000 is already used by another listener/u,
    );
    expect(() => resolveConfig({}, { ...models, funasrPort: 'ten' })).toThrow(
      /funasr port "ten": expected a whole number from 0 to 65535/u,
    );
  });
});
