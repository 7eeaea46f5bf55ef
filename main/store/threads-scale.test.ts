/**
 * Conversations in a folder of 100,000 messages: the grouped page is read through an index of the
 * folder's conversations (never a scan of its messages, never a sort), so its cost does not grow
 * with the folder. Timings are printed for the record; the assertions are on the query plans.
 */
import type Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { MessageStore } from './message-store';
import { openTestStore, temporaryProfile, testAccount } from './test-fixtures';
import { CONVERSATION_TOTALS_SQL, conversationPageSql, SORT_COLUMNS } from './threads';
import type { HeaderOnlyInput } from './types';

const ROWS = 100_000;
const BATCH_ROWS = 5_000;
const profile = temporaryProfile('wb-threads-scale-');
afterAll(() => profile.remove());

function timed<T>(label: string, work: () => T): T {
  const start = performance.now();
  const value = work();
  process.stdout.write(`${label}: ${(performance.now() - start).toFixed(1)} ms\n`);
  return value;
}

function plan(db: Database.Database, sql: string, parameters: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...parameters) as Array<{ detail: string }>)
    .map((row) => row.detail)
    .join('\n');
}

/** Conversations of three messages each, stored one after the other: about 33,000 of them. */
function conversationOf(index: number): { thread: number; member: number } {
  return { thread: Math.floor(index / 3), member: index % 3 };
}

describe('conversations in a folder of 100,000 messages', () => {
  it('pages conversations through an index, with counts right deep in the folder', async () => {
    const store: MessageStore = await openTestStore(profile.directory);
    try {
      await store.upsertAccount(testAccount('big'));
      const inbox = await store.upsertFolder({ accountId: 'big', kind: 'server', path: 'INBOX' });
      const start = Date.parse('2020-01-01T00:00:00Z');
      const insertStart = performance.now();
      for (let batch = 0; batch < ROWS; batch += BATCH_ROWS) {
        const inputs: HeaderOnlyInput[] = [];
        for (let index = batch; index < batch + BATCH_ROWS; index += 1) {
          const { thread, member } = conversationOf(index);
          // Odd conversations: the replies are stored first, their root last (a sync newest first).
          const order = thread % 2 === 1 ? 2 - member : member;
          inputs.push({
            folderId: inbox.id,
            imap: { uidvalidity: 1, uid: index + 1 },
            envelope: {
              messageId: `<t${thread}-${order}@example.org>`,
              inReplyTo: order === 0 ? null : `<t${thread}-${order - 1}@example.org>`,
              // Every third reply names only its parent (no References), as some clients do.
              references: order === 0 || thread % 3 === 0 ? [] : [`<t${thread}-0@example.org>`],
              subject: `Subject ${(thread * 7919) % ROWS}`,
              from: { name: `Sender ${index % 977}`, address: `s${index % 977}@example.org` },
              to: [{ name: '', address: 'me@example.org' }],
              cc: [],
              bcc: [],
              replyTo: [],
              date: new Date(start + ((thread * 104729) % ROWS) * 60_000 + order * 1000).toISOString(),
            },
            size: 1000,
            flags: index % 3 === 0 ? ['\\Seen'] : [],
          });
        }
        store.insertHeaderOnlyBatch(inputs);
      }
      process.stdout.write(`inserting ${ROWS} header rows: ${(performance.now() - insertStart).toFixed(0)} ms\n`);

      const conversations = Math.ceil(ROWS / 3);
      const deep = timed('conversations page at offset 20,000 by date', () =>
        store.listMessages({ folderId: inbox.id, offset: 20_000, limit: 100, threads: true }),
      );
      expect(deep.total).toBe(conversations);
      expect(deep.messages).toBe(ROWS);
      expect(deep.items).toHaveLength(100);
      expect(deep.threads?.every((counts) => counts.messages === 3)).toBe(true);
      // Each listed message is its conversation's newest (the last reply), newest conversations first.
      expect(deep.items.every((item) => item.messageId?.endsWith('-2@example.org>'))).toBe(true);
      const dates = deep.items.map((item) => item.date ?? '');
      expect([...dates].sort().reverse()).toEqual(dates);
      timed('conversations page at offset 20,000 by subject', () =>
        store.listMessages({ folderId: inbox.id, offset: 20_000, limit: 100, threads: true, sort: 'subject' }),
      );
      const members = timed('one conversation expanded', () =>
        store.listMessages({ folderId: inbox.id, offset: 0, limit: 100, threadId: deep.items[0].threadId }),
      );
      expect(members.items.map((item) => item.messageId?.replace(/@.*/, ''))).toEqual(
        ['-2', '-1', '-0'].map((suffix) => deep.items[0].messageId?.replace(/-2@.*/, suffix)),
      );
      timed('flat page at offset 50,000 by date (for comparison)', () =>
        store.listMessages({ folderId: inbox.id, offset: 50_000, limit: 100 }),
      );

      const db = (store as unknown as { index: { db: Database.Database } }).index.db;
      for (const sort of ['date', 'from', 'subject'] as const) {
        const page = plan(db, conversationPageSql(SORT_COLUMNS[sort], 'DESC'), [inbox.id, 100, 20_000]);
        expect(page).toMatch(/SEARCH folder_threads USING (COVERING )?INDEX folder_threads_/);
        expect(page).toMatch(/SEARCH m USING INTEGER PRIMARY KEY/);
        expect(page).not.toMatch(/SCAN (messages|m|folder_threads)\b/);
        // The index gives the order: nothing is sorted, not even the page.
        expect(page).not.toMatch(/TEMP B-TREE/);
      }
      expect(plan(db, CONVERSATION_TOTALS_SQL, [inbox.id])).toMatch(/SEARCH folder_threads USING PRIMARY KEY/);
    } finally {
      store.close();
    }
    // Inserting 100,000 rows takes half a minute or more on a busy machine.
  }, 600_000);
});
