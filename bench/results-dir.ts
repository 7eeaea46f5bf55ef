import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Where a run writes its build, profiles, cache and tables: bench/results, or
 * WHEREABOUTS_BENCH_RESULTS so that two runs on one machine do not share a build.
 */
export const RESULTS_DIR = process.env.WHEREABOUTS_BENCH_RESULTS
  ? path.resolve(process.env.WHEREABOUTS_BENCH_RESULTS)
  : path.join(PROJECT_ROOT, 'bench', 'results');

/**
 * Creates the results folder. The bench's builds keep node_modules external, so a folder outside
 * the project gets a link to the project's node_modules for them to resolve their packages.
 */
export async function prepareResultsDir(): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const inside = !path.relative(PROJECT_ROOT, RESULTS_DIR).startsWith('..');
  const link = path.join(RESULTS_DIR, 'node_modules');
  if (!inside && !existsSync(link)) await symlink(path.join(PROJECT_ROOT, 'node_modules'), link, 'dir');
}
