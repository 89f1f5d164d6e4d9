import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveDeployConfig } from '../../deployment/deploy-config.js';
import { LABELS, deploymentNames } from '../../deployment/deployment-names.js';
import { edgeContainerSpec, edgeFiles } from './edge-container-spec.js';

const names = deploymentNames('asr');
const config = resolveDeployConfig(
  [{ project: 'asr', model: ['cn=/srv/cn'], bind: '127.0.0.1', port: '9000', voskPort: '0', funasrPort: '10095', drainTimeout: '30' }],
  '/x',
);

describe('the edge container spec (plain data, no engine)', () => {
  it('publishes the public and protocol ports, records them in a label, and keeps only the capabilities HAProxy needs', () => {
    const spec = edgeContainerSpec(config, names, 'asrctl/asr-edge:latest');
    expect(spec.name).toBe('asr-edge-1');
    expect(spec.Image).toBe('asrctl/asr-edge:latest');
    expect(spec.Labels).toMatchObject({ [LABELS.role]: 'edge', [LABELS.port]: '127.0.0.1:9000,funasr=10095' });
    expect(spec.HostConfig?.PortBindings).toEqual({
      '8765/tcp': [{ HostIp: '127.0.0.1', HostPort: '9000' }],
      '10095/tcp': [{ HostIp: '127.0.0.1', HostPort: '10095' }],
    });
    // The drain timeout, and a little more for HAProxy to close what is left.
    expect(spec.StopTimeout).toBe(35);
    expect(spec.HostConfig).toMatchObject({ CapDrop: ['ALL'], CapAdd: ['SETUID', 'SETGID', 'KILL'], NetworkMode: 'asr_default' });
  });

  it("routes to the active colour's alias and pins the certificate it is given", () => {
    const plain = edgeFiles(config, names, 'green', undefined);
    expect(plain.pem).toBeUndefined();
    expect(plain.config).toContain('app-green');
    expect(plain.config).toContain('app-blue');
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    const tls = edgeFiles(config, names, 'blue', pem);
    expect(tls.pem).toBe(pem);
    expect(tls.config).toContain(createHash('sha256').update(pem).digest('hex'));
    expect(tls.config).not.toBe(edgeFiles(config, names, 'green', pem).config);
  });
});
