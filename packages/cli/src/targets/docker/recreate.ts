import { inspectContainer, startContainer, stopAndRemove, stopContainer } from '../../docker/containers.js';
import { ensureNetwork } from '../../docker/networks.js';
import { type Color, otherColor } from '../../edge/haproxy-config.js';
import { APP_STOP_GRACE_SECONDS } from '../../deployment/app-environment.js';
import { startAppContainer, waitUntilHealthy } from './app-container.js';
import { labelsFor } from '../../deployment/deployment-names.js';
import type { SwappedDeployment } from '../deployment-target.js';
import type { DockerStrategy, DockerSwapRequest } from './docker-strategy.js';

/**
 * The guide's single container on the public port, in a safer order: the image is built and the
 * models fetched before anything stops; the old container is stopped (kept, not removed) only
 * then, and started again if the new one fails. Clients see an outage while the new one loads.
 */
export const recreateSwap: DockerStrategy = {
  name: 'recreate',
  rollBackOutcome: 'the new app was removed',
  usesEdge: false,
  peakAppContainers: 1,
  async swap(request: DockerSwapRequest): Promise<SwappedDeployment> {
    const { docker, config, names, state, appImage, appLabels, say, signal } = request;
    await ensureNetwork(docker, names.network, labelsFor(names.project, 'edge'));
    const oldColor = state.active;
    const newColor: Color = oldColor ? otherColor(oldColor) : 'blue';
    // A switch from blue-green: its app has no public port of its own, so once the edge is gone it
    // cannot serve again, and there is nothing to go back to.
    const oldCanServeAgain = !state.edge;
    if (state.edge) {
      signal.throwIfAborted();
      if (oldColor) request.pastUndoing(`the edge ${state.edge.name}, which held the public port for ${names.app(oldColor)},`);
      say('removing the edge: the recreate strategy publishes the app itself');
      await stopAndRemove(docker, state.edge.id, config.drainTimeoutSeconds);
    }
    for (const app of state.apps) {
      if (app.color === oldColor) {
        say(`stopping ${app.name} (kept until the new one is verified)`);
        await stopContainer(docker, app.id, APP_STOP_GRACE_SECONDS).catch(() => undefined);
      } else {
        await stopAndRemove(docker, app.id, 0);
      }
    }
    const restartOld = async (): Promise<void> => {
      if (!oldColor || !oldCanServeAgain || !(await inspectContainer(docker, names.app(oldColor)))) return;
      await startContainer(docker, names.app(oldColor));
      await waitUntilHealthy(docker, names.app(oldColor), 300_000);
    };
    try {
      // Interrupted while the old one stopped: it starts again, and no new app is created.
      signal.throwIfAborted();
      say(`starting ${names.app(newColor)} on port ${config.port}`);
      await startAppContainer(
        docker,
        config,
        names,
        { color: newColor, image: appImage, labels: appLabels, publishPublicPort: true },
        { signal },
      );
    } catch (err) {
      await stopAndRemove(docker, names.app(newColor), 0);
      say(
        `the new app ${signal.aborted ? 'was interrupted' : 'failed'}; ${oldCanServeAgain ? 'starting the previous one again' : 'the previous one cannot serve without the edge that was removed: nothing serves'}`,
      );
      await restartOld();
      throw err;
    }
    return {
      newColor,
      ...(oldColor && { oldColor }),
      serving: names.app(newColor),
      async retire() {
        if (oldColor) await stopAndRemove(docker, names.app(oldColor), 0);
      },
      async rollBack(sayRollBack) {
        await stopAndRemove(docker, names.app(newColor), APP_STOP_GRACE_SECONDS);
        await restartOld();
        sayRollBack(
          !oldColor
            ? 'nothing was serving before'
            : oldCanServeAgain
              ? `${names.app(oldColor)} serves again`
              : `${names.app(oldColor)} cannot serve without the edge that was removed: nothing serves`,
        );
      },
    };
  },
};
