import type Docker from 'dockerode';
import type { DeployConfig, DeployInput } from '../deployment/deploy-config.js';
import type { DeployLock } from './deploy-lock.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import type { DeploymentKind, DeploymentTarget, SwappedDeployment, TargetDeployment } from '../targets/deployment-target.js';

/** What the environment check found, for the phases after it (the settings themselves stay as given). */
export interface EnvironmentFindings {
  /** --memory, or the limit sized from the models when it was not given. */
  memoryBytes: number;
  /** The base images to build on (a stand-in where the configured one cannot be pulled). */
  baseImage: string;
  edgeBaseImage: string;
}

/** What the phases of one deploy share; each phase fills in what later ones need. */
export interface DeployContext {
  docker: Docker;
  config: DeployConfig;
  names: DeploymentNames;
  target: DeploymentTarget;
  /** This deploy on its target: the phases call it, whatever the target. */
  deployment: TargetDeployment;
  warnings: string[];
  /** The settings this deploy records on what it starts (as given, before any phase fills in defaults). */
  settings: DeployInput;
  /** restart: the running images are reused, so no base image is needed. */
  reusesImages: boolean;
  /**
   * Aborted when the deploy is asked to stop (Ctrl-C): each phase stops its current step and
   * undoes what it started.
   */
  signal: AbortSignal;
  environment?: EnvironmentFindings;
  state?: DeploymentKind;
  lock?: DeployLock;
  appImage?: string;
  appLabels?: Record<string, string>;
  edgeImage?: string;
  swapped?: SwappedDeployment;
  /** What each language recognized through the public port. */
  heard?: Record<string, string>;
  publicUrl?: string;
}

/** One named step of a deploy: its checks and actions; `say` reports progress lines. */
export interface DeployPhase {
  title: string;
  run(ctx: DeployContext, say: (line: string) => void): Promise<void>;
}
