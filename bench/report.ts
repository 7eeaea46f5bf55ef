/**
 * The benchmark's output: one Markdown table (a row per figure and peer), the machine and the
 * peers' versions, then, for each missed target, by how much and where the time goes.
 */
import { summarize, type Summary } from './statistics';

export interface ReportRow {
  figure: string;
  whereabouts: string;
  peer: string;
  peerValue: string;
  /** Whereabouts/peer, median of the pairs (min–max). */
  ratio: string;
  target: string;
  verdict: string;
}

export interface Report {
  title: string;
  startedAt: string;
  machine: Record<string, string>;
  versions: Record<string, string>;
  corpus: string[];
  rows: ReportRow[];
  /** Markdown sections: gaps, profiles, notes. */
  sections: Array<{ heading: string; body: string }>;
}

export const NOT_MEASURED = 'not measured';

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${(seconds * 1000).toFixed(seconds < 0.01 ? 1 : 0)} ms`;
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

export function formatMilliseconds(milliseconds: number): string {
  return `${milliseconds.toFixed(milliseconds < 10 ? 1 : 0)} ms`;
}

export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** "median (min–max)" in a unit. */
export function formatSummary(summary: Summary, unit: (value: number) => string): string {
  if (summary.count === 0) return NOT_MEASURED;
  if (summary.count === 1) return unit(summary.median);
  return `${unit(summary.median)} (${unit(summary.min)}–${unit(summary.max)}, n=${summary.count})`;
}

export function formatTimes(seconds: readonly number[]): string {
  return formatSummary(summarize(seconds), formatSeconds);
}

export function formatRatio(ratios: readonly number[]): string {
  return formatSummary(summarize(ratios), (value) => `${value.toFixed(2)}×`);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderReport(report: Report): string {
  const lines: string[] = [`# ${report.title}`, '', `Run ${report.startedAt}.`, ''];
  lines.push(
    '| figure | Whereabouts | peer | peer | Whereabouts/peer (pairs) | target | verdict |',
    '|---|---|---|---|---|---|---|',
  );
  for (const row of report.rows) {
    lines.push(
      `| ${[row.figure, row.whereabouts, row.peer, row.peerValue, row.ratio, row.target, row.verdict].map(cell).join(' | ')} |`,
    );
  }
  lines.push('', 'Times are median (min–max, n = counted runs) after a warm-up run; each ratio is the median of the');
  lines.push('per-pair ratios, every pair measured back to back in this run.', '');
  lines.push(
    '**Machine:** ' +
      Object.entries(report.machine)
        .map(([key, value]) => `${key} ${value}`)
        .join('; ') +
      '  ',
  );
  lines.push(
    '**Versions:** ' +
      Object.entries(report.versions)
        .map(([key, value]) => `${key} ${value}`)
        .join('; ') +
      '  ',
  );
  lines.push('**Corpus:** ' + report.corpus.join('; '), '');
  for (const section of report.sections) lines.push(`## ${section.heading}`, '', section.body.trim(), '');
  return `${lines.join('\n').trimEnd()}\n`;
}
