import { describe, expect, it } from 'vitest';
import { scaleProgress } from './scale-progress.js';

const task = (desiredState: string, state: string): { desiredState: string; state: string } => ({ desiredState, state });

describe('scaleProgress', () => {
  it('does not count tasks Swarm has yet to stop: 3 → 2 right after the update', () => {
    const tasks = [task('running', 'running'), task('running', 'running'), task('running', 'running')];
    expect(scaleProgress(tasks, 2)).toEqual({ line: 'Swarm is applying the change (3 tasks still wanted)', done: false });
  });

  it('counts the wanted running tasks, and those draining apart', () => {
    const tasks = [task('running', 'running'), task('running', 'running'), task('shutdown', 'running'), task('remove', 'running')];
    expect(scaleProgress(tasks, 2)).toEqual({ line: '2 of 2 tasks run, 2 draining', done: true });
    expect(scaleProgress([task('running', 'running'), task('shutdown', 'complete')], 1)).toEqual({ line: '1 of 1 task runs', done: true });
  });

  it('is not done while new tasks start', () => {
    const tasks = [task('running', 'running'), task('running', 'starting'), task('running', 'running')];
    expect(scaleProgress(tasks, 3)).toEqual({ line: '2 of 3 tasks run', done: false });
  });
});
