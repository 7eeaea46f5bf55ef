import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStore } from './message-store';
import { buildMessage, openTestStore, temporaryProfile, testAccount } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

const QUERIES = [
  'marmalade',
  'zebrafish',
  'überraschung',
  'Quintessa',
  'carol.q@example.net',
  'pop',
  'archived',
  'hel',
];

/** Everything a user sees of the store: folders with counts, every page in every order, search, totals. */
function snapshot(store: MessageStore, accountIds: readonly string[]) {
  return accountIds.map((accountId) => {
    const folders = store.listFolders(accountId);
    return {
      account: store.getAccount(accountId),
      folders,
      pages: folders.map((folder) =>
        (['date', 'from', 'subject'] as const).flatMap((sort) =>
          (['asc', 'desc'] as const).map((direction) =>
            store.listMessages({ folderId: folder.id, offset: 0, limit: 100, sort, direction }),
          ),
        ),
      ),
      search: QUERIES.map((query) => store.search(query, { accountId })),
      totals: store.residencyTotals({ accountId }),
      popUidls: store
        .popUidlState(accountId)
        .map((entry) => ({ uidl: entry.uidl, gone: entry.deletedOnServerAt !== null })),
    };
  });
}

async function populate(store: MessageStore): Promise<void> {
  await store.upsertAccount(testAccount('imap1', 'imap'));
  await store.upsertAccount(testAccount('pop1', 'pop3'));
  const inbox = await store.upsertFolder({ accountId: 'imap1', kind: 'server', path: 'INBOX', role: 'inbox' });
  const sent = await store.upsertFolder({
    accountId: 'imap1',
    kind: 'server',
    path: 'Sent',
    role: 'sent',
    keepOffline: true,
  });
  const archive = await store.upsertFolder({ accountId: 'imap1', kind: 'local', path: 'Archive/2024', delimiter: '/' });
  const popInbox = await store.upsertFolder({ accountId: 'pop1', kind: 'server', path: 'INBOX', role: 'inbox' });

  await store.insertMessage({
    folderId: inbox.id,
    source: buildMessage({ subject: 'Recipe', body: 'The marmalade recipe', date: 'Tue, 02 Jan 2024 10:00:00 +0000' }),
    imap: { uidvalidity: 11, uid: 1 },
    flags: ['\\Seen', '\\Answered'],
  });
  await store.insertMessage({
    folderId: inbox.id,
    source: buildMessage({
      subject: 'Fish',
      html: '<p>a <i>zebra</i>fish</p>',
      date: 'Wed, 03 Jan 2024 10:00:00 +0000',
    }),
    imap: { uidvalidity: 11, uid: 2 },
    flags: ['\\Flagged'],
  });
  await store.insertMessage({
    folderId: inbox.id,
    source: buildMessage({ subject: '=?UTF-8?Q?=C3=9Cberraschung?=', from: 'Carol Quintessa <carol.q@example.net>' }),
    imap: { uidvalidity: 11, uid: 3 },
    receivedAt: '2024-01-05T12:00:00.000Z',
  });
  await store.insertMessage({
    folderId: sent.id,
    source: Buffer.from('Subject: no date and bare LF\n\nhello there, helpful\n'),
    imap: { uidvalidity: 12, uid: 40 },
    flags: ['\\Seen'],
  });
  const toArchive = await store.insertMessage({
    folderId: inbox.id,
    source: buildMessage({ subject: 'Old', body: 'archived thing' }),
    imap: { uidvalidity: 11, uid: 4 },
  });
  await store.moveMessage(toArchive.record.id, archive.id);
  await store.insertMessage({
    folderId: archive.id,
    source: Buffer.from('garbage \x00\xff without headers'),
    flags: ['\\Draft'],
  });

  await store.insertMessage({ folderId: popInbox.id, source: buildMessage({ subject: 'pop one' }), popUidl: 'uidl-1' });
  const downloaded = await store.insertMessage({
    folderId: popInbox.id,
    source: buildMessage({ subject: 'pop two' }),
    popUidl: 'uidl 2/two',
  });
  await store.markPopDeletedOnServer('pop1', ['uidl 2/two']);
  const deleted = await store.insertMessage({
    folderId: popInbox.id,
    source: buildMessage({ subject: 'pop three' }),
    popUidl: 'uidl-3',
  });
  await store.deleteMessage(deleted.record.id);
  expect(downloaded.record.residency).toBe('both');
}

function removeIndex(profileDir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(profileDir, `index.sqlite${suffix}`), { force: true });
}

describe('rebuilding the index from the Maildir', () => {
  it('restores the same folders, pages, flags, residency and search results after index.sqlite is deleted', async () => {
    const profile = temporaryProfile();
    cleanups.push(profile.remove);
    const store = await openTestStore(profile.directory);
    await populate(store);
    const before = snapshot(store, ['imap1', 'pop1']);
    expect(before[0].search[0]).toHaveLength(1);
    expect(before[0].search[7].length).toBeGreaterThan(0);
    expect(before[1].popUidls).toEqual([
      { uidl: 'uidl 2/two', gone: true },
      { uidl: 'uidl-1', gone: false },
      { uidl: 'uidl-3', gone: false },
    ]);
    store.close();

    removeIndex(profile.directory);
    const rebuilt = await openTestStore(profile.directory);
    cleanups.push(() => rebuilt.close());
    expect(rebuilt.lastReconcile).toMatchObject({ indexedFiles: 8, accountsRestored: 2, foldersRestored: 4 });
    expect(snapshot(rebuilt, ['imap1', 'pop1'])).toEqual(before);
    expect(rebuilt.isPopUidlKnown('pop1', 'uidl-3')).toBe(true);

    const viaMethod = await rebuilt.rebuildFromMaildir();
    expect(viaMethod.indexedFiles).toBe(8);
    expect(snapshot(rebuilt, ['imap1', 'pop1'])).toEqual(before);
  });

  it('drops header-only rows (the next sync fetches them again) and keeps everything stored', async () => {
    const profile = temporaryProfile();
    cleanups.push(profile.remove);
    const store = await openTestStore(profile.directory);
    await store.upsertAccount(testAccount('imap1'));
    const inbox = await store.upsertFolder({ accountId: 'imap1', kind: 'server', path: 'INBOX' });
    await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'stored' }),
      imap: { uidvalidity: 1, uid: 1 },
    });
    store.insertHeaderOnly({
      folderId: inbox.id,
      imap: { uidvalidity: 1, uid: 2 },
      envelope: {
        messageId: null,
        inReplyTo: null,
        references: [],
        subject: 'headers only',
        from: null,
        to: [],
        cc: [],
        bcc: [],
        replyTo: [],
        date: null,
      },
      size: 10,
      flags: [],
    });
    await store.rebuildFromMaildir();
    const items = store.listMessages({ folderId: inbox.id, offset: 0, limit: 10 }).items;
    expect(items.map((item) => [item.subject, item.residency])).toEqual([['stored', 'both']]);
    expect(store.findByImapIdentity(inbox.id, { uidvalidity: 1, uid: 1 })?.subject).toBe('stored');
    store.close();
  });

  it('indexes mail another tool delivered into new/, renaming it into cur/', async () => {
    const profile = temporaryProfile();
    cleanups.push(profile.remove);
    const store = await openTestStore(profile.directory);
    await store.upsertAccount(testAccount('imap1'));
    const local = await store.upsertFolder({ accountId: 'imap1', kind: 'local', path: 'Imported' });
    store.close();
    const folderDir = join(profile.directory, 'mail', 'imap1', local.id);
    writeFileSync(
      join(folderDir, 'new', '1700000000.M1P2Q3.otherhost'),
      buildMessage({ subject: 'delivered elsewhere' }),
    );
    writeFileSync(
      join(folderDir, 'cur', '1700000001.M4P5Q6.otherhost:2,S'),
      buildMessage({ subject: 'read elsewhere' }),
    );

    const reopened = await openTestStore(profile.directory);
    cleanups.push(() => reopened.close());
    expect(reopened.lastReconcile).toMatchObject({ indexedFiles: 2, renamedFiles: 2 });
    expect(readdirSync(join(folderDir, 'new'))).toEqual([]);
    const items = reopened.listMessages({
      folderId: local.id,
      offset: 0,
      limit: 10,
      sort: 'subject',
      direction: 'asc',
    }).items;
    expect(items.map((item) => [item.subject, item.flags, item.residency])).toEqual([
      ['delivered elsewhere', [], 'local'],
      ['read elsewhere', ['\\Seen'], 'local'],
    ]);
  });
});

describe('a folder whose sidecar is lost', () => {
  /** A profile with one IMAP INBOX holding one stored message, closed; and where its sidecar is. */
  async function closedInboxWithOneMessage() {
    const profile = temporaryProfile();
    cleanups.push(profile.remove);
    const store = await openTestStore(profile.directory);
    await store.upsertAccount(testAccount('imap1'));
    const inbox = await store.upsertFolder({ accountId: 'imap1', kind: 'server', path: 'INBOX' });
    await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'survivor' }),
      imap: { uidvalidity: 1, uid: 1 },
    });
    store.close();
    const sidecar = join(profile.directory, 'mail', 'imap1', inbox.id, '.whereabouts-folder.json');
    return { profile, inbox, sidecar };
  }

  it('keeps its mail visible: rewritten from the index, or recovered as a local folder on rebuild', async () => {
    const { profile, inbox, sidecar } = await closedInboxWithOneMessage();

    rmSync(sidecar);
    let store = await openTestStore(profile.directory);
    expect(store.listFolders('imap1').map((folder) => [folder.path, folder.total])).toEqual([['INBOX', 1]]);
    store.close();

    rmSync(sidecar);
    removeIndex(profile.directory);
    store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.listFolders('imap1').map((folder) => [folder.path, folder.kind, folder.total])).toEqual([
      [`Recovered/${inbox.id}`, 'local', 1],
    ]);
    const [item] = store.listMessages({ folderId: inbox.id, offset: 0, limit: 5 }).items;
    expect(item).toMatchObject({ subject: 'survivor', residency: 'both' });
  });

  it('does not keep the store from opening when it cannot be written again (a full disk)', async () => {
    const { profile, sidecar } = await closedInboxWithOneMessage();
    // Something the sidecar can be neither read from nor replaced by, as on a disk with no room left.
    rmSync(sidecar);
    mkdirSync(join(sidecar, 'in-the-way'), { recursive: true });
    const store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.listFolders('imap1').map((folder) => [folder.path, folder.total])).toEqual([['INBOX', 1]]);
  });

  it('brings back no empty "Recovered" folder for a directory without mail the index does not know', async () => {
    const { profile } = await closedInboxWithOneMessage();
    // A folder whose creation was cut short: its Maildir was made, its sidecar and row were not.
    for (const sub of ['cur', 'new', 'tmp'])
      mkdirSync(join(profile.directory, 'mail', 'imap1', 'halfmade', sub), { recursive: true });
    const store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.listFolders('imap1').map((folder) => folder.path)).toEqual(['INBOX']);
  });
});
