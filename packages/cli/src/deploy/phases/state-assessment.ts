import { acquireDeployLock } from '../deploy-lock.js';
import { assessSwarmDeployment } from '../../targets/swarm/swarm-state.js';
import { assessDeployment } from '../../targets/docker/deployment-state.js';
import type { DeployPhase } from '../deploy-context.js';
import { countOf } from '../../text/count-of.js';

/** Phase 2: take the deploy lock, then find what is deployed under this project name. */
export const stateAssessment: DeployPhase = {
  title: 'State assessment',
  async run(ctx, say) {
    ctx.lock = await acquireDeployLock(ctx.docker, ctx.names);
    if (ctx.config.target === 'swarm') {
      const swarm = await assessSwarmDeployment(ctx.docker, ctx.names);
      ctx.state = { kind: swarm.kind, apps: [], shape: 'swarm', problems: swarm.problems };
      if (swarm.kind === 'fresh') say(`fresh: no services of "${ctx.names.project}" on this Swarm yet`);
      else if (swarm.kind === 'update')
        say(
          `update: ${ctx.names.appService} runs ${swarm.runningReplicas} of ${countOf(swarm.desiredReplicas, 'task')}; they serve until new ones are healthy`,
        );
      else {
        say(`broken: ${swarm.problems.join('; ')}`);
        ctx.warnings.push(`the existing deployment was broken (${swarm.problems.join('; ')}); this deploy updates it`);
      }
      return;
    }
    const state = await assessDeployment(ctx.docker, ctx.names);
    ctx.state = state;
    if (state.kind === 'fresh') say(`fresh: nothing deployed as "${ctx.names.project}" yet`);
    else if (state.kind === 'update')
      say(`update: ${ctx.names.app(state.active!)} serves (${state.shape}); it keeps serving until the new version is proven`);
    else {
      say(`broken: ${state.problems.join('; ')}`);
      ctx.warnings.push(`the existing deployment was broken (${state.problems.join('; ')}); this deploy replaces what does not serve`);
    }
  },
};
