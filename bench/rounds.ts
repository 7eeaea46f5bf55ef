/**
 * Interleaved measurement: every round runs each contender once (A B A B …), the first rounds as a
 * warm-up, so all contenders see the same machine state and a pair's ratio compares like with like.
 */
import type { ProcessRun } from './processes';

export interface Contender {
  name: string;
  /** Untimed set-up before each run (a fresh profile, an empty target folder). */
  prepare?: (round: number) => Promise<void>;
  run: (round: number) => Promise<ProcessRun>;
}

export interface Samples {
  seconds: number[];
  rssBytes: number[];
}

export interface RoundPlan {
  warmups: number;
  counted: number;
  /** Reverse the order every other round (for figures where going first costs more). */
  alternate?: boolean;
  /** Untimed work before the contenders of each round (the other client's changes). */
  beforeRound?: (round: number) => Promise<void>;
  label: string;
  /**
   * Seconds the counted rounds may take in all, judged from the warm-up round: fewer rounds are
   * counted (never fewer than MIN_COUNTED_ROUNDS) when a round takes long, to keep the run's length sane.
   */
  budgetSeconds?: number;
}

export const MIN_COUNTED_ROUNDS = 2;

export async function measureRounds(contenders: readonly Contender[], plan: RoundPlan): Promise<Map<string, Samples>> {
  const samples = new Map<string, Samples>(
    contenders.map((contender) => [contender.name, { seconds: [], rssBytes: [] }]),
  );
  let rounds = plan.warmups + plan.counted;
  for (let round = 0; round < rounds; round += 1) {
    const roundStarted = process.hrtime.bigint();
    await plan.beforeRound?.(round);
    const ordered = plan.alternate && round % 2 === 1 ? [...contenders].reverse() : contenders;
    const parts: string[] = [];
    for (const contender of ordered) {
      await contender.prepare?.(round);
      const run = await contender.run(round);
      parts.push(`${contender.name} ${run.seconds.toFixed(3)} s`);
      if (round < plan.warmups) continue;
      const entry = samples.get(contender.name);
      entry?.seconds.push(run.seconds);
      entry?.rssBytes.push(run.maxRssBytes);
    }
    const kind = round < plan.warmups ? 'warm-up' : `run ${round - plan.warmups + 1}/${rounds - plan.warmups}`;
    process.stderr.write(`  ${plan.label} ${kind}: ${parts.join(', ')}\n`);
    if (round === plan.warmups - 1 && plan.budgetSeconds !== undefined) {
      const roundSeconds = Number(process.hrtime.bigint() - roundStarted) / 1e9;
      const affordable = Math.floor(plan.budgetSeconds / roundSeconds);
      const counted = Math.max(MIN_COUNTED_ROUNDS, Math.min(plan.counted, affordable));
      if (counted < plan.counted) {
        process.stderr.write(
          `  ${plan.label} a round takes ${roundSeconds.toFixed(0)} s: counting ${counted} runs, not ${plan.counted}\n`,
        );
      }
      rounds = plan.warmups + counted;
    }
  }
  return samples;
}
