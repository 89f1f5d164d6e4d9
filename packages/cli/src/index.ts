// The programmatic API: what the CLI commands call, for scripts and the benchmarks.
export {
  deploy,
  plainPhaseRunner,
  RolledBackError,
  DEPLOY_PHASES,
  RESTART_PHASES,
  type DeployReport,
  type PhaseRunner,
} from './deploy/deploy.js';
export { resolveDeployConfig, deployInputFromEnv, type DeployConfig, type DeployInput } from './deployment/deploy-config.js';
export { deploymentNames, type DeploymentNames } from './deployment/deployment-names.js';
export { TARGETS, deployedTarget, targetNamed } from './targets/index.js';
export type { DeploymentTarget, TargetDeployment } from './targets/deployment-target.js';
export { assessDeployment, type DeploymentState } from './targets/docker/deployment-state.js';
export { startAppContainer } from './targets/docker/app-container.js';
export { APP_STOP_GRACE_SECONDS } from './deployment/app-environment.js';
export { connectEngine, engineFacts } from './docker/engine.js';
export { stopAndRemove } from './docker/containers.js';
export { buildAppImage } from './images/app-image.js';
export { BASE_IMAGES, buildBaseImages } from './images/base-images.js';
export { locateSourceTree } from './images/source-tree.js';
export { stopDeployment } from './targets/docker/stop-deployment.js';
export { scaleSwarmApp, stopSwarmDeployment, swarmStatus } from './targets/swarm/swarm-operations.js';
export { swarmFacts } from './docker/swarm.js';
export { deploymentStatus } from './targets/docker/deployment-status.js';
export { ModelStore } from './models/model-store.js';
export { startConnectionLoop, type ConnectionLoopResult } from './load/connection-loop.js';
export { startStreamingSession, type StreamingSessionResult } from './load/streaming-session.js';
