import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MailError } from '../../shared/errors';
import type { MessageStore } from './message-store';
import { parseMaildirName } from './maildir-name';
import { buildMessage, openTestStore, temporaryProfile, testAccount, testEnvelope } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

async function freshStore(mode: 'imap' | 'pop3' = 'imap'): Promise<MessageStore> {
  const profile = temporaryProfile();
  const store = await openTestStore(profile.directory);
  cleanups.push(() => {
    store.close();
    profile.remove();
  });
  await store.upsertAccount(testAccount('acct', mode));
  return store;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const ENVELOPE = testEnvelope({
  messageId: '<head@example.org>',
  subject: 'Only headers here',
  from: { name: 'Server Sender', address: 'server@example.org' },
});

describe('storing and reading messages', () => {
  it('stores a server message byte-exactly and shows it as on both sides', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX', role: 'inbox' });
    const bytes = buildMessage({ subject: 'First', body: 'Body with 8-bit: Grüße' });
    const { record, created } = await store.insertMessage({
      folderId: inbox.id,
      source: bytes,
      imap: { uidvalidity: 7, uid: 1 },
      flags: ['\\seen'],
    });
    expect(created).toBe(true);
    expect(record).toMatchObject({ residency: 'both', subject: 'First', flags: ['\\Seen'], size: bytes.length });
    expect(record.sha256).toBe(sha256(bytes));
    expect((await store.readRaw(record.id)).equals(bytes)).toBe(true);
    expect(parseMaildirName(basename(record.localPath ?? ''))).toMatchObject({ id: record.id, imap: { uid: 1 } });

    const page = store.listMessages({ folderId: inbox.id, offset: 0, limit: 10 });
    expect(page.total).toBe(1);
    expect(page.items[0]).toMatchObject({
      id: record.id,
      from: { name: 'Alice Example', address: 'alice@example.org' },
    });
    const detail = await store.getMessageDetail(record.id);
    expect(detail.parts).toEqual([{ partId: '1', kind: 'text', content: 'Body with 8-bit: Grüße\n' }]);
    expect(detail.sha256).toBe(sha256(bytes));

    const again = await store.insertMessage({ folderId: inbox.id, source: bytes, imap: { uidvalidity: 7, uid: 1 } });
    expect(again).toMatchObject({ created: false, record: { id: record.id } });
    expect(store.folderCounts(inbox.id)).toEqual({ total: 1, unread: 0 });
  });

  it('keeps header-only rows as server-only until the body is fetched', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const header = store.insertHeaderOnly({
      folderId: inbox.id,
      imap: { uidvalidity: 3, uid: 10 },
      envelope: ENVELOPE,
      size: 999,
      flags: [],
    });
    expect(header).toMatchObject({ residency: 'server', localPath: null, subject: 'Only headers here' });
    expect((await store.getMessageDetail(header.id)).parts).toBeNull();
    expect(store.search('headers')).toHaveLength(1);
    expect(store.listMessages({ folderId: inbox.id, offset: 0, limit: 5, residency: 'server' }).total).toBe(1);

    const bytes = buildMessage({ subject: 'Only headers here', body: 'the kumquat arrived' });
    const attached = await store.attachBody(header.id, bytes);
    expect(attached).toMatchObject({ id: header.id, residency: 'both', size: bytes.length });
    expect(store.search('kumquat').map((summary) => summary.id)).toEqual([header.id]);
    expect(store.listMessages({ folderId: inbox.id, offset: 0, limit: 5, residency: 'server' }).total).toBe(0);

    const gone = store.insertHeaderOnly({
      folderId: inbox.id,
      imap: { uidvalidity: 3, uid: 11 },
      envelope: ENVELOPE,
      size: 1,
      flags: [],
    });
    await store.markGoneFromServer([gone.id, header.id]);
    expect(store.getMessageRecord(gone.id)).toBeNull();
    expect(store.getMessageRecord(header.id)).toMatchObject({ residency: 'local', imap: null });
    expect(parseMaildirName(basename(store.getMessageRecord(header.id)?.localPath ?? ''))?.imap).toBeNull();
  });

  it('offers as remap candidates exactly the rows without a current UID that have a Message-ID, oldest first', async () => {
    // What a new server message may turn out to be: a local copy waiting for its upload, or a row
    // from before the folder's UIDVALIDITY changed.
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const header = (uidvalidity: number, uid: number, messageId: string | null) =>
      store.insertHeaderOnly({
        folderId: inbox.id,
        imap: { uidvalidity, uid },
        envelope: { ...ENVELOPE, messageId },
        size: 10,
        flags: [],
      });
    const older = header(3, 1, '<older@example.org>');
    header(5, 1, '<current@example.org>');
    const local = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ messageId: '<local@example.org>' }),
    });
    const newer = header(9, 2, '<newer@example.org>');
    header(5, 2, null);
    header(4, 3, null);
    const db = (store as unknown as { index: { db: Database.Database } }).index.db;
    const prepare = vi.spyOn(db, 'prepare');
    expect(store.listRemapCandidates(inbox.id, 5)).toEqual([
      { id: older.id, messageId: '<older@example.org>', size: 10 },
      { id: local.record.id, messageId: '<local@example.org>', size: local.record.size },
      { id: newer.id, messageId: '<newer@example.org>', size: 10 },
    ]);
    // Asked at every pass that finds new mail: it must not read every row of a large folder.
    const sql = prepare.mock.calls.map(([text]) => text).find((text) => text.includes('message_id AS messageId'));
    prepare.mockRestore();
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ folder: inbox.id, uidvalidity: 5 }) as Array<{
      detail: string;
    }>;
    expect(plan.map(({ detail }) => detail).filter((detail) => /^SCAN messages/.test(detail))).toEqual([]);
  });

  it('answers a read that meets a deletion under way with NOT_FOUND, never with a missing file', async () => {
    // The upload of a draft that is being replaced reads its bytes while the deletion runs: a
    // "missing file" there counted as a failed upload and kept the older version on the server.
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    for (let round = 0; round < 20; round += 1) {
      const { record } = await store.insertMessage({
        folderId: inbox.id,
        source: buildMessage({ subject: `r${round}` }),
      });
      const deleting = store.deleteMessage(record.id);
      const reading = store.readRaw(record.id).then(
        () => 'read',
        (error: unknown) => (error instanceof MailError ? error.code : String(error)),
      );
      await deleting;
      expect(await reading).toBe('NOT_FOUND');
    }
  });

  it('tracks POP3 UIDLs so nothing is downloaded twice, also after a local delete', async () => {
    const store = await freshStore('pop3');
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX', role: 'inbox' });
    const bytes = buildMessage({ subject: 'pop' });
    const first = await store.insertMessage({ folderId: inbox.id, source: bytes, popUidl: 'UIDL-1/x' });
    expect(first.record).toMatchObject({ residency: 'both', popUidl: 'UIDL-1/x' });
    const second = await store.insertMessage({ folderId: inbox.id, source: bytes, popUidl: 'UIDL-1/x' });
    expect(second).toMatchObject({ created: false, record: { id: first.record.id } });
    expect(store.isPopUidlKnown('acct', 'UIDL-1/x')).toBe(true);

    await store.markPopDeletedOnServer('acct', ['UIDL-1/x']);
    const local = store.getMessageRecord(first.record.id);
    expect(local).toMatchObject({ residency: 'local', onServer: false });
    expect(parseMaildirName(basename(local?.localPath ?? ''))?.popUidl).toBeNull();
    expect(store.popUidlState('acct')[0]).toMatchObject({ uidl: 'UIDL-1/x' });
    expect(store.popUidlState('acct')[0].deletedOnServerAt).not.toBeNull();

    const kept = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'left' }),
      popUidl: 'U2',
    });
    await store.deleteMessage(kept.record.id);
    expect(store.isPopUidlKnown('acct', 'U2')).toBe(true);
    expect(existsSync(kept.record.localPath ?? '')).toBe(false);
  });

  it('sets flags by renaming the file and keeps unread counts right', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const { record } = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({}),
      imap: { uidvalidity: 1, uid: 5 },
    });
    expect(store.folderCounts(inbox.id)).toEqual({ total: 1, unread: 1 });
    const flagged = await store.setFlags(record.id, ['\\Seen', '\\Flagged', '$Label1'], {
      enqueue: { accountId: 'acct', kind: 'flags', payload: { uid: 5 } },
    });
    expect(flagged.flags).toEqual(['$Label1', '\\Flagged', '\\Seen']);
    expect(parseMaildirName(basename(flagged.localPath ?? ''))?.flags).toEqual(['\\Flagged', '\\Seen']);
    expect(existsSync(record.localPath ?? '')).toBe(false);
    expect(store.folderCounts(inbox.id)).toEqual({ total: 1, unread: 0 });
    expect(store.listActions('acct').map((action) => action.payload)).toEqual([{ uid: 5 }]);
  });

  it('moves and copies between folders, and refuses to move headers into a local folder', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const archive = await store.upsertFolder({ accountId: 'acct', kind: 'local', path: 'Archive' });
    const { record } = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'mv' }),
      imap: { uidvalidity: 1, uid: 2 },
    });
    const moved = await store.moveMessage(record.id, archive.id);
    expect(moved).toMatchObject({ folderId: archive.id, residency: 'local', imap: null });
    expect(moved.localPath?.includes(`/${archive.id}/cur/`)).toBe(true);
    expect(store.listMessages({ folderId: inbox.id, offset: 0, limit: 5 }).total).toBe(0);

    const copy = await store.copyMessage(moved.id, inbox.id);
    expect(copy.id).not.toBe(moved.id);
    expect((await store.readRaw(copy.id)).equals(await store.readRaw(moved.id))).toBe(true);

    const header = store.insertHeaderOnly({
      folderId: inbox.id,
      imap: { uidvalidity: 1, uid: 3 },
      envelope: ENVELOPE,
      size: 5,
      flags: [],
    });
    await expect(store.moveMessage(header.id, archive.id)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('deletes the file and the row, and reports what was removed', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const { record } = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'bye' }),
      imap: { uidvalidity: 4, uid: 9 },
    });
    const removed = await store.deleteMessage(record.id, {
      enqueue: { accountId: 'acct', kind: 'delete', payload: { uid: 9 } },
    });
    expect(removed).toMatchObject({
      id: record.id,
      imap: { uidvalidity: 4, uid: 9 },
      hadLocalCopy: true,
      wasOnServer: true,
    });
    expect(existsSync(record.localPath ?? '')).toBe(false);
    expect(store.getMessageRecord(record.id)).toBeNull();
    expect(store.search('bye')).toEqual([]);
    expect(store.listActions('acct')).toHaveLength(1);
    await expect(store.getMessageDetail(record.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists pages sorted by date, sender and subject, filtered by residency, with totals', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const local = await store.upsertFolder({ accountId: 'acct', kind: 'local', path: 'Local' });
    const specs = [
      { subject: 'Re: banana', from: 'Zed <z@example.org>', date: 'Tue, 02 Jan 2024 10:00:00 +0000' },
      { subject: 'apple', from: 'Mia <m@example.org>', date: 'Thu, 04 Jan 2024 10:00:00 +0000' },
      { subject: 'cherry', from: 'Al <a@example.org>', date: 'Wed, 03 Jan 2024 10:00:00 +0000' },
    ];
    for (const [index, spec] of specs.entries()) {
      await store.insertMessage({
        folderId: inbox.id,
        source: buildMessage(spec),
        imap: { uidvalidity: 1, uid: index + 1 },
      });
    }
    store.insertHeaderOnly({
      folderId: inbox.id,
      imap: { uidvalidity: 1, uid: 9 },
      envelope: ENVELOPE,
      size: 1000,
      flags: ['\\Seen'],
    });
    await store.insertMessage({ folderId: local.id, source: buildMessage({ subject: 'mine' }) });

    const subjects = (sort: 'date' | 'from' | 'subject', direction: 'asc' | 'desc') =>
      store
        .listMessages({ folderId: inbox.id, offset: 0, limit: 10, sort, direction })
        .items.map((item) => item.subject);
    expect(subjects('date', 'desc')).toEqual(['Only headers here', 'apple', 'cherry', 'Re: banana']);
    expect(subjects('from', 'asc')).toEqual(['cherry', 'apple', 'Only headers here', 'Re: banana']);
    expect(subjects('subject', 'asc')).toEqual(['apple', 'Re: banana', 'cherry', 'Only headers here']);
    const page = store.listMessages({ folderId: inbox.id, offset: 1, limit: 2, sort: 'date', direction: 'desc' });
    expect(page).toMatchObject({ total: 4, offset: 1 });
    expect(page.items.map((item) => item.subject)).toEqual(['apple', 'cherry']);
    expect(store.listMessages({ folderId: inbox.id, offset: 0, limit: 10, residency: 'both' }).total).toBe(3);

    const totals = store.residencyTotals({ accountId: 'acct' });
    expect(totals.server).toEqual({ count: 1, bytes: 1000 });
    expect(totals.both.count).toBe(3);
    expect(totals.local.count).toBe(1);
    expect(store.residencyTotalsByFolder('acct').get(local.id)?.local.count).toBe(1);
    expect(store.listFolders('acct').find((folder) => folder.id === inbox.id)).toMatchObject({ total: 4, unread: 3 });
  });
});

describe('full-text search', () => {
  it('finds words from bodies (also HTML-only), encoded subjects and senders; any query text is safe', async () => {
    const store = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const plain = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'Plain', body: 'The marmalade recipe is attached.' }),
      imap: { uidvalidity: 1, uid: 1 },
    });
    const html = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({
        subject: 'Newsletter',
        html: '<html><head><style>.hiddenstyle{}</style></head><body><p class="attrword">Visit the <b>zebra</b>fish tank &amp; more</p><script>scriptword()</script></body></html>',
      }),
      imap: { uidvalidity: 1, uid: 2 },
    });
    const encoded = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: '=?UTF-8?B?R3LDvMOfZSB6dXIgw5xiZXJyYXNjaHVuZw==?=' }),
      imap: { uidvalidity: 1, uid: 3 },
    });
    const sender = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'Hi', from: '"Carol Quintessa" <carol.q@example.net>' }),
      imap: { uidvalidity: 1, uid: 4 },
    });
    const ids = (query: string) => store.search(query).map((summary) => summary.id);

    expect(ids('marmalade')).toEqual([plain.record.id]);
    expect(ids('zebrafish')).toEqual([html.record.id]);
    expect(ids('tank more')).toEqual([html.record.id]);
    expect(ids('attrword')).toEqual([]);
    expect(ids('scriptword')).toEqual([]);
    expect(ids('hiddenstyle')).toEqual([]);
    expect(encoded.record.subject).toBe('Grüße zur Überraschung');
    expect(ids('überraschung')).toEqual([encoded.record.id]);
    expect(ids('uberraschung')).toEqual([encoded.record.id]);
    expect(ids('Quintessa')).toEqual([sender.record.id]);
    expect(ids('carol.q@example.net')).toEqual([sender.record.id]);
    expect(ids('marma')).toEqual([plain.record.id]);

    for (const hostile of [
      '"',
      '(',
      'NEAR(',
      '*',
      '-x',
      'AND OR NOT',
      'subject:x',
      "a'b",
      '"unbalanced',
      '^',
      '{',
      '',
    ]) {
      expect(() => store.search(hostile)).not.toThrow();
    }
    expect(ids('"marmalade')).toEqual([plain.record.id]);
  });
});

describe('a full disk', () => {
  it('refuses the message with DISK_FULL and leaves the store as it was, and usable', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wb-store-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', root]);
    try {
      const store = await openTestStore(root);
      try {
        await store.upsertAccount(testAccount('acct'));
        const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
        const kept = await store.insertMessage({
          folderId: inbox.id,
          source: buildMessage({ subject: 'kept' }),
          imap: { uidvalidity: 1, uid: 1 },
        });
        const huge = Buffer.concat([buildMessage({ subject: 'huge' }), Buffer.alloc(4 * 1024 * 1024, 0x61)]);
        const error = await store
          .insertMessage({ folderId: inbox.id, source: huge, imap: { uidvalidity: 1, uid: 2 } })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(MailError);
        expect((error as MailError).code).toBe('DISK_FULL');
        const folderDir = join(root, 'mail', 'acct', inbox.id);
        expect(readdirSync(join(folderDir, 'tmp'))).toEqual([]);
        expect(readdirSync(join(folderDir, 'cur'))).toEqual([basename(kept.record.localPath ?? '')]);
        expect(
          store.listMessages({ folderId: inbox.id, offset: 0, limit: 10 }).items.map((item) => item.subject),
        ).toEqual(['kept']);
        expect(readFileSync(kept.record.localPath ?? '').length).toBe(kept.record.size);
        const after = await store.insertMessage({
          folderId: inbox.id,
          source: buildMessage({ subject: 'after' }),
          imap: { uidvalidity: 1, uid: 3 },
        });
        expect(after.created).toBe(true);
      } finally {
        store.close();
      }
    } finally {
      execFileSync('umount', [root]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
