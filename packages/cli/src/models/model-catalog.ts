/** A model asrctl knows by name: where to get it and what it costs. */
export interface CatalogModel {
  name: string;
  language: string;
  /** Size of the zip, as published; used for the free-disk check before downloading. */
  zipBytes: number;
  /** Unpacked size on disk. */
  diskBytes: number;
  /** Memory the server needs to hold it (approximate, from Vosk's model list). */
  memoryBytes: number;
  description: string;
}

const MiB = 1024 ** 2;

/**
 * Vosk's models from https://alphacephei.com/vosk/models that asrctl deploys by name. Any other
 * model works too: by URL, or from a local directory or zip (`asrctl models pull --from`).
 */
export const MODEL_CATALOG: readonly CatalogModel[] = [
  {
    name: 'vosk-model-small-cn-0.22',
    language: 'cn',
    zipBytes: 42 * MiB,
    diskBytes: 46 * MiB,
    memoryBytes: 300 * MiB,
    description: 'Chinese, small: the default; for desktops, small servers and many concurrent streams',
  },
  {
    name: 'vosk-model-cn-0.22',
    language: 'cn',
    zipBytes: 1300 * MiB,
    diskBytes: 1900 * MiB,
    memoryBytes: 1800 * MiB,
    description: 'Chinese, standard: more accurate, for big servers (about 1.8 GB of memory per app container)',
  },
  {
    name: 'vosk-model-small-en-us-0.15',
    language: 'en',
    zipBytes: 40 * MiB,
    diskBytes: 68 * MiB,
    memoryBytes: 300 * MiB,
    description: 'US English, small: the default',
  },
];

export const DEFAULT_MODELS: Readonly<Record<string, string>> = { cn: 'vosk-model-small-cn-0.22', en: 'vosk-model-small-en-us-0.15' };

export const DEFAULT_MODEL_BASE_URL = 'https://alphacephei.com/vosk/models';

export function catalogModel(name: string): CatalogModel | undefined {
  return MODEL_CATALOG.find((m) => m.name === name);
}

/** Where a catalog model's zip is: `<mirror or alphacephei>/<name>.zip` (--mirror, for CDNs and air-gapped mirrors). */
export function catalogUrl(name: string, mirror?: string): string {
  return `${(mirror ?? DEFAULT_MODEL_BASE_URL).replace(/\/+$/u, '')}/${name}.zip`;
}
