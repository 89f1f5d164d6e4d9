import { AUTO_LANGUAGE, isLanguageCode, normalizeLanguage } from '../languages.js';

export type ProtocolName = 'asrctl' | 'vosk' | 'funasr';

export type EndpointRefusal =
  | { status: 400; reason: 'bad_request'; message: string }
  /** Depends on the models loaded: only final once they are. */
  | { status: 400; reason: 'unknown_language' | 'unknown_model'; message: string; loadedModels: true }
  | { status: 404; reason: 'not_found'; message: string };

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
  let path = pathname.replace(/\/+$/u, '') || '/';
  let protocol: ProtocolName | undefined;
  let fromPath: string | undefined;
  if (fixed) {
    // A protocol's own port: every path speaks it; a path of one segment (after the prefix the main
    // port uses for this protocol, if given) is a language or a model name.
    protocol = fixed;
    const prefix = PREFIXES.find(([, name]) => name === fixed)?.[0];
    if (prefix && (path === prefix || path.startsWith(`${prefix}/`))) path = path.slice(prefix.length) || '/';
    const segment = path.slice(1);
    if (segment && !segment.includes('/')) fromPath = segment;
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
  const choices = `this server has the languages ${languages.join(', ')} (or auto) and the models ${models.map((m) => m.name).join(', ')}`;
  // A path segment is a language when it names one (a model directory named like a language is
  // reachable by ?model=), else a model's name.
  const pathLanguage = fromPath === undefined ? undefined : normalizeLanguage(fromPath);
  const pathIsLanguage = pathLanguage !== undefined && (languages.includes(pathLanguage) || pathLanguage === AUTO_LANGUAGE);
  const modelName = (pathIsLanguage ? undefined : models.find((m) => m.name === fromPath)?.name) ?? searchParams.get('model') ?? undefined;
  const askedLanguage = (pathIsLanguage ? fromPath : undefined) ?? searchParams.get('language') ?? undefined;
  if (fromPath !== undefined && !pathIsLanguage && modelName !== fromPath)
    return {
      status: 400,
      reason: fixed || isLanguageCode(pathLanguage!) ? 'unknown_language' : 'unknown_model',
      loadedModels: true,
      message: `"${fromPath}" is neither a language nor a model here; ${choices}`,
    };
  if (modelName !== undefined) {
    const model = models.find((m) => m.name === modelName);
    if (!model) return { status: 400, reason: 'unknown_model', loadedModels: true, message: `no model named "${modelName}"; ${choices}` };
    if (askedLanguage !== undefined && normalizeLanguage(askedLanguage) !== model.language)
      return {
        status: 400,
        reason: 'unknown_model',
        loadedModels: true,
        message: `model "${model.name}" is a ${model.language} model, but language "${askedLanguage}" was asked too: give one of them`,
      };
    return { protocol, language: model.language, model: model.name };
  }
  const language = askedLanguage === undefined ? defaultLanguage : normalizeLanguage(askedLanguage);
  if (!languages.includes(language) && language !== AUTO_LANGUAGE)
    return { status: 400, reason: 'unknown_language', loadedModels: true, message: `no model for language "${askedLanguage}"; ${choices}` };
  return { protocol, language };
}
