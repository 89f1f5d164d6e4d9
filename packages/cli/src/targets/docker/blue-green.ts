import { stopAndRemove, stopContainer } from '../../docker/containers.js';
import { ensureNetwork } from '../../docker/networks.js';
import { routeNewConnectionsTo, waitUntilDrained, waitUntilEdgeSeesUp } from '../../edge/edge-runtime.js';
import { type Color, otherColor } from '../../edge/haproxy-config.js';
import { APP_STOP_GRACE_SECONDS } from '../../deployment/app-environment.js';
import { APP_PORT } from '../../deployment/ports.js';
import { startAppContainer, startStoppedApp, startWhatServedAgain } from './app-container.js';
import { labelsFor } from '../../deployment/deployment-names.js';
import { ensureEdge, recordActiveColor, restoreEdge } from './edge-container.js';
import { probeRecognition } from '../../deploy/recognition-probe.js';
import type { SwappedDeployment } from '../deployment-target.js';
import type { DockerStrategy, DockerSwapRequest } from './docker-strategy.js';
import { countOf } from '../../text/count-of.js';

/**
 * Blue/green behind a stable edge (HAProxy) that holds the public port: the new colour starts on
 * the private network, must be healthy and pass a real recognition, then the edge sends new
 * connections to it while the old colour keeps its open sessions until they end or the drain
 * timeout passes; only then is the old app stopped (its own SIGTERM handling flushes finals).
 */
export const blueGreenSwap: DockerStrategy = {
  name: 'blue-green',
  rollBackOutcome: 'the new app was removed',
  usesEdge: true,
  peakAppContainers: 2,
  async swap(request: DockerSwapRequest): Promise<SwappedDeployment> {
    const { docker, config, names, state, appImage, edgeImage, appLabels, say, signal } = request;
    if (!edgeImage) throw new Error('blue-green needs an edge image');
    await ensureNetwork(docker, names.network, labelsFor(names.project, 'edge'));
    const oldColor = state.active;
    const newColor: Color = oldColor ? otherColor(oldColor) : 'blue';
    // A switch from recreate: its app holds the public port itself. It keeps serving until the new
    // app is proven on its loopback port; then it stops (kept, not removed) so that the edge can
    // take the port, and it starts again if anything after fails.
    const recreateApp = state.shape === 'recreate' && oldColor ? names.app(oldColor) : undefined;
    // Recreate apps that serve nothing may still hold the port the edge needs.
    if (state.shape === 'recreate' && !oldColor) for (const app of state.apps) await stopAndRemove(docker, app.id, APP_STOP_GRACE_SECONDS);
    const stillServing = state.shape === 'blue-green' ? oldColor : undefined;
    const edgeBefore = recreateApp ? {} : await ensureEdge(docker, config, names, edgeImage, stillServing ?? newColor, say);
    let recreateAppStopped = false;
    let edgeTakingPort = false;

    say(`starting the ${newColor} app (${appImage}); waiting until its models are loaded`);
    let probePort: number | undefined;
    try {
      signal.throwIfAborted();
      const app = await startAppContainer(
        docker,
        config,
        names,
        { color: newColor, image: appImage, labels: appLabels, publishPublicPort: false },
        { signal },
      );
      probePort = app.ports[`${APP_PORT}/tcp`];
      if (!probePort) throw new Error(`${app.name} has no loopback port for the recognition probe`);
      say(`${newColor} is healthy; recognition probe on 127.0.0.1:${probePort}`);
      await probeRecognition(`ws://127.0.0.1:${probePort}/`, config);
      if (recreateApp) {
        signal.throwIfAborted();
        say(
          `the running deployment has no edge (recreate strategy): ${recreateApp} stops now (kept until the new one is verified) and the edge takes the public port, so this one deploy has a short outage`,
        );
        recreateAppStopped = true;
        await stopContainer(docker, recreateApp, APP_STOP_GRACE_SECONDS).catch(() => undefined);
        edgeTakingPort = true;
        await ensureEdge(docker, config, names, edgeImage, newColor, say);
      }
      await waitUntilEdgeSeesUp(docker, names.edge, newColor, 30_000, signal);
      signal.throwIfAborted();
      await routeNewConnectionsTo(docker, names.edge, newColor);
      await recordActiveColor(docker, config, names, newColor);
    } catch (err) {
      // Interrupted (Ctrl-C) or failed: the same way back.
      const why = signal.aborted ? 'was interrupted' : 'failed';
      await stopAndRemove(docker, names.app(newColor), 0);
      if (stillServing) {
        say(`the ${newColor} app ${why}; it is removed (the running service was not touched)`);
        await routeNewConnectionsTo(docker, names.edge, stillServing).catch(() => undefined);
        await restoreEdge(docker, names, edgeBefore);
      } else {
        // The edge this deploy started would hold the port for nothing, or for the recreate app.
        await stopAndRemove(docker, names.edge, 0);
        if (recreateApp) {
          // The port is free for a moment between the recreate app stopping and the edge binding it:
          // another process may take it then, and neither can bind it.
          const what =
            edgeTakingPort && !signal.aborted
              ? `the edge could not take the public port; the ${newColor} app`
              : `the ${newColor} app ${why}; it`;
          if (!recreateAppStopped) say(`${what} is removed (${recreateApp} was not touched)`);
          else {
            await startWhatServedAgain(config, [recreateApp], () => startStoppedApp(docker, recreateApp), `${what} is removed`);
            say(`${what} is removed, and ${recreateApp} holds the public port again`);
          }
        } else say(`the ${newColor} app ${why}; it and the edge this deploy started are removed (nothing was serving)`);
      }
      throw err;
    }
    say(`the edge sends new connections to ${newColor}${stillServing ? `; ${stillServing} keeps its open sessions` : ''}`);

    return {
      newColor,
      ...(stillServing && { oldColor: stillServing }),
      serving: `${names.edge} (edge, holds the port), ${names.app(newColor)} (app)`,
      async retire(sayRetire, retireSignal) {
        for (const app of state.apps) {
          if (app.color === newColor) continue;
          if (app.color === stillServing) {
            sayRetire(
              `${app.color} drains: new connections go to ${newColor}; waiting up to ${config.drainTimeoutSeconds} s for ${app.color}'s open sessions to end`,
            );
            const left = await waitUntilDrained(docker, names.edge, app.color, config.drainTimeoutSeconds * 1000, retireSignal);
            const cutShort = retireSignal.aborted ? 'drain cut short (interrupted)' : `drain timeout (${config.drainTimeoutSeconds} s)`;
            sayRetire(
              left === 0
                ? `${app.color} has no open session left`
                : `${cutShort}: ${countOf(left, 'session')} on ${app.color} ${left === 1 ? 'gets its final' : 'get their finals'} and close 1012`,
            );
          }
          await stopAndRemove(docker, app.id, APP_STOP_GRACE_SECONDS);
        }
      },
      async rollBack(sayRollBack) {
        if (stillServing) {
          await routeNewConnectionsTo(docker, names.edge, stillServing);
          await recordActiveColor(docker, config, names, stillServing);
          await restoreEdge(docker, names, edgeBefore);
          sayRollBack(
            `the edge sends new connections to ${stillServing} again${edgeBefore.previous !== undefined ? ', with its previous settings' : ''}`,
          );
        }
        await stopAndRemove(docker, names.app(newColor), APP_STOP_GRACE_SECONDS);
        if (stillServing) return;
        // The edge this deploy started holds the port for nothing, or for the recreate app.
        await stopAndRemove(docker, names.edge, 0);
        if (recreateApp) {
          await startWhatServedAgain(
            config,
            [recreateApp],
            () => startStoppedApp(docker, recreateApp),
            'the new app and the edge are removed',
          );
          sayRollBack(`${recreateApp} holds the public port and serves again`);
        }
      },
    };
  },
};
