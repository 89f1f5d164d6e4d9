import type Docker from 'dockerode';
import type { DeployConfig, DeployInput } from '../deployment/deploy-config.js';
import type { DeployLock } from './deploy-lock.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import type { DeploymentState } from '../targets/docker/deployment-state.js';
import type { SwapStrategy, SwappedDeployment } from '../targets/swap-strategy.js';

/** What the phases of one deploy share; each phase fills in what later ones need. */
export interface DeployContext {
  docker: Docker;
  config: DeployConfig;
  names: DeploymentNames;
  strategy: SwapStrategy;
  warnings: string[];
  /** The settings this deploy records on what it starts (as given, before any phase fills in defaults). */
  settings: DeployInput;
  /** restart: the running images are reused, so no base image is needed. */
  reusesImages: boolean;
  state?: DeploymentState;
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
