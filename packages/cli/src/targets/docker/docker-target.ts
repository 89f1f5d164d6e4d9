import { CliError } from '../../cli-error.js';
import type { Strategy } from '../../deployment/deploy-config.js';
import { LABELS } from '../../deployment/deployment-names.js';
import { containerLabels, stopAndRemove } from '../../docker/containers.js';
import { inspectImage } from '../../docker/images.js';
import { copyLogs } from '../../docker/logs.js';
import { SWARM_LABELS } from '../../docker/swarm.js';
import { formatBytes } from '../../models/disk.js';
import type { CleanupItem, DeploymentTarget } from '../deployment-target.js';
import { blueGreenSwap } from './blue-green.js';
import type { DockerStrategy } from './docker-strategy.js';
import { type DeploymentState, assessDeployment, plainContainers } from './deployment-state.js';
import { deploymentStatus } from './deployment-status.js';
import { recreateSwap } from './recreate.js';
import { statusText } from './status-text.js';
import { stopDeployment } from './stop-deployment.js';

const STRATEGIES: Record<Strategy, DockerStrategy> = { 'blue-green': blueGreenSwap, recreate: recreateSwap };

/** Containers on this engine: an app per colour, behind an edge (blue-green) or holding the port itself (recreate). */
export const dockerTarget: DeploymentTarget = {
  name: 'docker',
  help: 'containers on this engine',
  runsAs: 'containers on this engine',
  options: ['strategy', 'bind', 'gpus'],

  async isDeployed(docker, names) {
    // The deploy lock and Swarm's task containers carry the project label too. The list alone: task
    // containers come and go while Swarm retries them.
    const labels = await containerLabels(docker, { [LABELS.project]: names.project });
    return labels.some((l) => l[LABELS.role] !== 'lock' && l[SWARM_LABELS.task] === undefined);
  },

  deployment(docker, config, names) {
    const strategy = STRATEGIES[config.strategy];
    let state: DeploymentState | undefined;
    const assessed = (): DeploymentState => {
      if (!state) throw new Error('the deployment was not assessed yet');
      return state;
    };
    return {
      strategy: strategy.name,
      rollBackOutcome: strategy.rollBackOutcome,
      ...(strategy.usesEdge && { edge: { imageFor: () => `${names.edgeImage}:latest` } }),

      async checkEnvironment({ engine }) {
        // The app serves plain ws: under recreate every deploy would fail its own wss check, after the old app stopped.
        if (config.tls && !strategy.usesEdge)
          throw new CliError(
            'invalid_deploy_config',
            `--tls-cert/--tls-key need --strategy blue-green: TLS ends at its edge, and ${strategy.name} has none`,
            { hint: 'deploy with --strategy blue-green, or without --tls-cert/--tls-key (nothing was changed)', exitCode: 2 },
          );
        return {
          checkMemory(appMemoryBytes) {
            const during = strategy.peakAppContainers * appMemoryBytes;
            if (during > engine.memoryBytes)
              throw new CliError(
                'environment_unfit',
                `the engine host has ${formatBytes(engine.memoryBytes)} of memory; this deploy needs about ${formatBytes(during)}${strategy.peakAppContainers > 1 ? ' (old and new app side by side)' : ''}: choose smaller models or --strategy recreate`,
              );
          },
        };
      },

      async assess(say, warnings) {
        state = await assessDeployment(docker, names);
        if (state.kind === 'fresh') say(`fresh: nothing deployed as "${names.project}" yet`);
        else if (state.kind === 'update')
          say(`update: ${names.app(state.active!)} serves (${state.shape}); it keeps serving until the new version is proven`);
        else {
          say(`broken: ${state.problems.join('; ')}`);
          warnings.push(`the existing deployment was broken (${state.problems.join('; ')}); this deploy replaces what does not serve`);
        }
        return state.kind;
      },

      async reuseImages(say) {
        const { apps, active: activeColor, edge } = assessed();
        const active = apps.find((a) => a.color === activeColor);
        if (!active) throw new CliError('nothing_to_restart', `nothing serves as "${names.project}" to restart`, { hint: `asrctl deploy` });
        const labels = (await inspectImage(docker, active.imageId))?.labels ?? {};
        if (!edge && strategy.usesEdge)
          throw new CliError('nothing_to_restart', 'the deployment has no edge to restart behind; use asrctl deploy');
        say(
          `${active.name}'s image ${active.image} (version ${labels[LABELS.version] ?? '?'}, commit ${(labels[LABELS.gitCommit] ?? '?').slice(0, 12)})`,
        );
        return {
          // The tag it was started from, unless that tag now names another image.
          appImage: (await inspectImage(docker, active.image))?.id === active.imageId ? active.image : active.imageId,
          appLabels: Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith('io.asrctl.'))),
          ...(edge && { edgeImage: edge.imageId }),
        };
      },

      swap: (request) => strategy.swap({ ...request, docker, names, state: assessed() }),
      probeHost: () => Promise.resolve('127.0.0.1'),
    };
  },

  async status(docker, names) {
    const status = await deploymentStatus(docker, names);
    return { kind: status.kind, json: status, text: statusText(status) };
  },

  stop: (docker, names, say) => stopDeployment(docker, names, say),

  async logs(docker, names, request) {
    const state = await assessDeployment(docker, names);
    let id: string;
    if (request.service === 'edge') {
      if (!state.edge) throw new Error(`"${names.project}" has no edge container`);
      id = state.edge.id;
    } else {
      const app =
        state.apps.find((a) => a.color === state.active) ?? [...state.apps].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
      if (!app) throw new Error(`"${names.project}" has no app container (asrctl status)`);
      id = app.id;
    }
    const { follow, tail, timestamps } = request;
    await copyLogs(docker, id, { follow, ...(tail !== undefined && { tail }), timestamps }, request.stdout, request.stderr, request.signal);
  },

  async settingsLabels(docker, names) {
    const state = await assessDeployment(docker, names);
    const apps = [...state.apps].sort(
      (a, b) => Number(b.color === state.active) - Number(a.color === state.active) || Date.parse(b.startedAt) - Date.parse(a.startedAt),
    );
    return {
      deployed: state.kind !== 'fresh',
      labels: apps.flatMap((a) => a.labels[LABELS.settings] ?? []),
    };
  },

  async cleanup(docker, names) {
    // Swarm keeps its own task history (and prunes it); those containers are not ours to remove.
    const ours = (await plainContainers(docker, names)).filter((x) => x.labels[LABELS.role] !== 'lock');
    // With nothing serving, a stopped app may be the version that last served (a deploy killed mid-switch).
    const serving = (await assessDeployment(docker, names)).kind === 'update';
    const items: CleanupItem[] = ours
      .filter((x) => x.state !== 'running')
      .map((c) => ({
        kind: 'container',
        name: c.name,
        why:
          serving || c.labels[LABELS.role] !== 'app'
            ? `${c.state}, not serving`
            : `${c.state}; nothing serves now, and this may be the version that last did: docker start ${c.name} brings it back`,
        remove: () => stopAndRemove(docker, c.id, 0),
      }));
    return { imagesInUse: [], items };
  },
};
