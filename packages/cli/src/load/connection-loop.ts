import WebSocket from 'ws';

export interface ConnectionLoopResult {
  attempts: number;
  failures: string[];
  /** Longest time between two successful greetings, ms. */
  longestGapMs: number;
}

/**
 * What a busy service sees during a deploy: a new client every `intervalMs`, each waiting for the
 * server's greeting (an open TCP port is not enough: docker-proxy accepts before any app listens).
 */
export function startConnectionLoop(url: string, intervalMs = 20): { stop(): Promise<ConnectionLoopResult> } {
  const failures: string[] = [];
  const pending = new Set<Promise<void>>();
  let attempts = 0;
  let lastOk = performance.now();
  let longestGapMs = 0;
  const attempt = (): void => {
    attempts++;
    const done = new Promise<void>((resolve) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 5000 });
      const fail = (why: string): void => {
        failures.push(`${new Date().toISOString()} ${why}`);
        ws.terminate();
        resolve();
      };
      const timer = setTimeout(() => fail('no greeting within 5 s'), 5000);
      ws.once('message', (data: Buffer) => {
        clearTimeout(timer);
        if (!data.toString('utf8').includes('connection_established'))
          return fail(`unexpected first message ${data.toString('utf8').slice(0, 80)}`);
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - lastOk);
        lastOk = now;
        ws.close(1000);
        resolve();
      });
      ws.once('error', (err) => (clearTimeout(timer), fail(err.message)));
      ws.once('unexpected-response', (_req, res) => (clearTimeout(timer), fail(`HTTP ${res.statusCode}`)));
    });
    pending.add(done);
    void done.then(() => pending.delete(done));
  };
  const timer = setInterval(attempt, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return { attempts, failures, longestGapMs };
    },
  };
}
