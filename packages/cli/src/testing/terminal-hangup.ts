import { pollUntil } from '@asrctl/server';
import { execa } from 'execa';

/**
 * Python's pty (Node has none): runs the command as the session leader of a pseudo-terminal of
 * argv[1] columns, copies the terminal's output to stdout, and once stdin ends closes the
 * terminal's master side, a real hangup (SIGHUP, and stdin, stdout and stderr dead). Then it waits
 * for the command and prints how it ended, as JSON, on stderr.
 */
const HARNESS = `
import fcntl, json, os, pty, select, signal, struct, sys, termios
pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack('HHHH', 40, int(sys.argv[1]), 0, 0))
    os.execvp(sys.argv[2], sys.argv[2:])
watched = [master, 0]
while 0 in watched:
    for fd in select.select(watched, [], [])[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the command ended and its output is all read
            data = b''
        if fd == master and data:
            os.write(1, data)
        elif fd == master or fd == 0:
            watched.remove(fd)
os.close(master)
status = os.waitpid(pid, 0)[1]
ended = {'signal': signal.Signals(os.WTERMSIG(status)).name} if os.WIFSIGNALED(status) else {'exitCode': os.WEXITSTATUS(status)}
sys.stderr.write(json.dumps(ended) + '\\n')
`;

export interface TerminalEnd {
  exitCode?: number;
  /** The signal that ended the command, such as SIGABRT where Node failed at exit. */
  signal?: string;
}

export interface CommandOnTerminal {
  /** Waits until what the command wrote satisfies `ready`; throws if it ends before. */
  waitFor(ready: (output: string) => boolean | Promise<boolean>, what: string): Promise<void>;
  /** Closes the terminal, as when a window is closed or an SSH connection lost, and returns how the command ended. */
  hangUp(): Promise<TerminalEnd>;
}

/** Runs a command on a real pseudo-terminal (a task list draws on it), to hang up on it. */
export function onTerminal(command: string, args: readonly string[], options: { cwd?: string; columns?: number } = {}): CommandOnTerminal {
  const harness = execa('python3', ['-c', HARNESS, String(options.columns ?? 120), command, ...args], {
    cwd: options.cwd,
    reject: false,
  });
  let output = '';
  harness.stdout.on('data', (chunk: Buffer) => void (output += chunk.toString('utf8')));
  let ended = false;
  void harness.finally(() => (ended = true));
  const end = async (): Promise<TerminalEnd> => {
    const { stderr } = await harness;
    try {
      return JSON.parse(stderr.trim().split('\n').at(-1) ?? '') as TerminalEnd;
    } catch {
      throw new Error(`the pseudo-terminal harness failed:\n${stderr}`);
    }
  };
  return {
    waitFor: async (ready, what) => {
      await pollUntil(
        async () => {
          if (ended) throw new Error(`the command ended (${JSON.stringify(await end())}) before ${what}:\n${output}`);
          return ready(output);
        },
        (yes) => yes,
        { what, timeoutMs: 240_000, intervalMs: 100 },
      );
    },
    hangUp: async () => {
      harness.stdin.end();
      return end();
    },
  };
}
