import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Where a run writes its build, profiles, cache and tables: bench/results, or
 * WHEREABOUTS_BENCH_RESULTS so that two runs on one machine do not share a build.
 */
export const RESULTS_DIR = process.env.WHEREABOUTS_BENCH_RESULTS
  ? path.resolve(process.env.WHEREABOUTS_BENCH_RESULTS)
  : path.join(PROJECT_ROOT, 'bench', 'results');
