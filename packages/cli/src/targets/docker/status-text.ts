import { since } from '../../text/since.js';
import type { DeploymentStatus } from './deployment-status.js';

/** `asrctl status` for containers: the edge and apps, health, images, routing, open sessions. */
export function statusText(s: DeploymentStatus): string {
  if (s.kind === 'fresh')
    return `"${s.project}" is not deployed (asrctl deploy${s.project === 'asrctl' ? '' : ` --project ${s.project}`})\n`;
  const lines = [
    `"${s.project}": ${s.kind === 'update' ? 'serving' : 'BROKEN'} (${s.shape ?? '?'}${s.active ? `, ${s.active} active` : ''}${s.publishedAs ? `, port ${s.publishedAs.replaceAll(',', ', ')}` : ''})`,
    ...s.problems.map((p) => `  problem: ${p}`),
    ...s.notes.map((n) => `  note: ${n}`),
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
