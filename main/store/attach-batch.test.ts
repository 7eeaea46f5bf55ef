/**
 * MessageStore.attachBodies (attach-batch.ts): many bodies of header-only rows in one batch, each
 * stored byte for byte and counted only once durable and committed; rows gone, already whole or
 * repeated write nothing; a file that cannot be written fails alone; what a batch stored survives
 * a reopen (reconcile) unchanged.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openMessageStore, type StoreStep } from './message-store';
import { formatTmpName } from './maildir-name';
import { buildMessage, openTestStore, temporaryProfile, testAccount, testEnvelope } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function storeWithHeaders(count: number, steps: StoreStep[] = []) {
  const profile = temporaryProfile();
  let store = await openMessageStore({
    profileDir: profile.directory,
    host: 'test-host',
    onStep: (step) => steps.push(step),
  });
  cleanups.push(() => {
    store.close();
    profile.remove();
  });
  await store.upsertAccount(testAccount('acct', 'imap'));
  const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX', role: 'inbox' });
  const bodies = Array.from({ length: count }, (_, index) =>
    buildMessage({ subject: `message ${index}`, body: `Body ${index}: Grüße \u00e9${'.'.repeat(index * 50)}` }),
  );
  const rows = store.insertHeaderOnlyBatch(
    bodies.map((bytes, index) => ({
      folderId: inbox.id,
      imap: { uidvalidity: 3, uid: index + 1 },
      envelope: testEnvelope({ subject: `message ${index}` }),
      size: bytes.length,
      flags: index % 2 === 0 ? ['\\Seen'] : [],
      receivedAt: '2024-02-01T09:00:00.000Z',
    })),
  );
  const reopen = async () => {
    store.close();
    store = await openTestStore(profile.directory);
    return store;
  };
  return { store, inbox, bodies, ids: rows.map((row) => row.id), directory: profile.directory, reopen };
}

describe('attachBodies', () => {
  it('stores every body of a batch byte for byte, flags and received time kept, one commit', async () => {
    const steps: StoreStep[] = [];
    const { store, inbox, bodies, ids, directory, reopen } = await storeWithHeaders(12, steps);
    expect(store.listMissingBodies(inbox.id, 3).map((body) => body.uid)).toEqual([
      12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1,
    ]);
    const outcomes = await store.attachBodies(ids.map((messageId, index) => ({ messageId, source: bodies[index] })));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(ids.map(() => 'stored'));
    for (const [index, id] of ids.entries()) {
      const record = store.getMessageRecord(id);
      expect(record).toMatchObject({ residency: 'both', size: bodies[index].length, sha256: sha256(bodies[index]) });
      expect(readFileSync(record?.localPath ?? '').equals(bodies[index])).toBe(true);
      expect(record?.flags).toEqual(index % 2 === 0 ? ['\\Seen'] : []);
      expect(record?.receivedAt).toBe('2024-02-01T09:00:00.000Z');
      expect(outcomes[index]).toMatchObject({
        messageId: id,
        size: bodies[index].length,
        sha256: sha256(bodies[index]),
      });
    }
    expect(store.listMissingBodies(inbox.id, 3)).toEqual([]);
    // Every file fsynced before the one directory fsync; every row after it.
    expect(steps.filter((step) => step === 'after-fsync')).toHaveLength(12);
    expect(steps.indexOf('after-rename')).toBeGreaterThan(steps.lastIndexOf('after-fsync'));
    expect(steps.indexOf('after-index-commit')).toBeGreaterThan(steps.lastIndexOf('after-rename'));
    // The body text is searchable.
    expect(store.search('Grüße').length).toBe(12);
    const folderDir = join(directory, 'mail', 'acct', inbox.id);
    expect(readdirSync(join(folderDir, 'cur'))).toHaveLength(12);
    expect(readdirSync(join(folderDir, 'tmp'))).toEqual([]);
    // What was committed is what a reopen (reconcile) finds: nothing to repair.
    const reopened = await reopen();
    expect(reopened.lastReconcile).toMatchObject({ indexedFiles: 0, relinkedRows: 0, headerOnlyRows: 0 });
    expect(reopened.getMessageRecord(ids[3])?.sha256).toBe(sha256(bodies[3]));
  });

  it('makes the search entries of a batch attached newest first in one go, not one index segment per body', async () => {
    // A sync attaches bodies newest first (listMissingBodies), so their rows come in descending order.
    const { store, bodies, ids } = await storeWithHeaders(60);
    const newestFirst = [...ids.keys()].reverse();
    const db = (store as unknown as { index: { db: Database.Database } }).index.db;
    const indexPages = () => (db.prepare('SELECT count(*) AS n FROM messages_fts_data').get() as { n: number }).n;
    const before = indexPages();
    const outcomes = await store.attachBodies(
      newestFirst.map((index) => ({ messageId: ids[index], source: bodies[index] })),
    );
    expect(outcomes.every((outcome) => outcome.status === 'stored')).toBe(true);
    expect(store.search('Grüße', { limit: 100 }).length).toBe(60);
    // FTS5 writes its pending entries out as a new segment whenever a rowid is not above the one
    // before: one per body in this order (17 new pages here, and merges again and again).
    expect(indexPages() - before).toBeLessThan(5);
  });

  it('writes nothing for a row that is gone, already whole or repeated; a file that cannot be written fails alone', async () => {
    const { store, inbox, bodies, ids, directory } = await storeWithHeaders(5);
    await store.attachBody(ids[1], bodies[1]);
    const whole = store.getMessageRecord(ids[1]);
    await store.deleteMessage(ids[2]);
    // Something already sits at the tmp/ name of message 4's file (this second and the next few):
    // its write fails, the others of the batch are stored.
    const folderDir = join(directory, 'mail', 'acct', inbox.id);
    const now = Math.floor(Date.now() / 1000);
    for (let second = now; second < now + 5; second += 1) {
      writeFileSync(join(folderDir, 'tmp', formatTmpName(second, ids[4], 'test-host')), 'in the way');
    }
    const outcomes = await store.attachBodies([
      { messageId: ids[0], source: bodies[0] },
      { messageId: ids[1], source: bodies[1] },
      { messageId: ids[2], source: bodies[2] },
      { messageId: ids[3], source: bodies[3] },
      { messageId: ids[3], source: bodies[3] },
      { messageId: ids[4], source: bodies[4] },
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'stored',
      'present',
      'gone',
      'stored',
      'present',
      'failed',
    ]);
    expect(store.getMessageRecord(ids[1])).toEqual(whole);
    expect(store.getMessageRecord(ids[2])).toBeNull();
    expect(store.getMessageRecord(ids[4])).toMatchObject({ residency: 'server', localPath: null });
    expect(store.listMissingBodies(inbox.id, 3).map((body) => body.id)).toEqual([ids[4]]);
    const files = readdirSync(join(folderDir, 'cur'));
    expect(files).toHaveLength(3);
    expect(files.filter((name) => name.includes(ids[3]))).toHaveLength(1);
  });
});
