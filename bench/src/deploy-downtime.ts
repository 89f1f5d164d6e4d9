/**
 * `pnpm bench:deploy`: what clients see while a deployment is updated, for each strategy, on the
 * real Docker engine: a new connection every 20 ms (each waits for the server's greeting) and
 * one live session streaming in real time. Prints failed connections, the longest gap between
 * successful greetings and the deploy's duration, and writes them to BENCHMARKS.md.
 * Not a test: figures are printed, never asserted.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import {
  APP_STOP_GRACE_SECONDS,
  BASE_IMAGES,
  type DeployConfig,
  assessDeployment,
  buildAppImage,
  buildBaseImages,
  connectEngine,
  deploy,
  deploymentNames,
  engineFacts,
  locateSourceTree,
  plainPhaseRunner,
  resolveDeployConfig,
  startAppContainer,
  startConnectionLoop,
  startStreamingSession,
  stopAndRemove,
  stopDeployment,
  stopSwarmDeployment,
  swarmFacts,
} from 'asrctl';
type Docker = ReturnType<typeof connectEngine>;
import { machineFacts } from './machine-facts.js';
import { round } from './stats.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROJECT = 'asrbench';
const PORT = 18765;
const RUNS = process.argv.includes('--quick') ? 1 : 2;
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Outcome {
  strategy: string;
  attempts: number;
  failed: number;
  longestGapMs: number;
  deploySeconds: number;
  sessionFinals: number;
  sessionClose: number;
}

/** The guide's script: stop and remove the running container, build without cache, start the new one. */
async function guideOrder(docker: Docker, config: DeployConfig): Promise<void> {
  const names = deploymentNames(config.project);
  const state = await assessDeployment(docker, names);
  for (const app of state.apps) await stopAndRemove(docker, app.id, APP_STOP_GRACE_SECONDS);
  const source = await locateSourceTree();
  const tag = `${names.appImage}:guide-${Date.now().toString(36)}`;
  await buildAppImage(docker, source, { tag, baseImage: config.baseImage, labels: {}, noCache: true });
  await startAppContainer(docker, config, names, { color: 'blue', image: tag, labels: {}, publishPublicPort: true });
}

async function measured(strategy: string, update: () => Promise<void>): Promise<Outcome> {
  const url = `ws://127.0.0.1:${PORT}/`;
  const session = await startStreamingSession(url);
  const loop = startConnectionLoop(url, 20);
  const started = performance.now();
  await update();
  const deploySeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000)); // the loop also sees the service after the deploy
  const connections = await loop.stop();
  const streamed = await session.stop();
  const outcome = {
    strategy,
    attempts: connections.attempts,
    failed: connections.failures.length,
    longestGapMs: connections.longestGapMs,
    deploySeconds,
    sessionFinals: streamed.finals.length,
    sessionClose: streamed.closeCode,
  };
  log(
    `  ${strategy}: ${outcome.failed}/${outcome.attempts} connections failed, longest gap ${round(outcome.longestGapMs, 0)} ms, deploy ${round(deploySeconds, 1)} s, live session: ${outcome.sessionFinals} finals, close ${outcome.sessionClose}`,
  );
  return outcome;
}

async function main(): Promise<void> {
  const docker = connectEngine();
  const engine = await engineFacts(docker);
  await buildBaseImages(docker, await locateSourceTree(), ['node', 'debian', 'edge']);
  const models = await mkdtemp(join(tmpdir(), 'asrctl-downtime-'));
  await writeToneModel(join(models, 'cn'), { words: toneWordsFor('cn') });
  await writeToneModel(join(models, 'en'), { words: toneWordsFor('en') });
  const config = (strategy: string): DeployConfig =>
    resolveDeployConfig(
      [
        {
          project: PROJECT,
          port: String(PORT),
          bind: '127.0.0.1',
          model: [`cn=${join(models, 'cn')}`, `en=${join(models, 'en')}`],
          baseImage: BASE_IMAGES.node,
          edgeBaseImage: BASE_IMAGES.edge,
          strategy,
          drainTimeout: '3',
        },
      ],
      ROOT,
    );
  // Swarm publishes on every address (no --bind): the same port, on a single-node Swarm made for the run.
  const swarmConfig = (): DeployConfig =>
    resolveDeployConfig(
      [
        {
          project: PROJECT,
          target: 'swarm',
          replicas: '2',
          port: String(PORT),
          model: [`cn=${join(models, 'cn')}`, `en=${join(models, 'en')}`],
          baseImage: BASE_IMAGES.node,
          edgeBaseImage: BASE_IMAGES.edge,
          drainTimeout: '3',
        },
      ],
      ROOT,
    );
  const madeSwarm = (await swarmFacts(docker)).state !== 'active';
  if (madeSwarm) await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
  const quiet = plainPhaseRunner(() => undefined);
  const names = deploymentNames(PROJECT);
  const outcomes: Outcome[] = [];
  try {
    await stopDeployment(docker, names);
    for (let run = 1; run <= RUNS; run++) {
      log(`run ${run} of ${RUNS}`);
      await deploy(docker, config('recreate'), quiet); // the shape both single-container strategies update
      outcomes.push(await measured('guide order: stop, build (no cache), start', () => guideOrder(docker, config('recreate'))));
      outcomes.push(await measured('asrctl --strategy recreate', async () => void (await deploy(docker, config('recreate'), quiet))));
      // A strategy switch: the edge takes the public port from the recreate app (a one-off outage).
      outcomes.push(await measured('switch: recreate → blue-green', async () => void (await deploy(docker, config('blue-green'), quiet))));
      outcomes.push(await measured('asrctl blue-green (default)', async () => void (await deploy(docker, config('blue-green'), quiet))));
      outcomes.push(await measured('switch: blue-green → recreate', async () => void (await deploy(docker, config('recreate'), quiet))));
      await stopDeployment(docker, names);
      await deploy(docker, swarmConfig(), quiet); // the services, fresh (not measured)
      outcomes.push(
        await measured('asrctl --target swarm (rolling update, 2 replicas)', async () => void (await deploy(docker, swarmConfig(), quiet))),
      );
      await stopSwarmDeployment(docker, names);
    }
  } finally {
    await stopDeployment(docker, names);
    await stopSwarmDeployment(docker, names).catch(() => undefined);
    if (madeSwarm) await docker.swarmLeave({ force: true });
    if (madeSwarm)
      await docker
        .getNetwork('docker_gwbridge')
        .remove()
        .catch(() => undefined);
    await rm(models, { recursive: true, force: true });
  }
  const facts = machineFacts();
  const section = [
    '<!-- deploy-downtime:start (written by `pnpm bench:deploy`; edit bench/src/deploy-downtime.ts instead) -->',
    '## Deploy downtime by strategy',
    '',
    `Command: \`pnpm bench:deploy\` · ${facts.date} · ${facts.cpu}, ${facts.cores} cores · Docker engine ${engine.version} · Node ${facts.node}`,
    '',
    'An update of a running deployment (light tone models, so the app is ready about 1 s after it starts) while a client opens a WebSocket every 20 ms and waits for the greeting, and one live session streams two-tone utterances in real time. A connection fails when it is refused, reset or not greeted within 5 s. Longest gap: the longest time between two greeted connections. Drain timeout 3 s.',
    '',
    '| strategy | failed / opened connections | longest gap | deploy time | live session: finals, close code |',
    '|---|---|---|---|---|',
    ...outcomes.map(
      (o) =>
        `| ${o.strategy} | ${o.failed} / ${o.attempts} | ${round(o.longestGapMs, 0)} ms | ${round(o.deploySeconds, 1)} s | ${o.sessionFinals}, ${o.sessionClose} |`,
    ),
    '',
    "Close code 1012 (service restart) comes after the session's finals: the app flushes them on SIGTERM. 1006 means the connection dropped without a close frame. Swarm: a single-node Swarm (`docker swarm init --advertise-addr 127.0.0.1`), app service in dnsrr mode updated start-first, edge in host mode; the 3 s drain lets the live session go on before its task stops.",
    '<!-- deploy-downtime:end -->',
  ].join('\n');
  process.stdout.write(`${section}\n`);
  if (!process.argv.includes('--quick')) {
    const path = join(ROOT, 'BENCHMARKS.md');
    const existing = await readFile(path, 'utf8');
    const pattern = /<!-- deploy-downtime:start[\s\S]*?<!-- deploy-downtime:end -->/u;
    await writeFile(path, pattern.test(existing) ? existing.replace(pattern, section) : `${existing.trimEnd()}\n\n${section}\n`);
  }
}

await main();
