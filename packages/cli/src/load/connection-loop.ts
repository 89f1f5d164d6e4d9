import { AsrctlClient } from '@asrctl/server';

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
  const attempt = async (): Promise<void> => {
    let client: AsrctlClient | undefined;
    const started = performance.now();
    try {
      // 5 s for the handshake and the greeting together.
      client = await AsrctlClient.connect(url, { handshakeTimeoutMs: 5000 });
      const first = await client.next(() => true, 'greeting', Math.max(0, 5000 - (performance.now() - started)));
      if (first.type !== 'connection_established') throw new Error(`unexpected first message ${JSON.stringify(first).slice(0, 80)}`);
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - lastOk);
      lastOk = now;
      await client.close();
    } catch (err) {
      failures.push(`${new Date().toISOString()} ${(err as Error).message}`);
      client?.ws.terminate();
    }
  };
  const timer = setInterval(() => {
    attempts++;
    const done = attempt();
    pending.add(done);
    void done.then(() => pending.delete(done));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      return { attempts, failures, longestGapMs };
    },
  };
}
