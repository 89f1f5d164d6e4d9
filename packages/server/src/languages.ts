/** Language codes as clients and operators write them; `zh` is accepted for Chinese (`cn`). */
const ALIASES: Readonly<Record<string, string>> = { zh: 'cn' };

export function normalizeLanguage(code: string): string {
  const lower = code.trim().toLowerCase();
  return ALIASES[lower] ?? lower;
}

export function isLanguageCode(code: string): boolean {
  return /^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$/u.test(code);
}

/** Not a language: each utterance in whichever loaded language it is most believably in. */
export const AUTO_LANGUAGE = 'auto';
