/** A loaded model as clients see it: its name (the directory's) and language. */
export interface ModelInfo {
  name: string;
  language: string;
}
