import { CliError } from '../../cli-error.js';
import { LABELS } from '../../deployment/deployment-names.js';
import { inspectImage } from '../../docker/images.js';
import { inspectService, specImage, swarmFacts, unusedSwarmObjects } from '../../docker/swarm.js';
import { formatBytes } from '../../models/disk.js';
import { countOf } from '../../text/count-of.js';
import type { DeploymentTarget } from '../deployment-target.js';
import { checkSwarm } from './swarm-check.js';
import { isSwarmDeployment, scaleSwarmApp, stopSwarmDeployment, swarmLogs, swarmStatus, swarmWorkerRefusal } from './swarm-operations.js';
import { swarmOwnerLabels, swarmRollingUpdate } from './swarm-rollout.js';
import { assessSwarmDeployment } from './swarm-state.js';
import { swarmStatusText } from './status-text.js';

/** Services on the Swarm this engine manages: a replicated app behind an edge service, rolled by Swarm itself. */
export const swarmTarget: DeploymentTarget = {
  name: 'swarm',
  help: 'services on its Swarm (see docs/swarm.md)',
  runsAs: 'Swarm services',
  options: ['replicas', 'registry', 'publishMode', 'constraint'],
  refuses: {
    strategy: 'on Swarm every deploy is a rolling update (start-first)',
    bind: 'Swarm publishes on every address of a node (limit clients with --allow)',
    gpus: 'on Swarm, give GPUs as node generic resources',
  },

  isDeployed: isSwarmDeployment,
  unseenFrom: swarmWorkerRefusal,

  deployment(docker, config, names) {
    return {
      strategy: 'swarm',
      rollBackOutcome: swarmRollingUpdate.rollBackOutcome,
      // Other nodes' ports cannot be probed from here: the swap waits for the edge on every node and warns where it cannot start.
      ...(config.publishMode === 'host' && {
        portsCheckedHere: " on this node (the other nodes' are seen when their edges start)",
      }),
      // A service names its image: a tag per content makes an edge change an update.
      edge: { imageFor: (builtId) => `${names.edgeImage}:${builtId.replace(/^sha256:/u, '').slice(0, 12)}` },

      async checkEnvironment({ say }) {
        const swarm = await checkSwarm(docker, config, names, say);
        return {
          checkMemory(appMemoryBytes) {
            // A rolling update runs one extra task.
            if (swarm.memoryBytes < appMemoryBytes * (swarm.replicas + 1))
              throw new CliError(
                'environment_unfit',
                `the Swarm's ready nodes have ${formatBytes(swarm.memoryBytes)} of memory; ${countOf(swarm.replicas, 'replica')} and a rolling update's extra task need about ${formatBytes(appMemoryBytes * (swarm.replicas + 1))}: fewer --replicas, smaller models, or more nodes`,
              );
          },
        };
      },

      async assess(say, warnings) {
        const swarm = await assessSwarmDeployment(docker, names);
        if (swarm.kind === 'fresh') say(`fresh: no services of "${names.project}" on this Swarm yet`);
        else if (swarm.kind === 'update')
          say(
            `update: ${names.appService} runs ${swarm.runningReplicas} of ${countOf(swarm.desiredReplicas, 'task')}; they serve until new ones are healthy`,
          );
        else {
          say(`broken: ${swarm.problems.join('; ')}`);
          warnings.push(`the existing deployment was broken (${swarm.problems.join('; ')}); this deploy updates it`);
        }
        return swarm.kind;
      },

      // The images the services run now; the swap then replaces every task (a forced update).
      async reuseImages(say) {
        const image = async (service: string): Promise<string | undefined> => specImage((await inspectService(docker, service))?.spec);
        const app = await image(names.appService);
        const edge = await image(names.edgeService);
        if (!app || !edge)
          throw new CliError('nothing_to_restart', `"${names.project}" has no app and edge services on this Swarm to restart`, {
            hint: `asrctl deploy --target swarm`,
          });
        const labels = (await inspectImage(docker, app).catch(() => undefined))?.labels ?? {};
        say(
          `${names.appService}'s image ${app} (version ${labels[LABELS.version] ?? '?'}, commit ${(labels[LABELS.gitCommit] ?? '?').slice(0, 12)})`,
        );
        return {
          appImage: app,
          edgeImage: edge,
          appLabels: Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith('io.asrctl.'))),
        };
      },

      swap: (request) => swarmRollingUpdate.swap(docker, names, request),
      // This node's own address in the Swarm: the engine may be a node reached through DOCKER_HOST,
      // its ports published in its network, not on this host's loopback.
      async probeHost() {
        const swarm = await swarmFacts(docker);
        return swarm.nodes.find((n) => n.id === swarm.nodeId)?.address || '127.0.0.1';
      },
    };
  },

  async status(docker, names) {
    const status = await swarmStatus(docker, names);
    return { kind: status.kind, json: status, text: swarmStatusText(status) };
  },

  stop: (docker, names, say) => stopSwarmDeployment(docker, names, say),

  logs: (docker, names, request) => swarmLogs(docker, names, request),

  async settingsLabels(docker, names) {
    const app = await inspectService(docker, names.appService);
    const label = app?.labels[LABELS.settings];
    return { deployed: await isSwarmDeployment(docker, names), labels: label === undefined ? [] : [label] };
  },

  async cleanup(docker, names) {
    // The images the services run and would roll back to stay (none when not a Swarm manager).
    const imagesInUse: string[] = [];
    for (const name of [names.appService, names.edgeService]) {
      const service = await inspectService(docker, name).catch(() => undefined);
      for (const spec of [service?.spec, service?.previousSpec]) {
        const image = specImage(spec);
        const id = image ? (await inspectImage(docker, image))?.id : undefined;
        if (id) imagesInUse.push(id);
      }
    }
    const objects = await unusedSwarmObjects(docker, swarmOwnerLabels(names)).catch(() => []); // [] when not a Swarm manager
    return {
      imagesInUse,
      items: objects.map((o) => ({ kind: `swarm ${o.kind}`, name: o.name, why: 'used by no service', remove: o.remove })),
    };
  },

  scale: scaleSwarmApp,
};
