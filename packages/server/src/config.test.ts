import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from './testing/self-signed-certificate.js';
import { ConfigError, SERVER_USAGE, configFrom, configInputFromEnv, parseServerArgs, resolveConfig } from './config.js';
import { type DeprecatedEnv, type OptionSpec, envAssignments, envOf, flagOf } from './options/option-table.js';
import { SERVER_OPTIONS } from './options/server-options.js';

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

describe('the option table', () => {
  const models = { model: ['cn=/m/cn'] };

  it('names every variable ASR_ and the flag in upper snake case', () => {
    for (const [key, spec] of Object.entries<OptionSpec>(SERVER_OPTIONS.options)) {
      if (spec.customEnv) continue;
      expect(envOf(SERVER_OPTIONS, key)).toBe(`ASR_${flagOf(key).replaceAll('-', '_').toUpperCase()}`);
    }
    expect(envOf(SERVER_OPTIONS, 'idleTimeout')).toBe('ASR_IDLE_TIMEOUT');
    expect(envOf(SERVER_OPTIONS, 'allowIp')).toBe('ASR_ALLOW_IP');
  });

  it('declares defaults its own value type accepts', () => {
    for (const [key, spec] of Object.entries<OptionSpec>(SERVER_OPTIONS.options)) {
      if (spec.default === undefined || !spec.type) continue;
      const problems: string[] = [];
      expect(spec.type.parse(String(spec.default), key, problems), key).toEqual(spec.default);
      expect(problems).toEqual([]);
    }
  });

  it('reads the old variable names, reporting each, and prefers the new ones', () => {
    const deprecated: DeprecatedEnv[] = [];
    const input = configInputFromEnv(
      {
        ASR_IDLE_TIMEOUT_SECONDS: '5',
        ASR_ALLOW_IPS: '10.0.0.0/8, ::1',
        ASR_ALLOW_ORIGINS: 'null',
        ASR_PING_INTERVAL_SECONDS: '7',
        ASR_MAX_BUFFERED_AUDIO_SECONDS: '9',
        ASR_SESSION_DRAIN_MS: '1000',
        ASR_SHUTDOWN_TIMEOUT_MS: '2000',
        ASR_SHUTDOWN_TIMEOUT: '3000',
      },
      deprecated,
    );
    const config = resolveConfig(input, models, { deprecated });
    expect(config.limits).toMatchObject({ idleTimeoutSeconds: 5, pingIntervalSeconds: 7, maxBufferedAudioSeconds: 9 });
    expect(config.access).toMatchObject({ allowIps: ['10.0.0.0/8', '::1'], allowOrigins: ['null'] });
    expect(config).toMatchObject({ sessionDrainMs: 1000, shutdownTimeoutMs: 3000 });
    expect(config.deprecatedEnv).toEqual([
      { name: 'ASR_SESSION_DRAIN_MS', use: 'ASR_SESSION_DRAIN' },
      { name: 'ASR_ALLOW_IPS', use: 'ASR_ALLOW_IP' },
      { name: 'ASR_ALLOW_ORIGINS', use: 'ASR_ALLOW_ORIGIN' },
      { name: 'ASR_IDLE_TIMEOUT_SECONDS', use: 'ASR_IDLE_TIMEOUT' },
      { name: 'ASR_PING_INTERVAL_SECONDS', use: 'ASR_PING_INTERVAL' },
      { name: 'ASR_MAX_BUFFERED_AUDIO_SECONDS', use: 'ASR_MAX_BUFFERED_AUDIO' },
    ]);
    expect(resolveConfig(configInputFromEnv({ ASR_IDLE_TIMEOUT: '4' }), models).deprecatedEnv).toBeUndefined();
  });

  it('reads several models of a language from ASR_MODEL_<LANG>, comma-separated, the first its default', () => {
    expect(resolveConfig(configInputFromEnv({ ASR_MODEL_CN: '/m/small, /m/standard', ASR_MODEL_EN: '/m/en' }), {}).models).toEqual([
      ['cn', '/m/small'],
      ['cn', '/m/standard'],
      ['en', '/m/en'],
    ]);
  });

  it('takes auto as the default language (each utterance in its own language)', () => {
    expect(resolveConfig({}, { ...models, defaultLanguage: 'auto' }).defaultLanguage).toBe('auto');
    expect(() => resolveConfig({}, { ...models, defaultLanguage: 'fr' })).toThrow(/default language "fr" has no model/u);
  });

  it('refuses a blank default language, as the deploy does, instead of starting sessions in no language', () => {
    expect(() => resolveConfig({}, { ...models, defaultLanguage: ' ' })).toThrow(/default language "" has no model \(configured: cn/u);
  });

  it("gives vosk-server clients vosk-server's defaults, configurable, also under vosk-server's own variable names", () => {
    expect(resolveConfig({}, models).voskDefaults).toEqual({ sampleRate: 8000, words: true });
    expect(resolveConfig({}, { ...models, voskSampleRate: '16000', voskWords: 'false' }).voskDefaults).toEqual({
      sampleRate: 16000,
      words: false,
    });
    const deprecated: DeprecatedEnv[] = [];
    const input = configInputFromEnv({ VOSK_SAMPLE_RATE: '16000', VOSK_SHOW_WORDS: '0' }, deprecated);
    expect(resolveConfig(input, models).voskDefaults).toEqual({ sampleRate: 16000, words: false });
    // vosk-server's own names, read as they are: no deprecation.
    expect(deprecated).toEqual([]);
    expect(() => resolveConfig({}, { ...models, voskSampleRate: '4000' })).toThrow(/vosk-server sample rate/u);
  });

  it('names the variable that holds a bad value, the old name included', () => {
    expect(() => configFrom({ ASR_IDLE_TIMEOUT_SECONDS: 'abc', ASR_PORT: '8765', ASR_MODEL_CN: tmpdir() }, { port: '99999' })).toThrow(
      [
        'invalid configuration:',
        '  - ASR_IDLE_TIMEOUT_SECONDS: idle timeout (seconds) "abc": expected a whole number from 1 to 86400',
        '  - port "99999": expected a whole number from 0 to 65535',
      ].join('\n'),
    );
  });

  it('tells the variables surely meant for it that it ignores: an old name beside its current one, a near-miss of a name', () => {
    const env = {
      ASR_IDLE_TIMEOUT: '7',
      ASR_IDLE_TIMEOUT_SECONDS: '5',
      ASR_IDLE_TIMOUT: '5',
      ASR_MAX_SESION: '2',
      ASR_MODLE_EN: '/m/en',
      ASR_MODEL_en: '/m/en',
      ASR_VOSK_WORDS: 'false',
      VOSK_SHOW_WORDS: 'true',
      // Read by the table, by its pattern, or someone else's: not told.
      ASR_ALLOW_IPS: '::1',
      ASR_MODEL_EN: '/m/en',
      ASR_URL: 'ws://x',
      ASR_MODELS_ROOT: '/x',
      HOME: '/root',
    };
    const config = configFrom(env, { model: [`cn=${tmpdir()}`] });
    expect(config.limits.idleTimeoutSeconds).toBe(7);
    expect(config.ignoredEnv).toEqual([
      { name: 'VOSK_SHOW_WORDS', use: 'ASR_VOSK_WORDS', why: 'superseded' },
      { name: 'ASR_IDLE_TIMEOUT_SECONDS', use: 'ASR_IDLE_TIMEOUT', why: 'superseded' },
      { name: 'ASR_IDLE_TIMOUT', use: 'ASR_IDLE_TIMEOUT', why: 'misspelt' },
      { name: 'ASR_MAX_SESION', use: 'ASR_MAX_SESSIONS', why: 'misspelt' },
      { name: 'ASR_MODLE_EN', use: 'ASR_MODEL_EN', why: 'misspelt' },
      { name: 'ASR_MODEL_en', use: 'ASR_MODEL_EN', why: 'misspelt' },
    ]);
    expect(configFrom({ ASR_PORT: '8765' }, { model: [`cn=${tmpdir()}`] }).ignoredEnv).toBeUndefined();
  });

  it('refuses an on/off setting or an origin it would silently misread', () => {
    // Both started before, with the proxy trusted off and every browser page refused.
    expect(() => resolveConfig(configInputFromEnv({ ASR_TRUST_PROXY: 'enabled' }), models)).toThrow(
      'trust proxy "enabled": expected true or false (or 1/0, yes/no, on/off)',
    );
    expect(() => resolveConfig({}, { ...models, allowOrigin: ['https://ok.example', 'app.example'] })).toThrow(
      'allowed origin "app.example": expected an origin (scheme and host, no path or wildcard) such as https://app.example, or null',
    );
    expect(resolveConfig({}, { ...models, allowOrigin: ['https://App.Example/', 'null'] }).access.allowOrigins).toEqual([
      'https://app.example',
      'null',
    ]);
  });

  it('parses every flag of the table, repeatable ones as lists, and refuses unknown ones', () => {
    const input = parseServerArgs(['--session-drain', '500', '--allow-ip', '::1', '--allow-ip', '10.0.0.0/8', '--model', 'zh=/m/cn']);
    expect(input).toEqual({ sessionDrain: '500', allowIp: ['::1', '10.0.0.0/8'], model: ['zh=/m/cn'] });
    expect(resolveConfig({}, input)).toMatchObject({ sessionDrainMs: 500, models: [['cn', '/m/cn']] });
    expect(() => parseServerArgs(['--idle-timeout-seconds', '5'])).toThrow(/Unknown option '--idle-timeout-seconds'/u);
    expect(() => parseServerArgs(['--tokens', 'secret'])).toThrow(/Unknown option '--tokens'/u);
  });

  it('writes a setting as the environment the image reads back', () => {
    const env = Object.fromEntries(
      envAssignments(SERVER_OPTIONS, { sessionDrain: '20000', allowIp: ['::1', '10.0.0.0/8'], trustProxy: 'true' }).map((e) =>
        e.split('='),
      ),
    );
    expect(env).toEqual({ ASR_SESSION_DRAIN: '20000', ASR_ALLOW_IP: '::1,10.0.0.0/8', ASR_TRUST_PROXY: 'true' });
    expect(resolveConfig(configInputFromEnv(env), models)).toMatchObject({ sessionDrainMs: 20000, trustProxy: true });
  });

  it('lists every flag in --help with its variable and default', () => {
    for (const [key, spec] of Object.entries<OptionSpec>(SERVER_OPTIONS.options)) {
      if (spec.envOnly) continue;
      expect(SERVER_USAGE).toContain(`--${flagOf(key)} `);
      expect(SERVER_USAGE).toContain(envOf(SERVER_OPTIONS, key));
    }
    expect(SERVER_USAGE).toMatch(
      /--idle-timeout S +a session silent this long gets its final and close 1000 \(ASR_IDLE_TIMEOUT; default 60\)/u,
    );
  });
});

describe('tokens: asked for but none given is refused, never open by mistake', () => {
  const models = { model: ['cn=/m/cn'] };
  const dir = mkdtempSync(join(tmpdir(), 'asrctl-tokens-'));
  const file = (name: string, text: string): string => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it.each([
    ['empty', ''],
    ['comments only', '# clients\n\n   \n'],
  ])('an %s tokens file (before: every client let in)', (_what, text) => {
    const path = file('tokens', text);
    expect(() => resolveConfig({}, { ...models, tokensFile: path })).toThrow(
      `the tokens file ${path} holds no token, which would let every client in: write one per line`,
    );
  });

  it.each([',', ' ', ' , '])('ASR_TOKENS=%j', (value) => {
    expect(() => configFrom({ ASR_TOKENS: value, ASR_MODEL_CN: '/m/cn' }, {})).toThrow(
      'ASR_TOKENS holds no token, which would let every client in: set it to a,b or unset it',
    );
  });

  it('an empty metrics token file, with every other problem at once', () => {
    const path = file('metrics', '# none yet\n');
    expect(() => resolveConfig({}, { ...models, metricsTokenFile: path, port: 'x' })).toThrow(
      new RegExp(`port "x".*\\n.*the metrics token file ${path} holds no token, so /metrics would refuse every request`, 'su'),
    );
  });

  it('a file with a token is taken', () => {
    expect(resolveConfig({}, { ...models, tokensFile: file('ok', '# clients\nsecret-1\n') }).access.tokens).toEqual(['secret-1']);
  });
});

describe('what the configuration names on this host', () => {
  let dir: string;
  let pair: { cert: string; key: string };
  let other: { cert: string; key: string };
  let notPem: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'asrctl-config-'));
    pair = await selfSignedCertificate(dir);
    other = await selfSignedCertificate(await mkdtemp(join(dir, 'other-')));
    notPem = join(dir, 'not-pem.txt');
    await writeFile(notPem, 'hello\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const models = { model: ['cn=/m/cn'] };

  it('refuses a certificate or key that is not PEM, or a key not of the certificate, naming the files', () => {
    // Before, these started and failed with "PEM routines::no start line" and a stack, exit 1.
    expect(() => resolveConfig({}, { ...models, tlsCert: notPem, tlsKey: notPem })).toThrow(
      [
        'invalid configuration:',
        `  - the TLS certificate ${notPem} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`,
        `  - the TLS key ${notPem} is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)`,
      ].join('\n'),
    );
    expect(() => resolveConfig({}, { ...models, tlsCert: pair.key, tlsKey: pair.cert })).toThrow(
      `the TLS certificate ${pair.key} is not a PEM certificate`,
    );
    expect(() => resolveConfig({}, { ...models, tlsCert: pair.cert, tlsKey: other.key })).toThrow(
      `the TLS key ${other.key} is not the private key of the certificate ${pair.cert}`,
    );
    expect(() => resolveConfig({}, { ...models, tlsCert: pair.cert, tlsKey: join(dir, 'gone.pem') })).toThrow(
      `cannot read the TLS key ${join(dir, 'gone.pem')}: ENOENT`,
    );
    expect(resolveConfig({}, { ...models, tlsCert: pair.cert, tlsKey: pair.key }).tls?.cert).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a listen address that is neither an IP address nor a host name', () => {
    // Before, 999.1.1.1 failed at listen with "getaddrinfo ENOTFOUND", exit 1.
    for (const host of ['999.1.1.1', 'bad host', 'a..b', '-x.example'])
      expect(() => resolveConfig({}, { ...models, host }), host).toThrow(`host "${host}": expected an IP address such as 0.0.0.0`);
    expect(() => configFrom({ ASR_HOST: '999.1.1.1', ASR_MODEL_CN: tmpdir() }, {})).toThrow('ASR_HOST: host "999.1.1.1"');
    for (const host of ['0.0.0.0', '::', '::1', 'localhost', 'asr-1.example.com'])
      expect(resolveConfig({}, { ...models, host }).host).toBe(host);
  });

  it('refuses model directories that do not exist, naming the flag or variable, with every other problem', () => {
    // Before, the server listened, then stopped with start_failed, exit 1.
    expect(() => configFrom({}, { model: ['cn=/nonexistent', `en=${notPem}`, `zh=${dir}`], host: '999.1.1.1' })).toThrow(
      [
        'invalid configuration:',
        '  - --model cn=/nonexistent: model directory /nonexistent does not exist or is not a directory',
        `  - --model en=${notPem}: model directory ${notPem} does not exist or is not a directory`,
        '  - host "999.1.1.1": expected an IP address such as 0.0.0.0, 127.0.0.1 or ::, or a host name such as localhost',
      ].join('\n'),
    );
    expect(() => configFrom({ ASR_MODEL_CN: `${dir}, /nonexistent`, ASR_MODEL_EN: '/gone' }, {})).toThrow(
      [
        'invalid configuration:',
        '  - ASR_MODEL_CN: model directory /nonexistent does not exist or is not a directory',
        '  - ASR_MODEL_EN: model directory /gone does not exist or is not a directory',
      ].join('\n'),
    );
    // Models given by flag replace the environment's: a variable's missing directory is not used, so not told.
    expect(configFrom({ ASR_MODEL_CN: '/nonexistent' }, { model: [`cn=${dir}`] }).models).toEqual([['cn', dir]]);
  });
});
