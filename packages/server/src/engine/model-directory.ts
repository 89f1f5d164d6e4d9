import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** What a Vosk model directory must contain; each need is met by any one of its alternatives. */
const REQUIRED: ReadonlyArray<{ what: string; anyOf: readonly (readonly string[])[] }> = [
  { what: 'acoustic model', anyOf: [['am/final.mdl'], ['final.mdl']] },
  { what: 'feature configuration', anyOf: [['conf/mfcc.conf'], ['conf/fbank.conf'], ['mfcc.conf']] },
  { what: 'decoding graph', anyOf: [['graph/HCLG.fst'], ['graph/HCLr.fst', 'graph/Gr.fst'], ['HCLG.fst']] },
];

export interface ModelDirectoryProblem {
  what: string;
  /** The paths that would satisfy the need, relative to the model directory. */
  expected: string[];
  reason: 'missing' | 'unreadable';
}

/**
 * Checks a directory for the files libvosk needs, before libvosk sees it (libvosk only says
 * "does not contain model files"). Returns the problems found, empty when the layout is usable.
 */
export async function inspectModelDirectory(dir: string): Promise<ModelDirectoryProblem[] | 'not_a_directory'> {
  try {
    if (!(await stat(dir)).isDirectory()) return 'not_a_directory';
  } catch {
    return 'not_a_directory';
  }
  const problems: ModelDirectoryProblem[] = [];
  for (const { what, anyOf } of REQUIRED) {
    let unreadable = false;
    let satisfied = false;
    for (const files of anyOf) {
      const states = await Promise.all(files.map((f) => fileState(join(dir, f))));
      if (states.every((s) => s === 'ok')) {
        satisfied = true;
        break;
      }
      if (states.every((s) => s !== 'missing')) unreadable = true;
    }
    if (!satisfied) problems.push({ what, expected: anyOf.map((f) => f.join(' + ')), reason: unreadable ? 'unreadable' : 'missing' });
  }
  return problems;
}

async function fileState(path: string): Promise<'ok' | 'missing' | 'unreadable'> {
  try {
    await access(path, constants.F_OK);
  } catch {
    return 'missing';
  }
  try {
    await access(path, constants.R_OK);
    return 'ok';
  } catch {
    return 'unreadable';
  }
}

export function describeModelProblems(dir: string, problems: ModelDirectoryProblem[] | 'not_a_directory'): string {
  if (problems === 'not_a_directory') return `model directory ${dir} does not exist or is not a directory`;
  const lines = problems.map((p) => `${p.what} ${p.reason}: expected ${p.expected.join(' or ')}`);
  return `model directory ${dir} is not a usable Vosk model:\n  - ${lines.join('\n  - ')}`;
}
