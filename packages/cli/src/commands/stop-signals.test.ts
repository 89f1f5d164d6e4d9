import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const STOP_SIGNALS = new URL('../../dist/commands/stop-signals.js', import.meta.url).href;

/**
 * A real process holding the handlers as `asrctl deploy` does (the built module): it prints each
 * abort of the deploy's signal, and stays up until a signal ends it.
 */
function processWithHandlers() {
  const script = `
    const { stopSafelyOnSignals } = await import(${JSON.stringify(STOP_SIGNALS)});
    const stopping = stopSafelyOnSignals((line) => process.stderr.write(line + '\\n'));
    stopping.signal.addEventListener('abort', () => process.stdout.write('aborted, exit code ' + stopping.signal.reason.exitCode + '\\n'));
    process.stdout.write('ready\\n');
    setInterval(() => undefined, 60_000);
  `;
  const child = execa('node', ['--input-type=module', '-e', script], { reject: false });
  let stdout = '';
  const waitFor = (text: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!stdout.includes(text)) return;
        child.stdout.off('data', onData);
        resolve();
      };
      const onData = (chunk: Buffer): void => {
        stdout += chunk.toString('utf8');
        check();
      };
      child.stdout.on('data', onData);
      check();
    });
  return { child, waitFor };
}

describe('Ctrl-C, SIGTERM and SIGHUP during a deploy', () => {
  it('the first SIGINT aborts the deploy and says so; a second exits at once with 130, saying what it leaves', async () => {
    const { child, waitFor } = processWithHandlers();
    await waitFor('ready');
    child.kill('SIGINT');
    await waitFor('aborted, exit code 130');
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stderr.split('\n')).toEqual([
      'asrctl: SIGINT: asking the deploy to stop safely (Ctrl-C again exits at once, undoing nothing)',
      'asrctl: SIGINT again: exiting now, leaving the deploy half-done (asrctl status shows what runs; the next deploy takes over its lock and replaces what does not serve)',
    ]);
  });

  it('SIGTERM does the same, and a second one exits with 143', async () => {
    const { child, waitFor } = processWithHandlers();
    await waitFor('ready');
    child.kill('SIGTERM');
    await waitFor('aborted, exit code 143');
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(result.stderr).toContain('asrctl: SIGTERM: asking the deploy to stop safely (SIGTERM again exits at once, undoing nothing)');
    expect(result.stderr).toContain('asrctl: SIGTERM again: exiting now');
  });

  it('SIGHUP (the terminal closed, SSH lost) does the same, and a second one exits with 129', async () => {
    const { child, waitFor } = processWithHandlers();
    await waitFor('ready');
    child.kill('SIGHUP');
    await waitFor('aborted, exit code 129');
    child.kill('SIGHUP');
    const result = await child;
    expect(result.exitCode).toBe(129);
    expect(result.stderr).toContain('asrctl: SIGHUP: asking the deploy to stop safely (SIGHUP again exits at once, undoing nothing)');
    expect(result.stderr).toContain('asrctl: SIGHUP again: exiting now');
  });
});
