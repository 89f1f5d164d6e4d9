/** Shapes of libvosk's JSON results (pretty-printed by libvosk; always parsed, never matched). */
export interface VoskWord {
  word: string;
  start: number;
  end: number;
  conf: number;
}

export interface VoskAlternative {
  confidence: number;
  text: string;
  result?: VoskWord[];
}

export interface VoskResult {
  text: string;
  result?: VoskWord[];
  alternatives?: VoskAlternative[];
}

export interface VoskPartial {
  partial: string;
  partial_result?: VoskWord[];
}

export function parseVoskJson<T>(json: string, what: string): T {
  try {
    return JSON.parse(json) as T;
  } catch (err) {
    throw new Error(`libvosk returned invalid JSON for ${what}: ${json.slice(0, 200)}`, { cause: err });
  }
}

/** The text of a result, whichever shape max_alternatives gave it. */
export function resultText(result: VoskResult): string {
  return result.alternatives ? (result.alternatives[0]?.text ?? '') : result.text;
}
