import { describe, expect, it } from 'vitest';
import { resolveDeployConfig } from '../../deployment/deploy-config.js';
import { LABELS, deploymentNames } from '../../deployment/deployment-names.js';
import { appContainerSpec } from './app-container-spec.js';

const names = deploymentNames('asr');
const config = (input: Record<string, string | string[]> = {}) =>
  resolveDeployConfig([{ project: 'asr', model: ['cn=/srv/cn', 'en=/srv/en'], voskPort: '2700', funasrPort: '0', ...input }], '/x');

describe('the app container spec (plain data, no engine)', () => {
  it('behind the edge (blue-green): a loopback port for the probe only, the edge trusted, the colour on its name, labels and alias', () => {
    const spec = appContainerSpec(config(), names, {
      color: 'green',
      image: 'asrctl/asr-app:abc',
      labels: { v: '1' },
      publishPublicPort: false,
    });
    expect(spec.name).toBe('asr-app-green');
    expect(spec.Image).toBe('asrctl/asr-app:abc');
    expect(spec.Labels).toMatchObject({
      v: '1',
      [LABELS.project]: 'asr',
      [LABELS.role]: 'app',
      [LABELS.color]: 'green',
      [LABELS.composeNumber]: '2',
    });
    expect(spec.HostConfig?.PortBindings).toEqual({ '8765/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    expect(Object.keys(spec.ExposedPorts ?? {})).toEqual(['8765/tcp', '2700/tcp']);
    expect(spec.Env).toContain('ASR_MODEL_CN=/models/cn');
    expect(spec.Env?.some((e) => e.endsWith('=true') && e.includes('TRUST_PROXY'))).toBe(true);
    expect(spec.HostConfig?.Binds).toEqual(['/srv/cn:/models/cn:ro', '/srv/en:/models/en:ro']);
    expect(spec.HostConfig?.NetworkMode).toBe('asr_default');
    expect(spec.NetworkingConfig?.EndpointsConfig?.asr_default?.Aliases).toEqual(['app-green']);
  });

  it('without an edge (recreate): the public and protocol ports on the bind address, --allow applied by the app itself', () => {
    const spec = appContainerSpec(config({ bind: '127.0.0.1', port: '9000', allow: ['10.0.0.0/8'] }), names, {
      color: 'blue',
      image: 'i',
      labels: {},
      publishPublicPort: true,
    });
    expect(spec.HostConfig?.PortBindings).toEqual({
      '8765/tcp': [{ HostIp: '127.0.0.1', HostPort: '9000' }],
      '2700/tcp': [{ HostIp: '127.0.0.1', HostPort: '2700' }],
    });
    expect(spec.Env?.some((e) => e.includes('TRUST_PROXY') && e.endsWith('=false'))).toBe(true);
    expect(spec.Env?.some((e) => e.includes('10.0.0.0/8'))).toBe(true);
    expect(spec.Labels?.[LABELS.composeNumber]).toBe('1');
  });

  it('carries the limits, the tokens file read-only, and the hardening', () => {
    const spec = appContainerSpec(config({ memory: '2g', cpus: '1.5', gpus: 'device=0,1', tokensFile: '/etc/tokens' }), names, {
      color: 'blue',
      image: 'i',
      labels: {},
      publishPublicPort: false,
    });
    expect(spec.HostConfig).toMatchObject({
      Memory: 2 * 1024 ** 3,
      NanoCpus: 1.5e9,
      DeviceRequests: [{ Driver: '', DeviceIDs: ['0', '1'], Capabilities: [['gpu']] }],
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      PidsLimit: 256,
      RestartPolicy: { Name: 'unless-stopped' },
    });
    expect(spec.HostConfig?.Binds).toContain('/etc/tokens:/run/asrctl/tokens:ro');
    expect(spec.Env).toContain('ASR_TOKENS_FILE=/run/asrctl/tokens');
    expect(spec.StopTimeout).toBe(15);
  });

  it('asks for every GPU with --gpus all, and a count with a number', () => {
    const request = { color: 'blue', image: 'i', labels: {}, publishPublicPort: false } as const;
    expect(appContainerSpec(config({ gpus: 'all' }), names, request).HostConfig?.DeviceRequests).toEqual([
      { Driver: '', Count: -1, Capabilities: [['gpu']] },
    ]);
    expect(appContainerSpec(config({ gpus: '2' }), names, request).HostConfig?.DeviceRequests).toEqual([
      { Driver: '', Count: 2, Capabilities: [['gpu']] },
    ]);
  });
});
