import { AUTO_LANGUAGE, normalizeLanguage } from '../languages.js';

/**
 * Rules across options that the server and the deploy both apply. Problems are added to
 * `problems`, as value types do, so every problem of a configuration is told at once.
 */

/** The protocol ports that are on (not 0); one that `port` or the other already takes is a problem ending in `takenBy`. */
export function protocolPortsFor(port: number, wanted: { vosk: number; funasr: number }, takenBy: string, problems: string[]) {
  const ports: { vosk?: number; funasr?: number } = {};
  for (const protocol of ['vosk', 'funasr'] as const) {
    const n = wanted[protocol];
    if (n === 0) continue;
    if (n === port || Object.values(ports).includes(n)) problems.push(`${protocol} port ${n} is already used by ${takenBy}`);
    else ports[protocol] = n;
  }
  return ports;
}

/**
 * The language of new sessions: the one asked for (`zh` is `cn`), else cn when it has a model,
 * else the first model's. One asked for that no model has is a problem listing `models`.
 */
export function defaultLanguageFor(
  requested: string | undefined,
  languages: readonly string[],
  models: string,
  problems: string[],
): string {
  const language = requested !== undefined ? normalizeLanguage(requested) : languages.includes('cn') ? 'cn' : (languages[0] ?? 'cn');
  if (languages.length > 0 && language !== AUTO_LANGUAGE && !languages.includes(language))
    problems.push(`default language "${language}" has no model (${models})`);
  return language;
}
