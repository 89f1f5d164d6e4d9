import { isLanguageCode, normalizeLanguage } from '../languages.js';

export type ProtocolName = 'asrctl' | 'vosk' | 'funasr';

export type EndpointRefusal =
  { status: 400; reason: 'bad_request' | 'unknown_language'; message: string } | { status: 404; reason: 'not_found'; message: string };

export type Endpoint = { protocol: ProtocolName; language: string } | EndpointRefusal;

const PREFIXES: ReadonlyArray<[prefix: string, protocol: ProtocolName]> = [
  ['/vosk', 'vosk'],
  ['/funasr', 'funasr'],
];

/**
 * Which protocol and language a WebSocket URL asks for: `/` and `/ws` are asrctl's protocol,
 * `/vosk` vosk-server's, `/funasr` FunASR's; a language may follow the prefix (`/vosk/en`) or come as `?language=`.
 * The protocol cannot be guessed from the first message (see docs/protocol.md), so the path decides.
 */
export function resolveEndpoint(url: string, languages: readonly string[], defaultLanguage: string, fixed?: ProtocolName): Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://localhost');
  } catch {
    // Any request-target a client sends reaches here: a bad one is the client's error, never a crash.
    return { status: 400, reason: 'bad_request', message: `not a valid request target: ${JSON.stringify(url.slice(0, 100))}` };
  }
  const { pathname, searchParams } = parsed;
  const path = pathname.replace(/\/+$/u, '') || '/';
  let protocol: ProtocolName | undefined;
  let fromPath: string | undefined;
  if (fixed) {
    // A protocol's own port: every path speaks it; a path that is one language code chooses it.
    protocol = fixed;
    const segment = path.slice(1);
    if (isLanguageCode(normalizeLanguage(segment)) && !segment.includes('/')) fromPath = segment;
  } else if (path === '/' || path === '/ws') protocol = 'asrctl';
  for (const [prefix, name] of fixed ? [] : PREFIXES) {
    if (path === prefix) protocol = name;
    else if (path.startsWith(`${prefix}/`) && !path.slice(prefix.length + 1).includes('/')) {
      protocol = name;
      fromPath = path.slice(prefix.length + 1);
    }
  }
  if (!protocol)
    return {
      status: 404,
      reason: 'not_found',
      message: `no WebSocket endpoint at ${pathname}; connect to / (asrctl protocol), /vosk (vosk-server protocol) or /funasr (FunASR protocol)`,
    };
  const asked = fromPath ?? searchParams.get('language') ?? undefined;
  const language = asked === undefined ? defaultLanguage : normalizeLanguage(asked);
  if (!languages.includes(language))
    return {
      status: 400,
      reason: 'unknown_language',
      message: `no model for language "${asked}"; this server has ${languages.join(', ')}`,
    };
  return { protocol, language };
}
