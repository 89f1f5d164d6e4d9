import { basename } from 'node:path';

/** A model a deployment mounts (DeployConfig.models). */
export interface ModelMount {
  language: string;
  /** Absolute directory on the Docker host, mounted read-only at /models/<its name> (see modelPath). */
  hostDir: string;
  /** Set when the model is a catalog model: the prefetch phase installs it into the models directory. */
  catalogName?: string;
}

/** A model's name: its directory's, as the server reports it in results' `mode` and clients choose it. */
export function modelName(model: ModelMount): string {
  return basename(model.hostDir);
}

/** Where a model is mounted in the app: under its own name, so the name reaches the server. */
export function modelPath(model: ModelMount): string {
  return `/models/${modelName(model)}`;
}
