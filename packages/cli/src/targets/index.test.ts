import { describe, expect, it } from 'vitest';
import { resolveDeployConfig } from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { connectEngine } from '../docker/engine.js';
import { TARGETS, otherTargetsSettings, scalingTargetFor, targetNamed } from './index.js';

// Building a deployment talks to no engine: the client is never used here.
const docker = connectEngine();
const names = deploymentNames('asr');
const deploymentFor = (input: Record<string, string>) => {
  const config = resolveDeployConfig([{ project: 'asr', model: ['cn=/srv/cn'], ...input }], '/x');
  return targetNamed(config.target).deployment(docker, config, names);
};

describe('the deployment target registry', () => {
  it('has one target per --target value', () => {
    expect(TARGETS.map((t) => t.name)).toEqual(['docker', 'swarm']);
    expect(new Set(TARGETS.map((t) => t.runsAs)).size).toBe(TARGETS.length);
  });

  it('gives each --target and --strategy its swap, and an edge only where one holds the port', () => {
    const blueGreen = deploymentFor({});
    expect(blueGreen.strategy).toBe('blue-green');
    expect(blueGreen.edge?.imageFor('sha256:0123456789abcdef')).toBe('asrctl/asr-edge:latest');
    const recreate = deploymentFor({ strategy: 'recreate' });
    expect(recreate.strategy).toBe('recreate');
    expect(recreate.edge).toBeUndefined();
    const swarm = deploymentFor({ target: 'swarm' });
    expect(swarm.strategy).toBe('swarm');
    // A service names its image: a tag per content makes an edge change an update.
    expect(swarm.edge?.imageFor('sha256:0123456789abcdef')).toBe('asrctl/asr-edge:0123456789ab');
  });

  it("refuses another target's settings by what each target declares, so a new target needs no rule of its own", () => {
    const shown = (list: ReturnType<typeof otherTargetsSettings>) =>
      list.map(({ key, takenBy }) => `${key}:${takenBy.map((t) => t.name).join('+')}`);
    expect(shown(otherTargetsSettings(targetNamed('docker')))).toEqual([
      'replicas:swarm',
      'registry:swarm',
      'publishMode:swarm',
      'constraint:swarm',
    ]);
    expect(shown(otherTargetsSettings(targetNamed('swarm')))).toEqual(['strategy:docker', 'bind:docker', 'gpus:docker']);
    // A third target that takes none of them refuses both sets, naming the target that takes each.
    const third = { ...targetNamed('docker'), name: 'third', options: [], refuses: undefined };
    expect(shown(otherTargetsSettings(third, [...TARGETS, third]))).toEqual([
      'strategy:docker',
      'bind:docker',
      'gpus:docker',
      'replicas:swarm',
      'registry:swarm',
      'publishMode:swarm',
      'constraint:swarm',
    ]);
    // One that also runs replicas: refused elsewhere once, naming both.
    const replicated = { ...third, name: 'replicated', options: ['replicas' as const] };
    expect(shown(otherTargetsSettings(targetNamed('docker'), [...TARGETS, replicated]))[0]).toBe('replicas:swarm+replicated');
  });

  it('lets only targets that run replicas scale', () => {
    expect(TARGETS.filter((t) => t.scale).map((t) => t.name)).toEqual(['swarm']);
  });

  it('scales a Swarm deployment, and says why a project on containers cannot be scaled', () => {
    expect(scalingTargetFor(targetNamed('swarm'), 'asr')).toHaveProperty('scale');
    // Deployed nowhere: Swarm's own checks say what is missing.
    expect(scalingTargetFor(undefined, 'asr')).toHaveProperty('scale');
    expect(() => scalingTargetFor(targetNamed('docker'), 'asr')).toThrow(
      '"asr" runs as containers on this engine, one app each; asrctl scale applies to Swarm services\n  hint: deploy it with --target swarm to run replicas',
    );
  });
});
