import { AUTO_LANGUAGE, isLanguageCode, normalizeLanguage } from '../languages.js';

export type ProtocolName = 'asrctl' | 'vosk' | 'funasr';

export type EndpointRefusal =
  { status: 400; reason: 'bad_request' | 'unknown_language'; message: string } | { status: 404; reason: 'not_found'; message: string };

export type Endpoint = { protocol: ProtocolName; language: string; model?: string } | EndpointRefusal;

/** What a URL may name: the languages, and the models by name. */
export interface EndpointCatalog {
  languages: readonly string[];
  models: ReadonlyArray<{ name: string; language: string }>;
}

const PREFIXES: ReadonlyArray<[prefix: string, protocol: ProtocolName]> = [
  ['/vosk', 'vosk'],
  ['/funasr', 'funasr'],
];

/**
 * Which protocol, language and model a WebSocket URL asks for: `/` and `/ws` are asrctl's protocol,
 * `/vosk` vosk-server's, `/funasr` FunASR's; a language or a model name may follow the prefix
 * (`/vosk/en`, `/vosk/vosk-model-cn-0.22`) or come as `?language=` / `?model=`.
 * The protocol cannot be guessed from the first message (see docs/protocol.md), so the path decides.
 */
export function resolveEndpoint(url: string, catalog: EndpointCatalog, defaultLanguage: string, fixed?: ProtocolName): Endpoint {
  const { languages, models } = catalog;
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
    const named = isLanguageCode(normalizeLanguage(segment)) || segment === AUTO_LANGUAGE || models.some((m) => m.name === segment);
    if (!segment.includes('/') && named) fromPath = segment;
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
  const pathModel = fromPath === undefined ? undefined : models.find((m) => m.name === fromPath);
  const modelName = pathModel?.name ?? searchParams.get('model') ?? undefined;
  if (modelName !== undefined) {
    const model = models.find((m) => m.name === modelName);
    if (!model)
      return {
        status: 400,
        reason: 'unknown_language',
        message: `no model named "${modelName}"; this server has ${models.map((m) => m.name).join(', ')}`,
      };
    return { protocol, language: model.language, model: model.name };
  }
  const asked = fromPath ?? searchParams.get('language') ?? undefined;
  const language = asked === undefined ? defaultLanguage : normalizeLanguage(asked);
  if (!languages.includes(language) && language !== AUTO_LANGUAGE)
    return {
      status: 400,
      reason: 'unknown_language',
      message: `no model for language "${asked}"; this server has ${languages.join(', ')}`,
    };
  return { protocol, language };
}
