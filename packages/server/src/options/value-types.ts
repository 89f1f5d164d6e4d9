import { isIP } from 'node:net';
import { isLanguageCode, normalizeLanguage } from '../languages.js';

/**
 * How an option's text becomes its value. Bad text adds one problem naming the option, the text
 * and what is expected, and yields undefined, so every problem of a configuration is told at once.
 * Shared by the server's options and the CLI's deploy options.
 */
export interface ValueType<T> {
  parse(text: string, label: string, problems: string[]): T | undefined;
  /** Every value there is, for help and a command line parser's own check. */
  choices?: readonly string[];
}

function checked<T>(convert: (text: string) => T | undefined, expected: string): ValueType<T> {
  return {
    parse(text, label, problems) {
      const value = convert(text);
      if (value === undefined) problems.push(`${label} "${text}": ${expected}`);
      return value;
    },
  };
}

export function wholeNumber(min: number, max: number): ValueType<number> {
  return checked((t) => {
    const n = Number(t);
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  }, `expected a whole number from ${min} to ${max}`);
}

/** A decimal number from `min` to `max` (no hex, no exponent): a CPU count, say. */
export function decimalNumber(min: number, max: number): ValueType<number> {
  return checked((t) => {
    const n = /^\d+(\.\d+)?$/u.test(t) ? Number(t) : NaN;
    return n >= min && n <= max ? n : undefined;
  }, `expected a number from ${min} to ${max}, such as 2 or 1.5`);
}

export function oneOf<const C extends string>(choices: readonly C[]): ValueType<C> {
  const expected = `${choices.slice(0, -1).join(', ')} or ${choices.at(-1)!}`;
  return { ...checked((t) => choices.find((c) => c === t), `expected ${expected}`), choices };
}

/** Text matching a pattern; `expected` says what is, e.g. "expected HOST[:PORT][/PATH]". */
export function matching(pattern: RegExp, expected: string): ValueType<string> {
  return checked((t) => (pattern.test(t) ? t : undefined), expected);
}

const SWITCH: Readonly<Record<string, boolean>> = {
  true: true,
  1: true,
  yes: true,
  on: true,
  false: false,
  0: false,
  no: false,
  off: false,
};

/** true, 1, yes or on is on; false, 0, no or off is off (any case); other text is a problem, not silently off. */
export const switchedOn: ValueType<boolean> = checked((t) => SWITCH[t.toLowerCase()], 'expected true or false (or 1/0, yes/no, on/off)');

/**
 * A browser origin as browsers send it in `Origin` (scheme, host and port; no path, no wildcard),
 * or `null` (pages opened from disk). Normalized as browsers write it: lowercase, no default port,
 * no trailing slash. One that no browser could send would refuse every page.
 */
export const webOrigin: ValueType<string> = checked((t) => {
  if (t === 'null') return t;
  if (!/^[a-z][a-z\d+.-]*:\/\/[^/?#\s@*%]+\/?$/iu.test(t)) return undefined;
  const url = URL.parse(t);
  // A port 0 or a WebSocket scheme is never a page's origin.
  if (!url?.host || url.port === '0' || /^(wss?|file):$/u.test(url.protocol)) return undefined;
  return /^https?:$/u.test(url.protocol) ? url.origin : `${url.protocol}//${url.host}`;
}, 'expected an origin (scheme and host, no path or wildcard) such as https://app.example, or null');

/** An IPv4 or IPv6 address, or a CIDR range of either. */
export function isAddressRange(range: string): boolean {
  const [address = '', bits, ...rest] = range.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

export const addressRange: ValueType<string> = checked(
  (t) => (isAddressRange(t) ? t : undefined),
  'expected an IPv4 or IPv6 address or CIDR, e.g. 10.0.0.0/8',
);

export const ipAddress: ValueType<string> = checked(
  (t) => (isIP(t) === 0 ? undefined : t),
  'expected an IP address such as 0.0.0.0 or 127.0.0.1',
);

/** A host name: dot-separated labels of letters, digits and inner hyphens, the last not all digits (999.1.1.1 is no name). */
function isHostName(text: string): boolean {
  const labels = text.split('.');
  return text.length <= 253 && labels.every((label) => /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/iu.test(label)) && !/^\d+$/u.test(labels.at(-1)!);
}

/** An address to listen on: an IP address, or a host name that resolves to one of this machine's. */
export const listenAddress: ValueType<string> = checked(
  (t) => (isIP(t) !== 0 || isHostName(t) ? t : undefined),
  'expected an IP address such as 0.0.0.0, 127.0.0.1 or ::, or a host name such as localhost',
);

/** A server's WebSocket URL: ws or wss (http and https are taken as them), with a host. */
export const webSocketUrl: ValueType<string> = checked((t) => {
  const url = URL.parse(t);
  return url?.host && /^(wss?|https?):$/u.test(url.protocol) ? t : undefined;
}, 'expected a WebSocket URL such as ws://host:8765/ or wss://host/');

/** An http or https URL with a host: where files are downloaded from. */
export const webUrl: ValueType<string> = checked((t) => {
  const url = URL.parse(t);
  return url?.host && /^https?:$/u.test(url.protocol) ? t : undefined;
}, 'expected an http:// or https:// URL such as http://mirror.lan/vosk/');

const SIZE_UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/**
 * A size in bytes, with an optional k, m or g (powers of 1024) and b: 512m, 1.5g. Less than `min`
 * is a problem of the configuration, not a limit that fails once it is used.
 */
export function byteSize(min: number): ValueType<number> {
  return checked(
    (t) => {
      const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/iu.exec(t.trim());
      if (!m) return undefined;
      const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase() as keyof typeof SIZE_UNITS]);
      return bytes >= min ? bytes : undefined;
    },
    `expected a size of at least ${sizeText(min)}, such as 2g or 512m`,
  );
}

/** Bytes as a size is typed, in the largest unit that divides them: 64m. */
function sizeText(bytes: number): string {
  const [unit, factor] = Object.entries(SIZE_UNITS)
    .reverse()
    .find(([, f]) => bytes % f === 0)!;
  return `${bytes / factor}${unit}`;
}

export interface LanguageModel {
  /** Normalized (`zh` is `cn`). */
  language: string;
  /** What follows `LANG=`: a directory, or (deploy) a model name. */
  model: string;
}

/**
 * `LANG=MODEL`. `language` restricts the codes further than a language code (the deploy passes
 * them as ASR_MODEL_<LANG>, which allows only letters).
 */
export function languageModel(expected: string, language: (code: string) => boolean = isLanguageCode): ValueType<LanguageModel> {
  return checked((t) => {
    const m = /^([^=]+)=(.+)$/u.exec(t);
    const code = m ? normalizeLanguage(m[1]!) : '';
    return m && language(code) ? { language: code, model: m[2]! } : undefined;
  }, expected);
}
