/**
 * Summaries of repeated measurements. The machines are noisy, so a figure is the median of several
 * runs after a warm-up, shown with its min and max; a comparison with a peer is the median of the
 * per-pair ratios (each pair measured back to back in the same run), never a ratio of medians taken
 * at different moments.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  count: number;
}

/** The p-th percentile (0–100) by linear interpolation between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((left, right) => left - right);
  const position = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: percentile(values, 50),
    min: values.length === 0 ? Number.NaN : Math.min(...values),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    count: values.length,
  };
}

/** contender[i] / peer[i] for each pair measured together. */
export function pairRatios(contender: readonly number[], peer: readonly number[]): number[] {
  const count = Math.min(contender.length, peer.length);
  const ratios: number[] = [];
  for (let index = 0; index < count; index += 1) ratios.push(contender[index] / peer[index]);
  return ratios;
}
