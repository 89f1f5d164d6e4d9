import { describe, expect, it } from 'vitest';
import type { TaskFacts } from '../../docker/swarm.js';
import { swarmNode } from '../../testing/swarm-facts.js';
import { edgeNodeProblems, explainTaskError } from './swarm-state.js';

const node = swarmNode;
const task = (nodeId: string, state: string, desiredState: string, error?: string): TaskFacts => ({
  id: `${nodeId}${state}0123456789`,
  nodeId,
  state,
  desiredState,
  ...(error && { error }),
  message: '',
  image: 'edge',
  addresses: [],
  updatedAt: '',
  forceUpdate: 0,
  labels: {},
});
const BIND =
  'starting container failed: driver failed programming external connectivity on endpoint asr_edge.n3.x: Error starting userland proxy: listen tcp4 0.0.0.0:19512: bind: address already in use';

describe('edgeNodeProblems (the global edge: one task per node)', () => {
  it('names a node that can run tasks and runs no edge, its port and its task error, briefly', () => {
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2'), node('n3', '10.0.0.3')];
    // Newest first: Swarm retries the task, the last one failed on the port.
    const tasks = [
      task('n1', 'running', 'running'),
      task('n2', 'running', 'running'),
      task('n3', 'ready', 'running'),
      task('n3', 'failed', 'shutdown', `${BIND}\n${'x'.repeat(16_000)}`),
    ];
    const problems = edgeNodeProblems(nodes, tasks, '19512');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^no edge runs on node lab \(10\.0\.0\.3\): clients of port 19512 there are refused; its task failed: starting container failed: .* …\(\d+ characters left out\)… x+\n/u,
    );
    expect(problems[0]).toContain(
      "port 19512 is taken on that node by another process or container: free it there (ss -ltnp 'sport = :19512')",
    );
    expect(problems[0]!.length).toBeLessThan(600);
  });

  it('leaves out nodes that run no tasks by design (down, drained, paused): other problems cover a lost node', () => {
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2', 'down'), node('n3', '10.0.0.3', 'ready', 'drain')];
    expect(edgeNodeProblems(nodes, [task('n1', 'running', 'running')], '8765')).toEqual([]);
  });

  it('says what the task does when it has no error yet (its image still pulling)', () => {
    const nodes = [node('n1', '10.0.0.1'), node('n2', '10.0.0.2')];
    expect(edgeNodeProblems(nodes, [task('n1', 'running', 'running'), task('n2', 'preparing', 'running')], '8765')).toEqual([
      'no edge runs on node lab (10.0.0.2): clients of port 8765 there are refused (its task is preparing)',
    ]);
  });
});

describe('explainTaskError', () => {
  it('says a node could not pull from the registry an image named with one, and to use --registry otherwise', () => {
    // Before, both said "deploy with --registry", also to a deploy that had used it (its registry was down).
    expect(explainTaskError('No such image: 10.77.0.1:5000/rs1-app:e186f05bc146-mx69eru1')).toBe(
      'No such image: 10.77.0.1:5000/rs1-app:e186f05bc146-mx69eru1\n    that node could not pull it from 10.77.0.1:5000: is the registry up, and reachable from that node (asrctl deploy checks it from this host only)?',
    );
    expect(explainTaskError('No such image: asrctl/rs1-app:e186f05bc146-mx69eru1')).toBe(
      'No such image: asrctl/rs1-app:e186f05bc146-mx69eru1\n    that node cannot get the image: deploy with --registry so every node pulls it',
    );
  });
});
