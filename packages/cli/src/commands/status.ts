import type { Command } from 'commander';
import type { DeployInput } from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { readRecordedSettings, settingText } from '../deployment/deployment-record.js';
import { connectEngine } from '../docker/engine.js';
import { type DeploymentStatus, deploymentStatus } from '../targets/docker/deployment-status.js';
import { type SwarmStatus, isSwarmDeployment, swarmStatus } from '../targets/swarm/swarm-operations.js';
import { addTargetOptions } from './deployment-options.js';
import { projectFrom } from './project.js';

/** `asrctl status`: containers, health, image labels, routing and open sessions. */
export function registerStatus(program: Command): void {
  addTargetOptions(program.command('status').description('show the deployment: containers, health, images, routing, open sessions'))
    .option('--json', 'machine-readable output')
    .action(async (flags: { project?: string; config?: string; json?: boolean }) => {
      const docker = connectEngine();
      const names = deploymentNames(projectFrom(flags));
      const status = (await isSwarmDeployment(docker, names)) ? await swarmStatus(docker, names) : await deploymentStatus(docker, names);
      const recorded = await readRecordedSettings(docker, names);
      const settings = recorded.kind === 'recorded' ? recorded.settings : undefined;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ ...status, ...(settings && { settings }) }, null, 2)}\n`
          : `${'target' in status ? presentSwarm(status) : present(status)}${recorded.kind === 'none' ? '' : presentSettings(settings)}`,
      );
      if (status.kind === 'broken') process.exitCode = 1;
    });
}

function present(s: DeploymentStatus): string {
  if (s.kind === 'fresh')
    return `"${s.project}" is not deployed (asrctl deploy${s.project === 'asrctl' ? '' : ` --project ${s.project}`})\n`;
  const lines = [
    `"${s.project}": ${s.kind === 'update' ? 'serving' : 'BROKEN'} (${s.shape ?? '?'}${s.active ? `, ${s.active} active` : ''}${s.publishedAs ? `, port ${s.publishedAs.replaceAll(',', ', ')}` : ''})`,
    ...s.problems.map((p) => `  problem: ${p}`),
  ];
  for (const c of s.containers) {
    const uptime = c.state === 'running' ? `up ${since(c.startedAt)}` : c.state;
    lines.push(`  ${c.name}  ${c.role}${c.color ? ` ${c.color}` : ''}  ${uptime}  health ${c.health}  restarts ${c.restarts}`);
    lines.push(
      `      image ${c.image}${c.labels.version ? `  version ${c.labels.version}` : ''}${c.labels.gitCommit ? `  commit ${c.labels.gitCommit.slice(0, 12)}` : ''}`,
    );
    if (c.labels.models) lines.push(`      models ${c.labels.models}`);
    if (c.edge)
      lines.push(
        `      edge: ${c.edge.weight > 0 ? 'new connections' : 'no new connections'}, ${c.edge.status}, ${c.edge.sessions} open through the edge`,
      );
    if (c.openSessions !== undefined) lines.push(`      open sessions ${c.openSessions}`);
  }
  return `${lines.join('\n')}\n`;
}

function presentSwarm(s: SwarmStatus): string {
  const lines = [
    `"${s.project}": ${s.kind === 'update' ? 'serving' : 'BROKEN'} (swarm, ${s.publishMode ?? '?'} mode${s.publishedAs ? `, port ${s.publishedAs.replaceAll(',', ', ')}` : ''})`,
    ...s.problems.map((p) => `  problem: ${p}`),
  ];
  for (const service of s.services) {
    lines.push(
      `  ${service.name}  ${service.role}  ${service.mode}  running ${service.running}/${service.desired}${service.update ? `  update ${service.update}` : ''}`,
    );
    lines.push(
      `      image ${service.image}${service.labels.version ? `  version ${service.labels.version}` : ''}${service.labels.gitCommit ? `  commit ${service.labels.gitCommit.slice(0, 12)}` : ''}`,
    );
    if (service.labels.models) lines.push(`      models ${service.labels.models}`);
    for (const t of service.tasks)
      lines.push(
        `      task ${t.id} on ${t.node}: ${t.state}${t.desiredState !== 'running' ? ` (desired ${t.desiredState})` : ''} ${since(t.since)}${t.addresses.length ? `  ${t.addresses.join(', ')}` : ''}${t.error ? `\n        ${t.error}` : ''}`,
      );
  }
  if (s.edgeRoutes)
    lines.push(
      `  edge on this node routes to: ${s.edgeRoutes.map((r) => `${r.address} ${r.status} (${r.sessions} open)`).join(', ') || 'no app task'}`,
    );
  return `${lines.join('\n')}\n`;
}

/** What `restart` (and a bare `deploy`) reuse. */
function presentSettings(settings: DeployInput | undefined): string {
  if (!settings)
    return '  settings: none recorded (no app of this deployment runs, or an older asrctl deployed it; the next deploy records them)\n';
  const lines = (Object.entries(settings) as Array<[keyof DeployInput, string | string[]]>).map(([k, v]) => `    ${settingText(k, v)}`);
  return `  deployed with (restart and a bare deploy reuse these):\n${lines.join('\n')}\n`;
}

function since(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}
