import { describe, expect, it } from 'vitest';
import { CliError, isCliError } from './cli-error.js';
import { DeployConfigError } from './deployment/deploy-config.js';

describe('CliError', () => {
  it('ends its message with the hint line and keeps code, hint and exit code apart', () => {
    const err = new CliError('nothing_to_restart', 'nothing serves as "asr" to restart', { hint: 'asrctl deploy' });
    expect(err.message).toBe('nothing serves as "asr" to restart\n  hint: asrctl deploy');
    expect(err).toMatchObject({ code: 'nothing_to_restart', hint: 'asrctl deploy', exitCode: 1 });
    expect(isCliError(err, 'nothing_to_restart')).toBe(true);
    expect(isCliError(err, 'deploy_locked')).toBe(false);
    expect(isCliError(new Error('x'))).toBe(false);
  });

  it('has no hint line without a hint; a bad configuration exits with 2', () => {
    expect(new CliError('invalid_wav', 'x.wav is not a WAV file').message).toBe('x.wav is not a WAV file');
    const config = new DeployConfigError(['port 0: use 1 to 65535']);
    expect(config).toMatchObject({ code: 'invalid_deploy_config', exitCode: 2, problems: ['port 0: use 1 to 65535'] });
    expect(isCliError(config)).toBe(true);
  });
});
