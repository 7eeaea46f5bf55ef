import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations';
import type { MessageStore } from './message-store';
import { buildMessage, openTestStore, temporaryProfile, testAccount } from './test-fixtures';
import { addConversations } from './threads';
import type { HeaderOnlyInput } from './types';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

async function freshStore(): Promise<{ store: MessageStore; directory: string }> {
  const profile = temporaryProfile('wb-threads-');
  const store = await openTestStore(profile.directory);
  let open = true;
  cleanups.push(() => {
    if (open) store.close();
    profile.remove();
  });
  await store.upsertAccount(testAccount('acct'));
  return {
    store: Object.assign(store, {
      close: ((close) => () => {
        open = false;
        close();
      })(store.close.bind(store)),
    }),
    directory: profile.directory,
  };
}

let uid = 0;
function headers(
  folderId: string,
  subject: string,
  fields: { id?: string | null; inReplyTo?: string; references?: string[]; day: number; seen?: boolean },
): HeaderOnlyInput {
  uid += 1;
  return {
    folderId,
    imap: { uidvalidity: 1, uid },
    envelope: {
      messageId: fields.id === undefined ? `<${subject}@t>` : fields.id,
      inReplyTo: fields.inReplyTo ?? null,
      references: fields.references ?? [],
      subject,
      from: { name: subject, address: `${subject}@example.org` },
      to: [],
      cc: [],
      bcc: [],
      replyTo: [],
      date: new Date(Date.UTC(2024, 0, fields.day)).toISOString(),
    },
    size: 100,
    flags: fields.seen ? ['\\Seen'] : [],
  };
}

/** The folder's conversations: subjects of each, newest first, and the page's counts. */
function conversations(
  store: MessageStore,
  folderId: string,
): Array<{ top: string; members: string[]; unread: number }> {
  const page = store.listMessages({ folderId, offset: 0, limit: 100, threads: true });
  return page.items.map((item, index) => {
    const members = store
      .listMessages({ folderId, offset: 0, limit: 100, threadId: item.threadId })
      .items.map((member) => member.subject);
    expect(page.threads?.[index].messages).toBe(members.length);
    return { top: item.subject, members, unread: page.threads?.[index].unread ?? -1 };
  });
}

describe('conversations kept by the index', () => {
  it('groups a reply stored before its parent, and a parent arriving after its replies', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    // Replies first (a sync in reverse order), the root last; one reply names only its parent.
    store.insertHeaderOnlyBatch([
      headers(inbox.id, 'c', { inReplyTo: '<b@t>', day: 3 }),
      headers(inbox.id, 'b', { inReplyTo: '<a@t>', references: ['<a@t>'], day: 2 }),
      headers(inbox.id, 'other', { day: 4 }),
    ]);
    // Before the link arrives: c and b are two conversations (b's parent is missing).
    expect(conversations(store, inbox.id).map((thread) => thread.members)).toEqual([['other'], ['c', 'b']]);
    store.insertHeaderOnlyBatch([headers(inbox.id, 'a', { day: 1 })]);
    expect(conversations(store, inbox.id)).toEqual([
      { top: 'other', members: ['other'], unread: 1 },
      { top: 'c', members: ['c', 'b', 'a'], unread: 3 },
    ]);
  });

  it('merges two conversations when a message links them, whatever the order', async () => {
    const orders = [
      ['x', 'y', 'bridge'],
      ['bridge', 'x', 'y'],
      ['y', 'bridge', 'x'],
    ];
    const keys: string[] = [];
    for (const order of orders) {
      const { store } = await freshStore();
      const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
      const byName: Record<string, HeaderOnlyInput> = {
        x: headers(inbox.id, 'x', { references: ['<root1@t>'], day: 1 }),
        y: headers(inbox.id, 'y', { references: ['<root2@t>'], day: 2 }),
        bridge: headers(inbox.id, 'bridge', { references: ['<root2@t>', '<x@t>'], day: 3 }),
      };
      for (const name of order) store.insertHeaderOnlyBatch([byName[name]]);
      const page = store.listMessages({ folderId: inbox.id, offset: 0, limit: 10, threads: true });
      expect(page.total).toBe(1);
      expect(page.threads).toEqual([{ messages: 3, unread: 3 }]);
      keys.push(page.items[0].threadId ?? '');
      // Every message carries the conversation's key.
      const all = store.listMessages({ folderId: inbox.id, offset: 0, limit: 10 }).items;
      expect(new Set(all.map((item) => item.threadId))).toEqual(new Set([keys[keys.length - 1]]));
    }
    // The key does not depend on the order the messages arrived in.
    expect(new Set(keys).size).toBe(1);
  });

  it('threads a reply in Sent with its parent in INBOX, and counts per folder', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const sent = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'Sent' });
    store.insertHeaderOnlyBatch([headers(sent.id, 'my-reply', { references: ['<question@t>'], day: 2, seen: true })]);
    store.insertHeaderOnlyBatch([headers(inbox.id, 'question', { day: 1 })]);
    store.insertHeaderOnlyBatch([headers(inbox.id, 'their-answer', { inReplyTo: '<my-reply@t>', day: 3, seen: true })]);
    const inboxPage = store.listMessages({ folderId: inbox.id, offset: 0, limit: 10, threads: true });
    const sentPage = store.listMessages({ folderId: sent.id, offset: 0, limit: 10, threads: true });
    expect(inboxPage.items.map((item) => item.subject)).toEqual(['their-answer']);
    expect(inboxPage.threads).toEqual([{ messages: 2, unread: 1 }]);
    expect(inboxPage.messages).toBe(2);
    expect(sentPage.threads).toEqual([{ messages: 1, unread: 0 }]);
    expect(sentPage.items[0].threadId).toBe(inboxPage.items[0].threadId);
    // Other accounts never join: the same Message-ID there is another conversation.
    await store.upsertAccount(testAccount('other'));
    const elsewhere = await store.upsertFolder({ accountId: 'other', kind: 'server', path: 'INBOX' });
    store.insertHeaderOnlyBatch([headers(elsewhere.id, 'x', { references: ['<question@t>'], day: 5 })]);
    expect(store.listMessages({ folderId: inbox.id, offset: 0, limit: 10, threads: true }).threads).toEqual([
      { messages: 2, unread: 1 },
    ]);
  });

  it('keeps a message without any message-id on its own, and missing parents do not merge strangers', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    store.insertHeaderOnlyBatch([
      headers(inbox.id, 'no-id-1', { id: null, day: 1 }),
      headers(inbox.id, 'no-id-2', { id: null, day: 2 }),
      headers(inbox.id, 'r1', { references: ['<gone1@t>'], day: 3 }),
      headers(inbox.id, 'r2', { references: ['<gone2@t>'], day: 4 }),
      headers(inbox.id, 'r3', { references: ['<gone1@t>', '<lost@t>'], day: 5 }),
    ]);
    expect(conversations(store, inbox.id).map((thread) => thread.members)).toEqual([
      ['r3', 'r1'],
      ['r2'],
      ['no-id-2'],
      ['no-id-1'],
    ]);
  });

  it('follows flags, moves and deletions: counts and the listed message stay right', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const archive = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'Archive' });
    const [root, reply, late] = store.insertHeaderOnlyBatch([
      headers(inbox.id, 'root', { day: 1 }),
      headers(inbox.id, 'reply', { references: ['<root@t>'], day: 2 }),
      headers(inbox.id, 'late', { references: ['<root@t>', '<reply@t>'], day: 3 }),
    ]);
    await store.setFlags(reply.id, ['\\Seen']);
    expect(conversations(store, inbox.id)).toEqual([{ top: 'late', members: ['late', 'reply', 'root'], unread: 2 }]);
    await store.deleteMessage(late.id);
    expect(conversations(store, inbox.id)).toEqual([{ top: 'reply', members: ['reply', 'root'], unread: 1 }]);
    await store.moveMessage(root.id, archive.id);
    expect(conversations(store, inbox.id)).toEqual([{ top: 'reply', members: ['reply'], unread: 0 }]);
    expect(conversations(store, archive.id)).toEqual([{ top: 'root', members: ['root'], unread: 1 }]);
    await store.deleteMessage(reply.id);
    const empty = store.listMessages({ folderId: inbox.id, offset: 0, limit: 10, threads: true });
    expect(empty).toMatchObject({ total: 0, items: [], messages: 0 });
  });

  it('keeps the conversation when the body of a header-only message arrives', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const [, child] = store.insertHeaderOnlyBatch([
      headers(inbox.id, 'zz-parent', { id: '<a-parent@t>', day: 1 }),
      headers(inbox.id, 'child', { id: '<b-child@t>', inReplyTo: '<a-parent@t>', day: 2 }),
    ]);
    const before = conversations(store, inbox.id);
    // The full message has the same In-Reply-To (an old-style thread root differs: it is ignored).
    await store.attachBody(
      child.id,
      buildMessage({
        subject: 'child',
        messageId: '<b-child@t>',
        inReplyTo: '<a-parent@t>',
        date: 'Tue, 02 Jan 2024 00:00:00 +0000',
      }),
    );
    expect(conversations(store, inbox.id)).toEqual(before);
    expect(before).toEqual([{ top: 'child', members: ['child', 'zz-parent'], unread: 2 }]);
  });

  it('pages conversations in every sort order, like the flat listing pages messages', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const inputs: HeaderOnlyInput[] = [];
    // 30 conversations of 1 to 3 messages, interleaved in time.
    for (let thread = 0; thread < 30; thread += 1) {
      for (let member = 0; member <= thread % 3; member += 1) {
        inputs.push(
          headers(inbox.id, `t${String(thread).padStart(2, '0')}-${member}`, {
            id: `<t${thread}-${member}@t>`,
            references: member === 0 ? [] : [`<t${thread}-0@t>`],
            day: 1 + ((thread * 7 + member * 11) % 60),
          }),
        );
      }
    }
    store.insertHeaderOnlyBatch(inputs);
    for (const [sort, direction] of [
      ['date', 'desc'],
      ['date', 'asc'],
      ['subject', 'asc'],
      ['from', 'desc'],
    ] as const) {
      const whole = store.listMessages({ folderId: inbox.id, offset: 0, limit: 100, threads: true, sort, direction });
      expect(whole.total).toBe(30);
      expect(whole.messages).toBe(inputs.length);
      const paged = [0, 7, 14, 21, 28].flatMap(
        (offset) => store.listMessages({ folderId: inbox.id, offset, limit: 7, threads: true, sort, direction }).items,
      );
      expect(paged.map((item) => item.id)).toEqual(whole.items.map((item) => item.id));
      // The same page computed from the flat listing: each conversation where its newest message sorts.
      const flat = store.listMessages({ folderId: inbox.id, offset: 0, limit: 1000, sort, direction }).items;
      const newest = new Map<string, (typeof flat)[number]>();
      for (const item of flat) {
        const current = newest.get(item.threadId ?? '');
        if (current === undefined || (item.date ?? '') + item.id > (current.date ?? '') + current.id) {
          newest.set(item.threadId ?? '', item);
        }
      }
      const expected = flat.filter((item) => newest.get(item.threadId ?? '') === item).map((item) => item.id);
      expect(whole.items.map((item) => item.id)).toEqual(expected);
      // The residency filter groups too (on the fly), with the same answer here.
      const filtered = store.listMessages({
        folderId: inbox.id,
        offset: 0,
        limit: 100,
        threads: true,
        sort,
        direction,
        residency: 'server',
      });
      expect(filtered.items.map((item) => item.id)).toEqual(expected);
      expect(filtered.threads).toEqual(whole.threads);
    }
  });

  it('names conversations the same after the index is rebuilt from the Maildir', async () => {
    const { store, directory } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const sent = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'Sent' });
    // Stored newest first; the rebuild reads the files in another order.
    const messages = [
      { folder: inbox.id, subject: 'third', id: '<m3@t>', parent: '<m2@t>', day: 3 },
      { folder: sent.id, subject: 'second', id: '<m2@t>', parent: '<m1@t>', day: 2 },
      { folder: inbox.id, subject: 'first', id: '<m1@t>', parent: undefined, day: 1 },
      { folder: inbox.id, subject: 'alone', id: '<zz@t>', parent: undefined, day: 4 },
    ];
    for (const [uid, message] of messages.entries()) {
      await store.insertMessage({
        folderId: message.folder,
        imap: { uidvalidity: 1, uid: uid + 1 },
        source: buildMessage({
          subject: message.subject,
          messageId: message.id,
          inReplyTo: message.parent,
          date: `Mon, 0${message.day} Jan 2024 10:00:00 +0000`,
        }),
      });
    }
    const view = (opened: MessageStore) =>
      [inbox.id, sent.id].map((folderId) => ({
        page: opened.listMessages({ folderId, offset: 0, limit: 10, threads: true }),
        members: conversations(opened, folderId),
      }));
    const before = view(store);
    expect(before[0].members).toEqual([
      { top: 'alone', members: ['alone'], unread: 1 },
      { top: 'third', members: ['third', 'first'], unread: 2 },
    ]);
    expect(before[1].page.items[0].threadId).toBe(before[0].page.items[1].threadId);
    store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(directory, `index.sqlite${suffix}`), { force: true });
    const rebuilt = await openTestStore(directory);
    cleanups.push(() => rebuilt.close());
    expect(view(rebuilt)).toEqual(before);
  });

  it('threads the messages of an index written before conversations existed (migration)', () => {
    const db = new Database(':memory:');
    try {
      for (const migration of MIGRATIONS.filter((candidate) => candidate.version < 3)) migration.up(db);
      db.exec(`INSERT INTO accounts VALUES ('a', '{}', 'imap', '2024');
        INSERT INTO folders (id, account_id, kind, path, name) VALUES ('f', 'a', 'server', 'INBOX', 'INBOX');`);
      const insert = db.prepare(`INSERT INTO messages (id, account_id, folder_id, message_id, in_reply_to,
        references_json, sort_date, size, on_server, seen) VALUES (?, 'a', 'f', ?, ?, ?, ?, 1, 1, ?)`);
      insert.run('r2', '<r2@t>', '<r1@t>', '["<r0@t>","<r1@t>"]', 3, 0);
      insert.run('r1', '<r1@t>', null, '[]', 2, 1);
      insert.run('r0', '<r0@t>', null, '[]', 1, 0);
      insert.run('x', null, null, '[]', 4, 0);
      addConversations(db);
      expect(db.prepare('SELECT id, thread_key FROM messages ORDER BY id').all()).toEqual([
        { id: 'r0', thread_key: '<r0@t>' },
        { id: 'r1', thread_key: '<r0@t>' },
        { id: 'r2', thread_key: '<r0@t>' },
        { id: 'x', thread_key: '#x' },
      ]);
      expect(
        db.prepare('SELECT thread_key, messages, unread, id FROM folder_threads ORDER BY sort_date').all(),
      ).toEqual([
        { thread_key: '<r0@t>', messages: 3, unread: 2, id: 'r2' },
        { thread_key: '#x', messages: 1, unread: 1, id: 'x' },
      ]);
    } finally {
      db.close();
    }
  });

  it('threads an old index exactly like inserting its messages one by one, in any order', async () => {
    const { store } = await freshStore();
    const inbox = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
    const sent = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'Sent' });
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % below;
    };
    const inputs = Array.from({ length: 300 }, (_, index) => {
      const parent = random(4) === 0 ? undefined : `<p${random(150)}@t>`;
      return headers(random(3) === 0 ? sent.id : inbox.id, `s${index}`, {
        id: random(10) === 0 ? null : `<p${index}@t>`,
        inReplyTo: parent,
        references: random(2) === 0 && parent ? [`<p${random(150)}@t>`, parent] : [],
        day: 1 + random(28),
        seen: random(2) === 0,
      });
    });
    for (const input of inputs) store.insertHeaderOnlyBatch([input]);
    const db = (store as unknown as { index: { db: Database.Database } }).index.db;
    const keysOf = (from: Database.Database) => from.prepare('SELECT id, thread_key FROM messages ORDER BY id').all();
    const entriesOf = (from: Database.Database) =>
      from.prepare('SELECT * FROM folder_threads ORDER BY folder_id, thread_key').all();
    const columns =
      'id, account_id, folder_id, message_id, in_reply_to, references_json, sort_date, seen, from_sort, subject_sort, size, on_server';
    const old = new Database(':memory:');
    try {
      old.pragma('foreign_keys = OFF');
      for (const migration of MIGRATIONS.filter((candidate) => candidate.version < 3)) migration.up(old);
      const copy = old.prepare(`INSERT INTO messages (${columns}) VALUES (${columns.replace(/\w+/g, '@$&')})`);
      // Stored in another order than the store got them.
      const rows = db.prepare(`SELECT ${columns} FROM messages ORDER BY subject_sort DESC`).all() as object[];
      for (const row of rows) copy.run(row);
      addConversations(old);
      expect(keysOf(old)).toEqual(keysOf(db));
      // The newest row's row_id differs between the two databases: compare its id instead.
      const strip = (entries: unknown[]) =>
        entries.map((entry) => ({ ...(entry as object), newest_row_id: undefined }));
      expect(strip(entriesOf(old))).toEqual(strip(entriesOf(db)));
      expect(new Set(keysOf(db).map((row) => (row as { thread_key: string }).thread_key)).size).toBeLessThan(300);
    } finally {
      old.close();
    }
  });
});
