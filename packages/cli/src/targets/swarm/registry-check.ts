import { CliError } from '../../cli-error.js';

/** Errors that mean a server answered (a TLS handshake with a certificate Node does not trust), not that none listens. */
const TLS_ANSWERED = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/u;

/**
 * Checks that the registry answers its API (GET /v2/; any HTTP answer, 401 included, counts)
 * before anything is built for it: plain HTTP first (a local registry), then HTTPS.
 */
export async function checkRegistryAnswers(registry: string, timeoutMs = 5000): Promise<void> {
  const host = registry.split('/')[0]!;
  const failures: string[] = [];
  for (const scheme of ['http', 'https'] as const) {
    try {
      await fetch(`${scheme}://${host}/v2/`, { signal: AbortSignal.timeout(timeoutMs) });
      return;
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (err as Error).message;
      if (scheme === 'https' && TLS_ANSWERED.test(reason)) return;
      failures.push(`${scheme}://${host}/v2/: ${reason}`);
    }
  }
  throw new CliError('environment_unfit', `the registry ${registry} does not answer (${failures.join('; ')})`, {
    hint: `start the registry or fix --registry HOST:PORT (GET http://${host}/v2/ must answer from here and from every node); nothing was built or pushed`,
  });
}
