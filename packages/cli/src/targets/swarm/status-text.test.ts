import { describe, expect, it } from 'vitest';
import { swarmStatusText } from './status-text.js';
import type { SwarmStatus } from './swarm-operations.js';

const status = (problems: string[]): SwarmStatus => ({
  project: 'asr',
  target: 'swarm',
  kind: 'update',
  publishMode: 'host',
  publishedAs: '8765',
  problems,
  services: [
    {
      name: 'asr_app',
      role: 'app',
      image: 'reg:5000/asr-app:1-models-abc',
      mode: 'replicated 3',
      running: 3,
      desired: 3,
      labels: {},
      tasks: [
        {
          id: 'c0123456789a',
          node: 'lab (10.0.0.3)',
          state: 'running',
          desiredState: 'running',
          image: 'i',
          addresses: [],
          since: new Date().toISOString(),
        },
      ],
    },
  ],
  nodes: [],
});

describe('swarmStatusText', () => {
  it('says serving only when nothing is wrong, and names the node of each task by hostname and address', () => {
    const healthy = swarmStatusText(status([]));
    expect(healthy.split('\n')[0]).toBe('"asr": serving (swarm, host mode, port 8765)');
    expect(healthy).toContain('task c0123456789a on lab (10.0.0.3): running');

    const lost = swarmStatusText(status(['node lab (10.0.0.3) is down (active)']));
    expect(lost.split('\n').slice(0, 2)).toEqual([
      '"asr": serving, DEGRADED (swarm, host mode, port 8765)',
      '  problem: node lab (10.0.0.3) is down (active)',
    ]);
  });
});
