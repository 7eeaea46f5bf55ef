import { afterAll, describe, expect, it } from 'vitest';
import type { HeaderOnlyInput } from './types';
import { openTestStore, temporaryProfile, testAccount } from './test-fixtures';

const ROWS = 100_000;
const BATCH_ROWS = 5_000;
const profile = temporaryProfile('wb-scale-');
afterAll(() => profile.remove());

function timed<T>(label: string, work: () => T): { value: T; milliseconds: number } {
  const start = performance.now();
  const value = work();
  const milliseconds = performance.now() - start;
  process.stdout.write(`${label}: ${milliseconds.toFixed(1)} ms\n`);
  return { value, milliseconds };
}

describe('a folder of 100,000 messages', () => {
  it('returns a page deep in the folder quickly, in every sort order', async () => {
    const store = await openTestStore(profile.directory);
    try {
      await store.upsertAccount(testAccount('big'));
      const inbox = await store.upsertFolder({ accountId: 'big', kind: 'server', path: 'INBOX' });
      const start = Date.parse('2020-01-01T00:00:00Z');
      const insertStart = performance.now();
      for (let batch = 0; batch < ROWS; batch += BATCH_ROWS) {
        const inputs: HeaderOnlyInput[] = [];
        for (let index = batch; index < batch + BATCH_ROWS; index += 1) {
          inputs.push({
            folderId: inbox.id,
            imap: { uidvalidity: 1, uid: index + 1 },
            envelope: {
              messageId: `<m${index}@example.org>`,
              inReplyTo: null,
              references: [],
              subject: `Subject ${(index * 7919) % ROWS}`,
              from: { name: `Sender ${index % 977}`, address: `s${index % 977}@example.org` },
              to: [{ name: '', address: 'me@example.org' }],
              cc: [],
              bcc: [],
              replyTo: [],
              // Dates out of order on purpose, so sorting has work to do.
              date: new Date(start + ((index * 104729) % ROWS) * 60_000).toISOString(),
            },
            size: 1000 + (index % 5000),
            flags: index % 3 === 0 ? ['\\Seen'] : [],
          });
        }
        store.insertHeaderOnlyBatch(inputs);
      }
      process.stdout.write(`inserting ${ROWS} header rows: ${(performance.now() - insertStart).toFixed(0)} ms\n`);

      const byDate = timed('page at offset 50,000 by date', () =>
        store.listMessages({ folderId: inbox.id, offset: 50_000, limit: 100, sort: 'date', direction: 'desc' }),
      );
      expect(byDate.value.total).toBe(ROWS);
      expect(byDate.value.items).toHaveLength(100);
      const dates = byDate.value.items.map((item) => item.date ?? '');
      expect([...dates].sort().reverse()).toEqual(dates);
      expect(dates[0]).toBe(new Date(start + (ROWS - 50_001) * 60_000).toISOString());
      expect(byDate.milliseconds).toBeLessThan(200);

      const bySender = timed('page at offset 50,000 by sender', () =>
        store.listMessages({ folderId: inbox.id, offset: 50_000, limit: 100, sort: 'from', direction: 'asc' }),
      );
      expect(bySender.milliseconds).toBeLessThan(200);
      const bySubject = timed('page at offset 50,000 by subject', () =>
        store.listMessages({ folderId: inbox.id, offset: 50_000, limit: 100, sort: 'subject', direction: 'asc' }),
      );
      expect(bySubject.milliseconds).toBeLessThan(200);
      const filtered = timed('page at offset 50,000 of server-only messages by date', () =>
        store.listMessages({ folderId: inbox.id, offset: 50_000, limit: 100, residency: 'server' }),
      );
      expect(filtered.value.items).toHaveLength(100);
      expect(filtered.milliseconds).toBeLessThan(200);
      const counts = timed('folder counts', () => store.listFolders('big'));
      expect(counts.value[0]).toMatchObject({ total: ROWS, unread: ROWS - Math.ceil(ROWS / 3) });
      const search = timed('search for a sender', () => store.search('Sender 976'));
      expect(search.value.length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
    // Inserting 100,000 rows (threaded, threads.ts) takes a minute or more on a busy machine.
  }, 300_000);
});
