import type Docker from 'dockerode';
import type { Color } from '../edge/haproxy-config.js';
import type { DeployConfig } from '../deployment/deploy-config.js';
import type { DeploymentNames } from '../deployment/deployment-names.js';
import type { DeploymentState } from './docker/deployment-state.js';

export interface SwapRequest {
  docker: Docker;
  config: DeployConfig;
  names: DeploymentNames;
  state: DeploymentState;
  appImage: string;
  edgeImage?: string;
  appLabels: Record<string, string>;
  say: (line: string) => void;
}

/** A swap that has put the new app in front of clients, not yet verified from outside. */
export interface SwappedDeployment {
  /** The colour now serving (container targets; a Swarm service has none). */
  newColor?: Color;
  oldColor?: Color;
  /** After verification: the old app finishes its sessions (up to the drain timeout) and goes. */
  retire(say: (line: string) => void): Promise<void>;
  /** Verification failed: the old app serves again (or keeps serving) and the new one goes. */
  rollBack(say: (line: string) => void): Promise<void>;
}

/** How a new version replaces the running one; each strategy cleans up after its own failures. */
export interface SwapStrategy {
  readonly name: string;
  /** What a rollback leaves behind, for the error that reports it. */
  readonly rollBackOutcome: string;
  swap(request: SwapRequest): Promise<SwappedDeployment>;
}
