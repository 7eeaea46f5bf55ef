/**
 * The MIME fuzz properties of mime-fuzz.test.ts, run for as long as you like (default 5 minutes
 * per property) instead of a few seconds:
 *
 *   npx tsx main/hardening/fuzz-long.ts [--seconds 300] [--only hostile|well-formed|stored|elided-hostile|elided-well-formed]
 *                                       [--seed 12345 [--path 3:1:0]]
 *
 * `--seed` and `--path` replay a failure that fast-check reported (here or in mime-fuzz.test.ts).
 *
 * Prints the number of messages tried per property and, on failure, the seed, the shrunk counter-
 * example's first bytes and what broke; exits 1 on failure. Stores into a throw-away profile in the
 * system temp folder, removed at the end.
 */
import fc from 'fast-check';
import { openTestStore, temporaryProfile, testAccount } from '../store/test-fixtures';
import { hostileMessage, wellFormedMessage, type MessageSpec } from './mime-arbitrary';
import { checkHostile, checkElidedParse, checkStored, checkWellFormed } from './mime-fuzz';

const DEFAULT_SECONDS = 300;
const MANY_RUNS = Number.MAX_SAFE_INTEGER;

interface Options {
  seconds: number;
  seed: number | undefined;
  path: string | undefined;
  only: string | undefined;
}

function readOptions(argv: readonly string[]): Options {
  const valueOf = (name: string): string | undefined => {
    const index = argv.indexOf(name);
    return index === -1 ? undefined : argv[index + 1];
  };
  const seconds = Number(valueOf('--seconds') ?? DEFAULT_SECONDS);
  const seedText = valueOf('--seed');
  const seed = seedText === undefined ? undefined : Number(seedText);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds takes a positive number');
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Error('--seed takes an integer');
  return { seconds, seed, path: valueOf('--path'), only: valueOf('--only') };
}

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2));
  const profile = temporaryProfile('wb-fuzz-long-');
  const store = await openTestStore(profile.directory);
  try {
    await store.upsertAccount(testAccount('fuzz', 'pop3'));
    const folderId = (await store.upsertFolder({ accountId: 'fuzz', kind: 'local', path: 'Fuzz' })).id;
    const properties: Array<{
      name: string;
      arbitrary: fc.Arbitrary<MessageSpec>;
      check: (spec: MessageSpec) => Promise<void>;
    }> = [
      { name: 'hostile', arbitrary: hostileMessage(), check: checkHostile },
      { name: 'well-formed', arbitrary: wellFormedMessage(), check: checkWellFormed },
      { name: 'stored', arbitrary: hostileMessage(), check: (spec) => checkStored(spec, store, folderId) },
      { name: 'elided-hostile', arbitrary: hostileMessage(), check: (spec) => checkIndex(spec, true) },
      { name: 'elided-well-formed', arbitrary: wellFormedMessage(), check: (spec) => checkIndex(spec, false) },
    ];
    let failed = false;
    let elided = 0;
    const checkIndex = async (spec: MessageSpec, hostile: boolean): Promise<void> => {
      if (await checkElidedParse(spec, hostile)) elided += 1;
    };
    for (const property of properties) {
      if (options.only !== undefined && options.only !== property.name) continue;
      const started = performance.now();
      const details = await fc.check(fc.asyncProperty(property.arbitrary, property.check), {
        numRuns: MANY_RUNS,
        interruptAfterTimeLimit: options.seconds * 1000,
        ...(options.seed === undefined ? {} : { seed: options.seed }),
        ...(options.path === undefined ? {} : { path: options.path }),
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (details.failed) {
        failed = true;
        process.stdout.write(`${property.name}: FAILED after ${details.numRuns} messages (${seconds} s)\n`);
        process.stdout.write(`${fc.defaultReportMessage(details) ?? ''}\n`);
      } else {
        process.stdout.write(
          `${property.name}: ${details.numRuns} messages, no failure (${seconds} s, seed ${details.seed})\n`,
        );
        if (property.name.startsWith('elided-')) process.stdout.write(`  of which ${elided} had bodies left out\n`);
        elided = 0;
      }
    }
    return failed ? 1 : 0;
  } finally {
    store.close();
    profile.remove();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
