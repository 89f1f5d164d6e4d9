import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { LABELS } from '../deployment/deployment-names.js';
import type { HostMount } from '../docker/mounts.js';
import { MODEL_MARKERS, holdsAModel } from '../models/model-manifest.js';

/** A directory given to `cleanup --models`, as found on disk. */
export interface AskedModelDirectory {
  /** As typed. */
  given: string;
  /** Absolute. */
  path: string;
  /** With symlinks followed (what `rm` would delete through); absent when nothing is there. */
  realPath?: string;
  found: 'directory' | 'file' | 'nothing';
  /** A directory without any of MODEL_MARKERS: /etc, a whole store, a checkout. */
  notAModel?: true;
}

/** What a directory to remove must not be, hold, or lie inside. */
export interface ModelRemovalGuards {
  cwd: string;
  home: string;
  /** The models directory (--models-dir): every installed model. */
  modelsRoot: string;
  mounts: readonly HostMount[];
}

/** Why one directory must stay: `path` when it cannot be a model directory (bad usage), `in use` when something mounts it. */
export interface ModelRemovalProblem {
  kind: 'path' | 'in use';
  message: string;
}

/**
 * Why each asked-for model directory must not be removed (empty: all may go). Refused: a path that
 * cannot be one model (the root, the home directory, the current directory or what holds it, the
 * models directory or what holds it), nothing or a file, a directory holding no model, and any directory that is, holds or lies
 * inside a path mounted by a container or Swarm service: deleting it breaks that holder at its
 * next start.
 */
export function modelRemovalProblems(dirs: readonly AskedModelDirectory[], guards: ModelRemovalGuards): ModelRemovalProblem[] {
  const problems: ModelRemovalProblem[] = [];
  for (const dir of dirs) {
    const paths = [...new Set([dir.path, dir.realPath ?? dir.path])];
    const shown = dir.given === dir.path ? dir.path : `${dir.given} (${dir.path})`;
    const notAModel = pathProblem(dir, paths, guards);
    if (notAModel) {
      problems.push({ kind: 'path', message: `--models ${shown} ${notAModel}` });
      continue;
    }
    const before = problems.length;
    const seen = new Set<string>();
    for (const mount of guards.mounts) {
      const source = resolve(mount.source);
      const relation = mountRelation(paths, source, dir.path);
      if (relation === undefined || seen.has(`${mount.holder}\0${source}`)) continue;
      seen.add(`${mount.holder}\0${source}`);
      const project = mount.labels[LABELS.project];
      const fix = project
        ? `stop that deployment first (asrctl stop --project ${project}), or deploy it without that model`
        : 'remove that container or service first, or leave the directory';
      problems.push({
        kind: 'in use',
        message: `--models ${shown} is in use: ${mount.holder}${project ? ` of deployment "${project}"` : ''} mounts ${source}${relation} at ${mount.target}, and would fail at its next start without it: ${fix}`,
      });
    }
    if (dir.notAModel && problems.length === before)
      problems.push({
        kind: 'path',
        message: `--models ${shown} is not a model directory (it holds none of ${MODEL_MARKERS.join(', ')}): name each model's own directory`,
      });
  }
  return problems;
}

/** Why a directory cannot be one model, or undefined. */
function pathProblem(dir: AskedModelDirectory, paths: string[], guards: ModelRemovalGuards): string | undefined {
  const holds = (other: string): boolean => paths.some((p) => within(other, p));
  if (dir.found === 'nothing') return 'does not exist: nothing to remove (check the path)';
  if (dir.found === 'file') return 'is a file, not a model directory';
  if (paths.some((p) => dirname(p) === p)) return 'is the root directory, not a model directory';
  if (holds(guards.home)) return `is or holds your home directory ${guards.home}, not a model directory`;
  if (holds(guards.cwd)) return `is or holds the current directory ${guards.cwd}, not a model directory`;
  if (holds(guards.modelsRoot))
    return `is or holds the models directory ${guards.modelsRoot} (every installed model): remove one model with asrctl models rm NAME`;
  return undefined;
}

/** How a mount's source stands to the directory (its `paths`), as the error says it; undefined: apart. */
function mountRelation(paths: string[], source: string, shown: string): string | undefined {
  if (paths.includes(source)) return '';
  if (paths.some((p) => within(source, p))) return ` (inside ${shown})`;
  if (paths.some((p) => within(p, source))) return ` (which holds ${shown})`;
  return undefined;
}

/** Whether `path` is `dir` or lies inside it (both absolute). */
function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** How a directory given to --models is found on disk, relative to `cwd`. */
export async function askedModelDirectory(given: string, cwd: string): Promise<AskedModelDirectory> {
  const path = resolve(cwd, given);
  const stat = await lstat(path).catch(() => undefined);
  if (!stat) return { given, path, found: 'nothing' };
  const realPath = await realpath(path);
  // rm removes a symlink itself, not what it points to; a link to a directory is judged by both paths.
  const found = stat.isDirectory() || (stat.isSymbolicLink() && (await lstat(realPath)).isDirectory()) ? 'directory' : 'file';
  return { given, path, realPath, found, ...(found === 'directory' && !(await holdsAModel(realPath)) && { notAModel: true as const }) };
}
