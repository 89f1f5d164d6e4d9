import { describe, expect, it } from 'vitest';
import { parseServiceLogLine } from './logs.js';

describe('parseServiceLogLine', () => {
  const details = 'com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t%2B1';

  it('takes the task id out of the engine’s details and keeps the message whole', () => {
    expect(parseServiceLogLine(`${details} {"event":"ready", "x": 1}`, false)).toEqual({
      taskId: 't+1',
      message: '{"event":"ready", "x": 1}',
    });
    expect(parseServiceLogLine(`${details} `, false)).toEqual({ taskId: 't+1', message: '' });
  });

  it('keeps the timestamp in front when asked for', () => {
    expect(parseServiceLogLine(`2026-11-30T11:00:00.000000000Z ${details} hello world`, true)).toEqual({
      timestamp: '2026-11-30T11:00:00.000000000Z',
      taskId: 't+1',
      message: 'hello world',
    });
  });

  it('passes a line without details through', () => {
    expect(parseServiceLogLine('plain line', false)).toEqual({ message: 'plain line' });
  });
});
