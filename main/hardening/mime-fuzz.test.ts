/**
 * Property-based fuzzing of the MIME parser (main/mime/parse.ts) with structured-random messages
 * (mime-arbitrary.ts), for a bounded time per property so `npm test` stays fast; fuzz-long.ts runs
 * the same properties for as long as one likes. The real-world corpus (/work/shared/mail-corpus)
 * is stored, listed and opened by main/store/corpus.test.ts and is not repeated here.
 *
 * A failure prints fast-check's seed and the shrunk message; re-run it with
 * `npx tsx main/hardening/fuzz-long.ts --seed <seed>`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from '../store/message-store';
import { openTestStore, temporaryProfile, testAccount } from '../store/test-fixtures';
import { hostileMessage, wellFormedMessage } from './mime-arbitrary';
import { checkHostile, checkElidedParse, checkStored, checkWellFormed } from './mime-fuzz';

/** Time per property: about 10 s for the whole file on the 2-core CI machine. */
const HOSTILE_MS = 4_500;
const WELL_FORMED_MS = 3_000;
const STORED_MS = 2_500;
const INDEX_MS = 3_000;
/** Far more runs than fit in the time; the time limit ends each property. */
const MANY_RUNS = 1_000_000;

const profile = temporaryProfile('wb-fuzz-');
let store: MessageStore;
let folderId: string;

beforeAll(async () => {
  store = await openTestStore(profile.directory);
  await store.upsertAccount(testAccount('fuzz', 'pop3'));
  folderId = (await store.upsertFolder({ accountId: 'fuzz', kind: 'local', path: 'Fuzz' })).id;
});

afterAll(() => {
  store.close();
  profile.remove();
});

function bounded(timeLimitMs: number): fc.Parameters<unknown> {
  return { numRuns: MANY_RUNS, interruptAfterTimeLimit: timeLimitMs, endOnFailure: true };
}

describe('MIME parser fuzzing (bounded)', () => {
  it('hostile messages: never throws, settles within the parse time limit, HTML parts never joined', async () => {
    await fc.assert(fc.asyncProperty(hostileMessage(), checkHostile), bounded(HOSTILE_MS));
  }, 60_000);

  it('well-formed messages: every part shown once, under its IMAP number, decoded, sender not spoofable', async () => {
    await fc.assert(fc.asyncProperty(wellFormedMessage(), checkWellFormed), bounded(WELL_FORMED_MS));
  }, 60_000);

  it('parses that count attachment bodies instead of decoding them give what a full parse gives', async () => {
    let elided = 0;
    const message = fc.oneof(
      hostileMessage().map((spec) => ({ spec, hostile: true })),
      wellFormedMessage().map((spec) => ({ spec, hostile: false })),
    );
    await fc.assert(
      fc.asyncProperty(message, async ({ spec, hostile }) => {
        if (await checkElidedParse(spec, hostile)) elided += 1;
      }),
      bounded(INDEX_MS),
    );
    // Not a vacuous comparison: some of the messages had attachment bodies left out.
    expect(elided).toBeGreaterThan(5);
  }, 60_000);

  it('hostile messages are stored byte-exactly (file and index SHA-256 equal the input) and open', async () => {
    await fc.assert(
      fc.asyncProperty(hostileMessage(), (spec) => checkStored(spec, store, folderId)),
      bounded(STORED_MS),
    );
  }, 60_000);
});
