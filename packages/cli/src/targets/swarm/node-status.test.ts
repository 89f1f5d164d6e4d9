import { describe, expect, it } from 'vitest';
import type { SwarmNode, TaskFacts } from '../../docker/swarm.js';
import { swarmNodeStatus } from './node-status.js';

const node = (id: string, address: string, state = 'ready'): SwarmNode => ({
  id,
  hostname: 'lab',
  address,
  state,
  availability: 'active',
  role: 'worker',
  memoryBytes: 0,
  cpus: 1,
});
const task = (id: string, nodeId: string, state: string, desiredState = 'running'): TaskFacts => ({
  id: `${id}0123456789abcdef`,
  nodeId,
  state,
  desiredState,
  message: '',
  image: 'i',
  addresses: [],
  updatedAt: '',
  forceUpdate: 0,
});

describe('swarmNodeStatus', () => {
  it('lists every node with its app tasks and the models only where a task runs', () => {
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2'), node('n3', '10.0.0.3', 'down')];
    const tasks = [task('a', 'n1', 'running'), task('b', 'n2', 'preparing'), task('c', 'n3', 'running', 'shutdown')];
    expect(swarmNodeStatus(nodes, tasks, ['cn=cn', 'en=en'], 'image')).toEqual([
      {
        name: 'lab (10.0.0.1)',
        state: 'ready',
        availability: 'active',
        role: 'worker',
        appTasks: [{ id: 'a0123456789a', state: 'running' }],
        models: ['cn=cn', 'en=en'],
        modelsFrom: 'image',
      },
      {
        name: 'lab (10.0.0.2)',
        state: 'ready',
        availability: 'active',
        role: 'worker',
        appTasks: [{ id: 'b0123456789a', state: 'preparing' }],
        models: [],
      },
      { name: 'lab (10.0.0.3)', state: 'down', availability: 'active', role: 'worker', appTasks: [], models: [] },
    ]);
  });
});
