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
}

export async function measureRounds(contenders: readonly Contender[], plan: RoundPlan): Promise<Map<string, Samples>> {
  const samples = new Map<string, Samples>(
    contenders.map((contender) => [contender.name, { seconds: [], rssBytes: [] }]),
  );
  const rounds = plan.warmups + plan.counted;
  for (let round = 0; round < rounds; round += 1) {
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
    const kind = round < plan.warmups ? 'warm-up' : `run ${round - plan.warmups + 1}/${plan.counted}`;
    process.stderr.write(`  ${plan.label} ${kind}: ${parts.join(', ')}\n`);
  }
  return samples;
}
