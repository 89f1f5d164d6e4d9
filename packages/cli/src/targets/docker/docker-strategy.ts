import type Docker from 'dockerode';
import type { Strategy } from '../../deployment/deploy-config.js';
import type { DeploymentNames } from '../../deployment/deployment-names.js';
import type { SwapRequest, SwappedDeployment } from '../deployment-target.js';
import type { DeploymentState } from './deployment-state.js';

export interface DockerSwapRequest extends SwapRequest {
  docker: Docker;
  names: DeploymentNames;
  state: DeploymentState;
}

/** How a new app container replaces the running one on one engine (--strategy). */
export interface DockerStrategy {
  readonly name: Strategy;
  readonly rollBackOutcome: string;
  /** Whether an edge (HAProxy) holds the public port in front of the app. */
  readonly usesEdge: boolean;
  /** App containers running at once during a swap: what the host's memory must hold. */
  readonly peakAppContainers: 1 | 2;
  swap(request: DockerSwapRequest): Promise<SwappedDeployment>;
}
