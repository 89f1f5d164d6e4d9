import type { TaskFacts } from '../../docker/swarm.js';
import { countOf } from '../../text/count-of.js';

export interface ScaleProgress {
  line: string;
  /** Exactly `replicas` tasks are wanted and running. */
  done: boolean;
}

/**
 * Where a scale to `replicas` stands. Swarm applies a new replica count a moment after the update
 * returns: until its orchestrator has marked the tasks to remove, all of them still show as wanted
 * and running, which must not be reported as "3 of 2 tasks run".
 */
export function scaleProgress(tasks: readonly Pick<TaskFacts, 'desiredState' | 'state'>[], replicas: number): ScaleProgress {
  const wanted = tasks.filter((t) => t.desiredState === 'running');
  if (wanted.length > replicas)
    return { line: `Swarm is applying the change (${countOf(wanted.length, 'task')} still wanted)`, done: false };
  const running = wanted.filter((t) => t.state === 'running').length;
  // Tasks being removed are marked shutdown (older engines) or remove, and run while they drain.
  const leaving = tasks.filter((t) => t.desiredState !== 'running' && t.state === 'running').length;
  return {
    line: `${running} of ${countOf(replicas, 'task runs', 'tasks run')}${leaving ? `, ${leaving} draining` : ''}`,
    done: running === replicas,
  };
}
