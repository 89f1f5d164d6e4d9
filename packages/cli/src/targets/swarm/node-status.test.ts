import { describe, expect, it } from 'vitest';
import type { TaskFacts } from '../../docker/swarm.js';
import { swarmNode } from '../../testing/swarm-facts.js';
import { nodeProblems, swarmNodeStatus } from './node-status.js';

const node = swarmNode;
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
  labels: {},
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

  it('names a lost node that should run tasks, and counts the app tasks Swarm still reports as running there', () => {
    // A partitioned worker: Swarm marks the node down but still lists its task as running.
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2'), node('n3', '10.0.0.3', 'down')];
    const tasks = [task('a', 'n1', 'running'), task('b', 'n2', 'running'), task('c', 'n3', 'running')];
    expect(nodeProblems(nodes, tasks, 3)).toEqual([
      'node lab (10.0.0.3) is down (active): 1 app task there serves nothing; Swarm starts replacements on the other nodes',
      '2 of 3 app tasks run on reachable nodes',
    ]);
    // Down with no task but still active (tasks would be placed there): named, no count.
    expect(nodeProblems(nodes, tasks.slice(0, 2), 2)).toEqual(['node lab (10.0.0.3) is down (active)']);
    // A drained node that is down and runs nothing is no problem; all nodes ready, none either.
    expect(nodeProblems([node('n1', '10.0.0.1'), node('n3', '10.0.0.3', 'down', 'drain')], tasks.slice(0, 1), 1)).toEqual([]);
    expect(nodeProblems(nodes.slice(0, 2), tasks.slice(0, 2), 2)).toEqual([]);
  });
});
