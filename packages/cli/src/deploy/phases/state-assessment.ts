import { acquireDeployLock } from '../deploy-lock.js';
import type { DeployPhase } from '../deploy-context.js';

/** Phase 2: take the deploy lock, then find what is deployed under this project name. */
export const stateAssessment: DeployPhase = {
  title: 'State assessment',
  async run(ctx, say) {
    ctx.lock = await acquireDeployLock(ctx.docker, ctx.names, say);
    ctx.state = await ctx.deployment.assess(say, ctx.warnings);
  },
};
