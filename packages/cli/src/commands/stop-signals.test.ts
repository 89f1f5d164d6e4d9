import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { onTerminal } from '../testing/terminal-hangup.js';

const STOP_SIGNALS = new URL('../../dist/commands/stop-signals.js', import.meta.url).href;
const HUNG_UP_TERMINAL = new URL('../../dist/os/hung-up-terminal.js', import.meta.url).href;

/**
 * The script of a process holding the handlers as `asrctl deploy` does (the built module): it
 * prints each abort of the deploy's signal, and stays up until a signal ends it. With `log`: what it
 * does after an abort goes there, and it ends as a deploy does, 300 ms later, having written to its
 * output meanwhile (which must not fail).
 */
function handlersScript(log?: string): string {
  return `
    const { appendFileSync } = await import('node:fs');
    const { stopSafelyOnSignals } = await import(${JSON.stringify(STOP_SIGNALS)});
    // As cli.ts does for every command.
    (await import(${JSON.stringify(HUNG_UP_TERMINAL)})).releaseHungUpTerminalsAtExit();
    const log = ${JSON.stringify(log ?? '')};
    const stopping = stopSafelyOnSignals((line) => process.stderr.write(line + '\\n'));
    stopping.signal.addEventListener('abort', () => {
      const line = 'aborted, exit code ' + stopping.signal.reason.exitCode + '\\n';
      if (!log) return void process.stdout.write(line);
      appendFileSync(log, line);
      setTimeout(() => {
        const wrote = process.stdout.write('the deploy goes on\\n') && process.stderr.write('undoing the swap\\n');
        setTimeout(() => {
          appendFileSync(log, 'stopped safely, wrote to stdout: ' + wrote + '\\n');
          process.exit(stopping.signal.reason.exitCode);
        }, 100);
      }, 300);
    });
    process.stdout.write('ready\\n');
    setInterval(() => undefined, 60_000);
  `;
}

/** A real process holding the handlers, its output piped. */
function processWithHandlers(log?: string) {
  const child = execa('node', ['--input-type=module', '-e', handlersScript(log)], { reject: false });
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

  it('SIGHUP (the terminal closed, SSH lost): the deploy stops safely and to its end; the second SIGHUP of a hangup changes nothing, nothing more is written', async () => {
    const log = join(await mkdtemp(join(tmpdir(), 'asrctl-hup-')), 'log');
    const { child, waitFor } = processWithHandlers(log);
    await waitFor('ready');
    child.kill('SIGHUP');
    child.kill('SIGHUP');
    const result = await child;
    // It ended when its deploy did, with the first SIGHUP's code, not at once.
    expect(result.exitCode).toBe(129);
    expect(result.stderr).toBe('');
    expect(await readFile(log, 'utf8')).toBe('aborted, exit code 129\nstopped safely, wrote to stdout: true\n');
  });

  it('a real hangup (the terminal closed: SIGHUP, stdin, stdout and stderr dead): the deploy stops safely and the process exits 129, not aborted by Node', async () => {
    const log = join(await mkdtemp(join(tmpdir(), 'asrctl-hangup-')), 'log');
    const terminal = onTerminal('node', ['--input-type=module', '-e', handlersScript(log)]);
    await terminal.waitFor((output) => output.includes('ready'), 'the process to be ready');

    // Node 20 restored the lost terminal's settings at exit, failed (EIO), and the process died of SIGABRT or SIGSEGV.
    expect(await terminal.hangUp()).toEqual({ exitCode: 129 });
    expect(await readFile(log, 'utf8')).toBe('aborted, exit code 129\nstopped safely, wrote to stdout: true\n');
  });

  it('a reader that is gone (EPIPE) does not end the deploy: output goes nowhere, the deploy goes on', async () => {
    const log = join(await mkdtemp(join(tmpdir(), 'asrctl-epipe-')), 'log');
    const { child, waitFor } = processWithHandlers(log);
    await waitFor('ready');
    child.stdout.destroy();
    child.stderr.destroy();
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(await readFile(log, 'utf8')).toBe('aborted, exit code 143\nstopped safely, wrote to stdout: true\n');
  });
});
