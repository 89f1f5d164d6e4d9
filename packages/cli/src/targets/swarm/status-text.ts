import { since } from '../../text/since.js';
import type { SwarmStatus } from './swarm-operations.js';

/** `asrctl status` for Swarm services: services, tasks (with failures), the edge's routes. */
export function swarmStatusText(s: SwarmStatus): string {
  const lines = [
    `"${s.project}": ${s.kind !== 'update' ? 'BROKEN' : s.problems.length > 0 ? 'serving, DEGRADED' : 'serving'} (swarm, ${s.publishMode ?? '?'} mode${s.publishedAs ? `, port ${s.publishedAs.replaceAll(',', ', ')}` : ''})`,
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
  for (const n of s.nodes)
    lines.push(
      `  node ${n.name} ${n.role}: ${n.state}${n.availability !== 'active' ? ` (${n.availability})` : ''}  app tasks: ${n.appTasks.map((t) => `${t.id} ${t.state}`).join(', ') || 'none'}${n.models.length ? `  models ${n.models.join(', ')} (${n.modelsFrom === 'image' ? 'in the image' : 'from the node disk'})` : ''}`,
    );
  if (s.edgeRoutes)
    lines.push(
      `  edge on this node routes to: ${s.edgeRoutes.map((r) => `${r.address} ${r.status} (${r.sessions} open)`).join(', ') || 'no app task'}`,
    );
  return `${lines.join('\n')}\n`;
}
