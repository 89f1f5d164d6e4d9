import { inspectContainer, stopAndRemove, stopContainer } from '../../docker/containers.js';
import { ensureNetwork } from '../../docker/networks.js';
import { type Color, otherColor } from '../../edge/haproxy-config.js';
import { APP_STOP_GRACE_SECONDS } from '../../deployment/app-environment.js';
import { startAppContainer, startStoppedApp, startWhatServedAgain } from './app-container.js';
import { labelsFor } from '../../deployment/deployment-names.js';
import type { SwappedDeployment } from '../deployment-target.js';
import type { DockerStrategy, DockerSwapRequest } from './docker-strategy.js';
import { startStoppedEdge } from './edge-container.js';

/**
 * The guide's single container on the public port, in a safer order: the image is built and the
 * models fetched before anything stops; what served is stopped (kept, not removed) only then, and
 * started again if the new one fails or is not verified. Clients see an outage while the new one loads.
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
    // A switch from blue-green keeps its edge too: the old app has no public port of its own, so
    // it serves again only with the edge in front of it.
    const oldEdge = state.shape === 'blue-green' && state.edge && oldColor ? state.edge : undefined;
    for (const app of state.apps) {
      if (app.color === oldColor) {
        // Before the edge: its sessions get their finals and 1012 through the edge.
        say(`stopping ${app.name} (kept until the new one is verified)`);
        await stopContainer(docker, app.id, APP_STOP_GRACE_SECONDS).catch(() => undefined);
      } else {
        await stopAndRemove(docker, app.id, 0);
      }
    }
    if (oldEdge) {
      say(`stopping the edge ${oldEdge.name} (kept until the new app is verified): the recreate strategy publishes the app itself`);
      // At once: its app is stopped, so nothing is left to drain, and HAProxy's soft stop would
      // hold the port (and the outage) for connections still being opened to it.
      await stopContainer(docker, oldEdge.id, 0).catch(() => undefined);
    } else if (state.edge) {
      // An edge that routes to no serving app holds the port for nothing (or is a stopped leftover).
      await stopAndRemove(docker, state.edge.id, 0);
    }
    const restartOld = async (before: string): Promise<void> => {
      if (!oldColor || !(await inspectContainer(docker, names.app(oldColor)))) return;
      const oldApp = names.app(oldColor);
      await startWhatServedAgain(
        config,
        oldEdge ? [oldApp, oldEdge.name] : [oldApp],
        async () => {
          await startStoppedApp(docker, oldApp);
          if (oldEdge) await startStoppedEdge(docker, names, oldColor);
        },
        before,
      );
    };
    let created = false;
    try {
      // Interrupted while the old one stopped: it starts again, and no new app is created.
      signal.throwIfAborted();
      created = true;
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
      const what = !created ? 'interrupted before the new app was created' : `the new app ${signal.aborted ? 'was interrupted' : 'failed'}`;
      say(`${what}; starting the previous one again${oldEdge ? ' behind its edge' : ''}`);
      await restartOld(`${what}${created ? ' and is removed' : ''}`);
      throw err;
    }
    return {
      newColor,
      ...(oldColor && { oldColor }),
      serving: names.app(newColor),
      async retire() {
        if (oldColor) await stopAndRemove(docker, names.app(oldColor), 0);
        if (oldEdge) await stopAndRemove(docker, oldEdge.id, 0);
      },
      async rollBack(sayRollBack) {
        await stopAndRemove(docker, names.app(newColor), APP_STOP_GRACE_SECONDS);
        await restartOld('the new app is removed');
        sayRollBack(
          oldColor ? `${names.app(oldColor)} serves again${oldEdge ? ` behind ${oldEdge.name}` : ''}` : 'nothing was serving before',
        );
      },
    };
  },
};
