import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PollTimeoutError, pollUntil } from '@asrctl/server';
import type Docker from 'dockerode';
import { type DeploymentNames, LABELS } from '../../deployment/deployment-names.js';
import type { DeployConfig } from '../../deployment/deploy-config.js';
import { tlsPem } from '../../deployment/edge-tls.js';
import type { SwapRequest, SwappedDeployment } from '../deployment-target.js';
import { findContainers } from '../../docker/containers.js';
import {
  SWARM_LABELS,
  type ServiceFacts,
  type ServiceSpec,
  containerTemplate,
  createService,
  ensureOverlayNetwork,
  ensureSwarmObject,
  inspectService,
  removeService,
  removeUnusedSwarmObjects,
  serviceTasks,
  specImage,
  swarmFacts,
  updateService,
} from '../../docker/swarm.js';
import { type RegistryAuth, registryAuth } from '../../docker/registry-auth.js';
import { inspectImage, pushImage, tagImage } from '../../docker/images.js';
import { waitUntilEdgeSeesTasks } from '../../edge/edge-runtime.js';
import { directorySize } from '../../models/disk.js';
import { appServiceSpec } from './app-service.js';
import { startPeriodFor } from '../../deployment/model-loading.js';
import { appImageWithModels, modelFreeBase } from './model-images.js';
import { edgeServiceSpec, swarmEdgeConfig } from './edge-service.js';
import { explainTaskError } from './swarm-state.js';
import { nodeName } from './node-status.js';
import { countOf } from '../../text/count-of.js';
import { CliError } from '../../cli-error.js';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
/** What asrctl made for a project on the Swarm: its configs and secrets carry these. */
export const swarmOwnerLabels = (names: DeploymentNames): Record<string, string> => ({
  [LABELS.project]: names.project,
  [LABELS.stackNamespace]: names.project,
});

/**
 * Swarm's own rolling update: the app service's tasks are replaced one at a time, each new task
 * started and healthy before its old one stops, and Swarm rolls back by itself if a new task fails.
 * The edge service is created once and updated only when its settings change.
 */
export const swarmRollingUpdate = {
  rollBackOutcome: 'the services are back on their previous specs',
  async swap(docker: Docker, names: DeploymentNames, request: SwapRequest): Promise<SwappedDeployment> {
    const { config, say, signal } = request;
    if (!request.edgeImage) throw new Error('a Swarm deploy needs the edge image');
    const owner = swarmOwnerLabels(names);
    await ensureOverlayNetwork(docker, names.overlay, owner);

    const appBefore = await inspectService(docker, names.appService);
    const edgeBefore = await inspectService(docker, names.edgeService);
    const replicas = config.replicas ?? appBefore?.spec.Mode?.Replicated?.Replicas ?? 2;
    const appSpec = await desiredAppSpec(docker, config, names, request, appBefore, replicas);
    const edgeSpec = await desiredEdgeSpec(docker, config, names, request.edgeImage);

    const auth = config.registry ? await registryAuth(config.registry) : undefined;
    const image = specImage(appSpec);
    // Interrupted before anything changed: nothing to roll back.
    signal.throwIfAborted();
    if (appBefore) {
      say(`rolling update of ${names.appService} to ${image}: one task at a time, each new task healthy before an old one stops`);
      await updateService(docker, appBefore, appSpec, { ...(auth && { auth }) });
    } else {
      say(`creating ${names.appService} with ${countOf(replicas, 'replica')} of ${image}`);
      await createService(docker, appSpec, auth);
    }
    const edgeChanged = edgeBefore?.labels[LABELS.specHash] !== edgeSpec.Labels?.[LABELS.specHash];
    let edgeUpdated = false;
    const rollBack = async (sayRollBack: (line: string) => void): Promise<void> => {
      if (!appBefore) {
        await removeService(docker, names.edgeService);
        await removeService(docker, names.appService);
        sayRollBack('nothing was serving before; the new services were removed');
        return;
      }
      await rollBackService(docker, names.appService, sayRollBack);
      if (edgeUpdated) await rollBackService(docker, names.edgeService, sayRollBack);
      // Back only when the (previous) edge routes to the (previous) app's tasks again.
      if (edgeBefore) await waitForEdge(docker, names, edgeBefore.spec, appBefore.spec.Mode?.Replicated?.Replicas ?? replicas, sayRollBack);
    };
    // Interrupted (Ctrl-C) while Swarm rolls out: the same rollback as a failed verification.
    const rollBackInterrupted = async (): Promise<void> => {
      say('interrupted: rolling the services back to their previous specs');
      await rollBack(say);
    };
    try {
      await waitForAppRollout(docker, names, appSpec, replicas, say, signal);
    } catch (err) {
      if (signal.aborted) await rollBackInterrupted();
      else if (!appBefore) await removeService(docker, names.appService);
      throw err;
    }

    if (!edgeBefore) {
      say(`creating ${names.edgeService} (${config.publishMode} mode) on port ${config.port}`);
      await createService(docker, edgeSpec, auth);
    } else if (edgeChanged) {
      say(
        config.publishMode === 'host'
          ? `the edge's settings changed: replacing ${names.edgeService} on each node (host mode: stop first, a few seconds without the edge there)`
          : `the edge's settings changed: rolling update of ${names.edgeService}`,
      );
      edgeUpdated = true;
      await updateService(docker, edgeBefore, edgeSpec, { ...(auth && { auth }) });
    }
    try {
      await waitForEdge(docker, names, edgeSpec, replicas, say, signal);
      if (edgeSpec.Mode?.Global) request.warnings.push(...(await edgeOnEveryNode(docker, names, edgeSpec, say, signal)));
    } catch (err) {
      if (signal.aborted) await rollBackInterrupted();
      throw err;
    }

    return {
      serving: `Swarm services ${names.edgeService} (edge, holds the port), ${names.appService} (app)`,
      ...(image !== request.appImage && image && { image }),
      async retire(sayRetire) {
        const removed = await removeUnusedSwarmObjects(docker, owner);
        if (removed.length > 0) sayRetire(`removed unused swarm configs and secrets: ${removed.join(', ')}`);
        if (auth) await tagVerifiedAsLatest(docker, modelFreeBase(request.appImage), auth, sayRetire);
      },
      rollBack,
    };
  },
};

async function desiredAppSpec(
  docker: Docker,
  config: DeployConfig,
  names: DeploymentNames,
  request: SwapRequest,
  before: ServiceFacts | undefined,
  replicas: number,
): Promise<ServiceSpec> {
  const tokensSecret = config.tokensFile ? await secretFor(docker, names, 'tokens', await readFile(config.tokensFile)) : undefined;
  let modelBytes = 0;
  for (const model of config.models) modelBytes += await directorySize(model.hostDir).catch(() => 0);
  const beforeTemplate = containerTemplate(before?.spec);
  // With a registry, the models travel in the image to whichever node runs a task.
  const image = config.registry
    ? (
        await appImageWithModels(
          docker,
          { ...config, registry: config.registry },
          names,
          request.appImage,
          await registryAuth(config.registry),
          request.say,
        )
      ).image
    : request.appImage;
  // The same image again (restart): Swarm replaces the tasks only if told to.
  const sameImage = beforeTemplate?.ContainerSpec?.Image === image;
  return appServiceSpec(config, names, {
    image,
    ...(config.registry && { modelsInImage: true }),
    labels: request.appLabels,
    replicas,
    startPeriodSeconds: startPeriodFor(modelBytes),
    ...(tokensSecret && { tokensSecret }),
    ...(sameImage && { forceUpdate: (beforeTemplate?.ForceUpdate ?? 0) + 1 }),
  });
}

async function desiredEdgeSpec(docker: Docker, config: DeployConfig, names: DeploymentNames, image: string): Promise<ServiceSpec> {
  const pem = await tlsPem(config);
  const pemSha = pem === undefined ? undefined : sha256(pem);
  const haproxy = swarmEdgeConfig(config, names, pemSha);
  const haproxyConfig = await ensureSwarmObject(
    docker,
    'config',
    `${names.project}_edge_${sha256(haproxy).slice(0, 12)}`,
    haproxy,
    swarmOwnerLabels(names),
  );
  const tlsSecret = pem === undefined ? undefined : await secretFor(docker, names, 'tls', pem);
  return edgeServiceSpec(config, names, { image, haproxyConfig, ...(tlsSecret && { tlsSecret }) });
}

function secretFor(docker: Docker, names: DeploymentNames, what: string, data: string | Buffer): Promise<{ id: string; name: string }> {
  return ensureSwarmObject(docker, 'secret', `${names.project}_${what}_${sha256(data).slice(0, 12)}`, data, swarmOwnerLabels(names));
}

/**
 * Until `replicas` tasks of the new spec run (healthy: Swarm starts a task with a health check only
 * once it passes) and no old task does. If Swarm rolls back, waits for the old version to run again
 * and fails with the new tasks' errors.
 */
async function waitForAppRollout(
  docker: Docker,
  names: DeploymentNames,
  spec: ServiceSpec,
  replicas: number,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const image = specImage(spec) ?? '';
  const force = spec.TaskTemplate?.ForceUpdate ?? 0;
  const startPeriodNs = containerTemplate(spec)?.ContainerSpec?.HealthCheck?.StartPeriod ?? 0;
  let shown = '';
  let rollingBack = false;
  await pollUntil(
    async () => {
      const service = await inspectService(docker, names.appService);
      if (!service) throw new CliError('swarm_rollout_failed', `${names.appService} disappeared during the update`);
      const tasks = await serviceTasks(docker, service.id);
      const isNew = (t: { image: string; forceUpdate?: number }): boolean => t.image === image && (t.forceUpdate ?? 0) === force;
      const failures = tasks.filter((t) => isNew(t) && (t.state === 'failed' || t.state === 'rejected'));
      const state = service.updateState;
      if (state === 'rollback_started' && !rollingBack) {
        rollingBack = true;
        say(`a new task failed (${failureSummary(failures)}): Swarm is rolling back to the previous version`);
      }
      if (state === 'rollback_completed' || state === 'rollback_paused' || state === 'paused') {
        const outcome =
          state === 'rollback_completed'
            ? 'Swarm rolled back by itself: the previous version serves'
            : `the update is ${state} (${service.updateMessage ?? ''}); what serves is shown by asrctl status`;
        throw new CliError('swarm_rollout_failed', `the new version did not become healthy: ${failureSummary(failures)}\n  ${outcome}`);
      }
      const running = tasks.filter((t) => t.desiredState === 'running' && t.state === 'running');
      const fresh = running.filter(isNew).length;
      const progress = `${fresh} of ${countOf(replicas, 'task')} of the new version ${fresh === 1 ? 'runs' : 'run'}${running.length > fresh ? `, ${countOf(running.length - fresh, 'old one still serves', 'old ones still serve')}` : ''}`;
      if (progress !== shown) say((shown = progress));
      const finished = fresh >= replicas && running.length === fresh && state !== 'updating' && state !== 'rollback_started';
      // A new service has nothing to roll back to: repeated failures end the wait.
      if (!finished && !service.previousSpec && failures.length >= 2 * replicas)
        throw new CliError(
          'swarm_rollout_failed',
          `the app's tasks keep failing: ${failureSummary(failures)}\n  the new service was removed`,
        );
      return { finished, progress, failures };
    },
    (rollout) => rollout.finished,
    {
      what: 'the update',
      timeoutMs: (startPeriodNs / 1e6 + 60_000) * Math.max(1, replicas),
      intervalMs: 1000,
      signal,
      timeoutError: (_message, { progress, failures }) =>
        new CliError(
          'swarm_rollout_failed',
          `the update did not finish in time (${progress})${failures.length ? `: ${failureSummary(failures)}` : ''}\n  asrctl status shows where it stands`,
        ),
    },
  );
}

function failureSummary(failures: Array<{ error?: string; message: string }>): string {
  const reasons = [...new Set(failures.map((f) => explainTaskError(f.error ?? f.message)))];
  return reasons.length > 0 ? reasons.slice(0, 2).join('; ') : 'no task error reported';
}

/**
 * Until an edge task of the current spec runs and, where one runs on this node, it routes to every
 * app task. An edge only on other nodes is left to the verify step.
 */
async function waitForEdge(
  docker: Docker,
  names: DeploymentNames,
  spec: ServiceSpec,
  replicas: number,
  say: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const labels = { [SWARM_LABELS.service]: names.edgeService, [LABELS.specHash]: spec.Labels?.[LABELS.specHash] ?? '' };
  const started = Date.now();
  const found = await pollUntil(
    async (): Promise<{ local?: string; elsewhere?: boolean; tasks: Awaited<ReturnType<typeof serviceTasks>> }> => {
      const local = (await findContainers(docker, labels)).find((c) => c.state === 'running');
      if (local) return { local: local.id, tasks: [] };
      const service = await inspectService(docker, names.edgeService);
      const tasks = service ? await serviceTasks(docker, service.id) : [];
      const elsewhere = Date.now() - started > 20_000 && tasks.some((t) => t.desiredState === 'running' && t.state === 'running');
      return { elsewhere, tasks };
    },
    (found) => found.local !== undefined || found.elsewhere === true,
    {
      what: 'the edge to start',
      timeoutMs: 120_000,
      intervalMs: 500,
      ...(signal && { signal }),
      timeoutError: (_message, { tasks }) => {
        const errors = [...new Set(tasks.filter((t) => t.error).map((t) => explainTaskError(t.error!)))];
        return new CliError('swarm_rollout_failed', `the edge did not start within 120 s${errors.length ? `: ${errors.join('; ')}` : ''}`);
      },
    },
  );
  if (found.local !== undefined) {
    const up = await waitUntilEdgeSeesTasks(docker, found.local, replicas, 60_000);
    say(`the edge routes to ${up.length} healthy app tasks (${up.map((s) => s.address).join(', ')})`);
  } else {
    say('the edge runs on other nodes only; the verify step checks it through the public port');
  }
}

/**
 * In host mode each node's clients reach that node's own edge task. Waits until every node that can
 * run tasks runs one of this spec, or its task failed (a port taken there by another process, say:
 * the check before the deploy sees this node only), for at most EDGE_EVERYWHERE_MS. What does not
 * run is returned as warnings naming the node: the deploy stands (the other nodes serve the new
 * version, and a rollback would not free that port), and `asrctl status` keeps reporting it.
 */
async function edgeOnEveryNode(
  docker: Docker,
  names: DeploymentNames,
  spec: ServiceSpec,
  say: (line: string) => void,
  signal: AbortSignal,
): Promise<string[]> {
  const hash = spec.Labels?.[LABELS.specHash] ?? '';
  const ports = spec.Labels?.[LABELS.port] ?? '?';
  const service = await inspectService(docker, names.edgeService);
  if (!service) return [];
  const survey = async () => {
    const nodes = (await swarmFacts(docker)).nodes.filter((n) => n.state === 'ready' && n.availability === 'active');
    const tasks = (await serviceTasks(docker, service.id)).filter((t) => t.labels[LABELS.specHash] === hash);
    return nodes.map((node) => {
      const here = tasks.filter((t) => t.nodeId === node.id); // newest first
      const failed = here.find((t) => t.error && (t.state === 'failed' || t.state === 'rejected'));
      return {
        node,
        running: here.some((t) => t.desiredState === 'running' && t.state === 'running'),
        failed,
        state: here.find((t) => t.desiredState === 'running')?.state ?? 'not scheduled',
      };
    });
  };
  let shown = '';
  const nodes = await pollUntil(
    async () => {
      const found = await survey();
      const line = `the edge runs on ${found.filter((n) => n.running).length} of ${countOf(found.length, 'node')}`;
      if (line !== shown) say((shown = line));
      return found;
    },
    (found) => found.every((n) => n.running || n.failed),
    { what: 'the edge on every node', timeoutMs: EDGE_EVERYWHERE_MS, intervalMs: 1000, signal },
  ).catch((err: unknown) => {
    // Past the bound, what still does not run is warned of, as what failed.
    if (err instanceof PollTimeoutError && err.last) return err.last as Awaited<ReturnType<typeof survey>>;
    throw err;
  });
  return nodes
    .filter((n) => !n.running)
    .map(
      (n) =>
        `no edge runs on node ${nodeName(n.node)}: clients of port ${ports} there are refused; ${
          n.failed
            ? `its task ${n.failed.state}: ${explainTaskError(n.failed.error!)}`
            : `its task is ${n.state} after ${EDGE_EVERYWHERE_MS / 1000} s`
        } (asrctl status shows it)`,
    );
}

/** How long a deploy waits for the edge to run on every node before it warns of those where it does not. */
const EDGE_EVERYWHERE_MS = 60_000;

/** Asks Swarm to go back to the service's previous spec and waits until it has. */
async function rollBackService(docker: Docker, name: string, say: (line: string) => void): Promise<void> {
  const service = await inspectService(docker, name);
  if (!service?.previousSpec) return;
  await updateService(docker, service, service.spec, { rollback: true });
  await pollUntil(
    async () => {
      const now = await inspectService(docker, name);
      if (now?.updateState === 'rollback_paused')
        throw new CliError('swarm_rollout_failed', `rolling ${name} back paused: ${now.updateMessage ?? ''}`);
      return now?.updateState;
    },
    (state) => state === 'rollback_completed',
    {
      what: `${name} to roll back`,
      timeoutMs: 300_000,
      intervalMs: 1000,
      timeoutError: () => new CliError('swarm_rollout_failed', `rolling ${name} back did not finish within 300 s`),
    },
  );
  say(`${name} is back on its previous version`);
}

/**
 * The verified app image without models, pushed as `:latest` too: what `asrctl render k8s` names
 * by default (its pods mount the models). Only an image this engine holds: a restart that reused
 * one built elsewhere leaves `latest` as it was.
 */
async function tagVerifiedAsLatest(docker: Docker, appImage: string, auth: RegistryAuth, say: (line: string) => void): Promise<void> {
  if (!(await inspectImage(docker, appImage))) return;
  const latest = `${appImage.slice(0, appImage.lastIndexOf(':'))}:latest`;
  await tagImage(docker, appImage, latest);
  await pushImage(docker, latest, auth, () => undefined);
  say(`${latest} names the verified app image (asrctl render k8s uses it)`);
}
