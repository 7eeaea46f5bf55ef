/**
 * Address completion over a 100,000-message folder: the known addresses are counted once, then
 * kept up to date from the rows added since, and a suggestion never scans the messages.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { HeaderOnlyInput } from './types';
import { openTestStore, temporaryProfile, testAccount } from './test-fixtures';

const ROWS = 100_000;
const BATCH_ROWS = 5_000;
const profile = temporaryProfile('wb-addresses-');
afterAll(() => profile.remove());

function timed<T>(label: string, work: () => T): { value: T; milliseconds: number } {
  const start = performance.now();
  const value = work();
  const milliseconds = performance.now() - start;
  process.stdout.write(`${label}: ${milliseconds.toFixed(1)} ms\n`);
  return { value, milliseconds };
}

function rows(folderId: string, from: number, count: number): HeaderOnlyInput[] {
  const inputs: HeaderOnlyInput[] = [];
  for (let index = from; index < from + count; index += 1) {
    inputs.push({
      folderId,
      imap: { uidvalidity: 1, uid: index + 1 },
      envelope: {
        messageId: `<m${index}@example.org>`,
        inReplyTo: null,
        references: [],
        subject: `Subject ${index}`,
        // Sender n writes n times as often as sender 0 (within each block of 1,000 senders).
        from: { name: `Sender ${index % 997}`, address: `S${index % 997}@Example.org` },
        to: [{ name: 'Me', address: 'me@example.org' }],
        cc: index % 10 === 0 ? [{ name: 'Team', address: 'team@example.org' }] : [],
        bcc: [],
        replyTo: [],
        date: new Date(Date.parse('2024-01-01T00:00:00Z') + index * 60_000).toISOString(),
      },
      size: 1000,
      flags: [],
    });
  }
  return inputs;
}

describe('known addresses', () => {
  it('are counted from 100,000 messages once, then incrementally; suggestions stay fast', async () => {
    const store = await openTestStore(profile.directory);
    try {
      await store.upsertAccount(testAccount('big'));
      const inbox = await store.upsertFolder({ accountId: 'big', kind: 'server', path: 'INBOX' });
      for (let batch = 0; batch < ROWS; batch += BATCH_ROWS)
        store.insertHeaderOnlyBatch(rows(inbox.id, batch, BATCH_ROWS));

      let batches = 1;
      const first = timed('counting the addresses of 100,000 messages (first completion)', () => {
        while (store.indexKnownAddresses(5_000)) batches += 1;
      });
      process.stdout.write(`  in ${batches} transactions, ${(first.milliseconds / batches).toFixed(1)} ms each\n`);
      expect(batches).toBe(ROWS / 5_000);
      const suggest = timed('a suggestion', () => store.suggestAddresses('team', { limit: 8 }));
      expect(suggest.value).toEqual([{ name: 'Team', address: 'team@example.org', uses: ROWS / 10 }]);
      expect(suggest.milliseconds).toBeLessThan(50);
      // Addresses are compared in lower case; the most used first (s99 wrote 101 times, the
      // others 100), then the most recent.
      expect(store.suggestAddresses('s99', { limit: 3 }).map((entry) => entry.address)).toEqual([
        's99@example.org',
        's996@example.org',
        's995@example.org',
      ]);
      expect(store.suggestAddresses('sender 5', { limit: 500 })).toHaveLength(1 + 10 + 100);

      store.insertHeaderOnlyBatch(
        rows(inbox.id, ROWS, 10).map((input) => ({
          ...input,
          envelope: { ...input.envelope, from: { name: 'Newcomer', address: 'new@example.org' } },
        })),
      );
      const incremental = timed('counting 10 new messages', () => store.indexKnownAddresses());
      expect(incremental.value).toBe(false);
      expect(incremental.milliseconds).toBeLessThan(50);
      expect(store.suggestAddresses('newc', { limit: 8 })).toEqual([
        { name: 'Newcomer', address: 'new@example.org', uses: 10 },
      ]);
      expect(store.suggestAddresses('me', { limit: 1 })[0]).toMatchObject({
        address: 'me@example.org',
        uses: ROWS + 10,
      });
    } finally {
      store.close();
    }
    // Storing the 100,000 rows takes most of the time (minutes on a loaded machine).
  }, 600_000);
});
