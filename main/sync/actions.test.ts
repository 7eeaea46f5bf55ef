/**
 * The user-action layer in both modes. IMAP mode against the real test Dovecot: each action
 * changes the local store at once, and after the engine's replay the server (seen through another
 * client) is exactly as the user left it (S3–S7). POP3 mode: local folders only, and the refusals
 * the UI shows (S5, S12), and the queued POP3 deletion (S6).
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { MailError } from '../../shared/errors';
import type { Account } from '../../shared/model';
import { openMessageStore } from '../store/message-store';
import { createMailActions, imapAppendAction, serverSentFolder } from './actions';
import {
  folderByPath,
  openProfile,
  removeDirectory,
  sha256,
  subjectsIn,
  testMessage,
  withOtherClient,
  type TestProfile,
} from './imap/engine-test-support';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function profileFor(user: TestUser, accountId = 'acct'): Promise<TestProfile> {
  const profile = await openProfile(info, user, { accountId });
  cleanups.push(() => removeDirectory(profile.directory));
  cleanups.push(() => profile.close());
  return profile;
}

/** What the server holds, seen by another client: folder → subjects (and which folders are subscribed). */
async function serverView(user: TestUser): Promise<{ folders: Map<string, string[]>; subscribed: Set<string> }> {
  return withOtherClient(info, user, async (client) => {
    const folders = new Map<string, string[]>();
    const subscribed = new Set<string>();
    for (const entry of await client.list()) {
      if (entry.subscribed) subscribed.add(entry.path);
      const subjects: string[] = [];
      const lock = await client.getMailboxLock(entry.path, { readOnly: true });
      try {
        const status = client.mailbox;
        if (status && status.exists > 0) {
          for await (const message of client.fetch('1:*', { envelope: true }))
            subjects.push(message.envelope?.subject ?? '');
        }
      } finally {
        lock.release();
      }
      folders.set(entry.path, subjects.sort());
    }
    return { folders, subscribed };
  });
}

function expectMailError(code: string, pattern: RegExp) {
  return (error: unknown) => {
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).code).toBe(code);
    expect((error as MailError).message).toMatch(pattern);
    return true;
  };
}

describe('user actions in IMAP mode', () => {
  it('S3 folders (IMAP): created, renamed and deleted on the server; local folders stay here', async () => {
    const user = await createTestUser(info);
    const profile = await profileFor(user);
    const { actions, store, account, engine } = profile;
    await engine.syncOnce();

    const projects = await actions.createFolder(account.id, 'Projects', { kind: 'server' });
    const sub = await actions.createFolder(account.id, 'Sub', { kind: 'server', parentId: projects.id });
    const local = await actions.createFolder(account.id, 'On this computer', { kind: 'local' });
    expect(sub.path).toBe('Projects/Sub');
    expect(store.listFolders(account.id).map((folder) => folder.path)).toEqual(
      expect.arrayContaining(['Projects', 'Projects/Sub', 'On this computer']),
    );
    await engine.syncOnce();
    let server = await serverView(user);
    expect([...server.folders.keys()]).toEqual(expect.arrayContaining(['Projects', 'Projects/Sub']));
    expect(server.subscribed.has('Projects/Sub')).toBe(true);
    expect(server.folders.has('On this computer')).toBe(false);
    expect(store.findFolder(account.id, 'local', 'On this computer')?.id).toBe(local.id);

    await actions.renameFolder(projects.id, 'Work');
    expect(store.getFolder(sub.id)?.path).toBe('Work/Sub');
    await engine.syncOnce();
    server = await serverView(user);
    expect(server.folders.has('Projects')).toBe(false);
    expect([...server.folders.keys()]).toEqual(expect.arrayContaining(['Work', 'Work/Sub']));
    // The same folders (ids) under their new names: nothing was listed twice.
    expect(store.getFolder(projects.id)?.path).toBe('Work');
    expect(store.listFolderRecords(account.id).filter((folder) => folder.path.startsWith('Work'))).toHaveLength(2);

    await actions.renameFolder(local.id, 'Still here');
    await actions.deleteFolder(projects.id);
    expect(store.getFolder(sub.id)).toBeNull();
    await engine.syncOnce();
    server = await serverView(user);
    expect([...server.folders.keys()].filter((path) => path.startsWith('Work'))).toEqual([]);
    expect(store.findFolder(account.id, 'local', 'Still here')).not.toBeNull();
    await actions.deleteFolder(local.id);
    expect(store.findFolder(account.id, 'local', 'Still here')).toBeNull();

    const inbox = folderByPath(store, account.id, 'INBOX');
    await expect(actions.renameFolder(inbox.id, 'Elsewhere')).rejects.toSatisfy(
      expectMailError('INVALID_INPUT', /INBOX/),
    );
    await expect(actions.createFolder(account.id, 'a/b', { kind: 'server' })).rejects.toSatisfy(
      expectMailError('INVALID_INPUT', /cannot contain/),
    );
    expect(store.listActions(account.id)).toEqual([]);
  });

  it('S4 move (IMAP) and S5 transfer: between server folders, to and from local folders, upload and download', async () => {
    const user = await createTestUser(info);
    const inboxMessages = [testMessage('to archive'), testMessage('to keep here'), testMessage('copied around')];
    const archived = testMessage('already archived');
    await putMessages(
      info,
      user,
      inboxMessages.map((message) => message.raw),
    );
    await putMessages(info, user, [archived.raw], 'Archive');
    const profile = await profileFor(user);
    const { actions, store, account, engine } = profile;
    await engine.syncOnce();
    const inbox = folderByPath(store, account.id, 'INBOX');
    const archive = folderByPath(store, account.id, 'Archive');
    const kept = await actions.createFolder(account.id, 'Kept', { kind: 'local' });
    const byName = (folderId: string, subject: string) =>
      store.listFolderMessages(folderId).find((record) => record.subject === subject) ?? null;

    // Server to server: MOVE; the row keeps its bytes and learns its new UID.
    const toArchive = byName(inbox.id, 'to archive');
    await actions.move([toArchive?.id ?? ''], archive.id);
    expect(byName(archive.id, 'to archive')).toMatchObject({ id: toArchive?.id, imap: null, residency: 'both' });
    // Server (headers only) to local: downloaded first, then removed from the server.
    const headerOnly = byName(archive.id, 'already archived');
    expect(headerOnly?.residency).toBe('server');
    await actions.move([headerOnly?.id ?? ''], kept.id);
    expect(byName(kept.id, 'already archived')).toMatchObject({ residency: 'local' });
    // Server (cached) to local.
    await actions.move([byName(inbox.id, 'to keep here')?.id ?? ''], kept.id);
    // Upload: a message that exists only here, moved to INBOX.
    const draft = testMessage('written here');
    const { record: localOnly } = await store.insertMessage({ folderId: kept.id, source: draft.raw, onServer: false });
    await actions.move([localOnly.id], inbox.id);
    // Upload by copy, and download by copy.
    await actions.copy([byName(kept.id, 'to keep here')?.id ?? ''], archive.id);
    await actions.copy([localOnly.id], kept.id);
    // Uploading what the server already has (same Message-ID and size) adds no second copy.
    const { record: again } = await store.insertMessage({
      folderId: kept.id,
      source: inboxMessages[2].raw,
      onServer: false,
    });
    await actions.move([again.id], inbox.id);
    // Server to server by copy: COPY; the local copy learns its UID from COPYUID.
    await actions.copy([byName(inbox.id, 'copied around')?.id ?? ''], archive.id);
    expect(byName(archive.id, 'copied around')).toMatchObject({ imap: null, residency: 'local' });

    await engine.syncOnce();
    const server = await serverView(user);
    expect(server.folders.get('INBOX')).toEqual(['copied around', 'written here']);
    expect(server.folders.get('Archive')).toEqual(['copied around', 'to archive', 'to keep here']);
    expect(subjectsIn(store, inbox.id)).toEqual(['copied around', 'written here']);
    expect(subjectsIn(store, archive.id)).toEqual(['copied around', 'to archive', 'to keep here']);
    expect(subjectsIn(store, kept.id)).toEqual(['already archived', 'to keep here', 'written here']);
    for (const record of store.listFolderMessages(archive.id)) {
      expect(record.imap?.uidvalidity).toBe(folderByPath(store, account.id, 'Archive').uidvalidity);
      expect(record.residency).toBe('both');
    }
    expect(store.getMessageRecord(localOnly.id)).toMatchObject({ folderId: inbox.id, residency: 'both' });
    for (const record of store.listFolderMessages(kept.id)) expect(record.residency).toBe('local');
    // Uploaded byte for byte.
    const uploaded = await readServerMessages(info, user, 'INBOX');
    expect(uploaded.map(sha256)).toContain(sha256(draft.raw));
    expect(store.listActions(account.id)).toEqual([]);
    // Another pass finds nothing new: no message was listed twice.
    await engine.syncOnce();
    expect(store.listFolderMessages(archive.id)).toHaveLength(3);
    expect(store.listFolderMessages(inbox.id)).toHaveLength(2);
  });

  it('S6 delete (IMAP): to Trash, then for good from Trash; a second computer sees the same', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, [testMessage('unwanted').raw, testMessage('wanted').raw]);
    const first = await profileFor(user, 'first');
    const second = await profileFor(user, 'second');
    await first.engine.syncOnce();
    await second.engine.syncOnce();
    const inbox = folderByPath(first.store, first.account.id, 'INBOX');
    const trash = folderByPath(first.store, first.account.id, 'Trash');
    const unwanted = first.store.listFolderMessages(inbox.id).find((record) => record.subject === 'unwanted');

    await first.actions.delete([unwanted?.id ?? '']);
    expect(subjectsIn(first.store, trash.id)).toEqual(['unwanted']);
    await first.engine.syncOnce();
    let server = await serverView(user);
    expect(server.folders.get('INBOX')).toEqual(['wanted']);
    expect(server.folders.get('Trash')).toEqual(['unwanted']);
    await second.engine.syncOnce();
    const secondTrash = folderByPath(second.store, second.account.id, 'Trash');
    expect(subjectsIn(second.store, folderByPath(second.store, second.account.id, 'INBOX').id)).toEqual(['wanted']);
    expect(subjectsIn(second.store, secondTrash.id)).toEqual(['unwanted']);

    // Deleting in Trash removes it for good (UID EXPUNGE), everywhere.
    await first.actions.delete([unwanted?.id ?? '']);
    expect(first.store.getMessageRecord(unwanted?.id ?? '')).toBeNull();
    await first.engine.syncOnce();
    server = await serverView(user);
    expect(server.folders.get('Trash')).toEqual([]);
    await second.engine.syncOnce();
    expect(subjectsIn(second.store, secondTrash.id)).toEqual([]);
  });

  it('S7 sent (IMAP): a sent message goes to the server’s Sent folder (SPECIAL-USE) and every computer sees it', async () => {
    const user = await createTestUser(info);
    const first = await profileFor(user, 'first');
    const second = await profileFor(user, 'second');
    await first.engine.syncOnce();
    const sent = serverSentFolder(first.store, first.account.id);
    expect(sent?.path).toBe('Sent');
    const outbox = await first.actions.createFolder(first.account.id, 'Outbox', { kind: 'local' });
    const mail = testMessage('sent from the first computer');
    const { record } = await first.store.insertMessage({
      folderId: outbox.id,
      source: mail.raw,
      flags: ['\\Seen'],
      onServer: false,
    });

    await first.actions.appendToServerFolder(record.id, sent?.path ?? '');
    expect(first.store.getMessageRecord(record.id)).toMatchObject({ folderId: sent?.id, residency: 'local' });
    // Also as the outbox may do it: stored and queued in one transaction (found by its content).
    const second_ = testMessage('stored and queued at once');
    await first.store.insertMessage({
      folderId: sent?.id ?? '',
      source: second_.raw,
      flags: ['\\Seen'],
      onServer: false,
      enqueue: imapAppendAction(
        first.account.id,
        { messageId: null, sha256: sha256(second_.raw), messageIdHeader: second_.messageId, size: second_.raw.length },
        sent?.path ?? '',
        ['\\Seen'],
      ),
    });
    await first.engine.syncOnce();

    const onServer = await readServerMessages(info, user, 'Sent');
    expect(onServer.map(sha256).sort()).toEqual([sha256(mail.raw), sha256(second_.raw)].sort());
    for (const row of first.store.listFolderMessages(sent?.id ?? '')) {
      expect(row.residency).toBe('both');
      expect(row.flags).toEqual(['\\Seen']);
    }
    await second.engine.syncOnce();
    const secondSent = folderByPath(second.store, second.account.id, 'Sent');
    expect(subjectsIn(second.store, secondSent.id)).toEqual([
      'sent from the first computer',
      'stored and queued at once',
    ]);
    expect(first.store.listActions(first.account.id)).toEqual([]);
  });
});

describe('user actions in POP3 mode', () => {
  it('S3/S4/S5/S6/S12 (POP3): local folders only, upload refused with a reason, deletion queued for the server', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'wb-actions-'));
    cleanups.push(() => removeDirectory(directory));
    const store = await openMessageStore({ profileDir: directory, host: 'test-host' });
    cleanups.push(() => store.close());
    let account: Account = {
      id: 'pop',
      createdAt: '2024-01-01T00:00:00.000Z',
      name: 'POP',
      email: 'pop@localhost',
      mode: 'pop3',
      username: 'pop',
      imap: null,
      pop3: { host: info.host, port: info.ports.pop3s, security: 'tls' },
      smtp: null,
      leaveOnServer: { kind: 'forever' },
      offlineFolders: [],
      checkIntervalMinutes: 10,
    };
    await store.upsertAccount(account);
    const actions = createMailActions({ store, account: () => account });
    const inbox = await store.upsertFolder({ accountId: 'pop', kind: 'local', path: 'INBOX', role: 'inbox' });
    const leftover = await store.upsertFolder({ accountId: 'pop', kind: 'server', path: 'Archive' });
    const stored = await Promise.all(
      ['first', 'second', 'third'].map(
        async (subject, index) =>
          (
            await store.insertMessage({
              folderId: inbox.id,
              source: testMessage(subject).raw,
              popUidl: `uidl-${index}`,
            })
          ).record,
      ),
    );

    await expect(actions.createFolder('pop', 'Remote', { kind: 'server' })).rejects.toSatisfy(
      expectMailError('NOT_AVAILABLE_IN_MODE', /POP3 has no server folders/),
    );
    await expect(actions.move([stored[0].id], leftover.id)).rejects.toSatisfy(
      expectMailError('NOT_AVAILABLE_IN_MODE', /POP3 cannot upload/),
    );
    await expect(actions.copy([stored[0].id], leftover.id)).rejects.toSatisfy(
      expectMailError('NOT_AVAILABLE_IN_MODE', /POP3 cannot upload/),
    );
    await expect(actions.renameFolder(leftover.id, 'Other')).rejects.toSatisfy(
      expectMailError('NOT_AVAILABLE_IN_MODE', /POP3 cannot reach/),
    );

    const receipts = await actions.createFolder('pop', 'Receipts', { kind: 'local' });
    await actions.move([stored[0].id], receipts.id);
    await actions.copy([stored[1].id], receipts.id);
    await actions.setFlags([stored[2].id], ['\\Seen', '\\Flagged']);
    expect(subjectsIn(store, receipts.id)).toEqual(['first', 'second']);
    // Still known by its UIDL after the move: it is not downloaded again.
    expect(store.getMessageRecord(stored[0].id)).toMatchObject({ popUidl: 'uidl-0', folderId: receipts.id });
    expect(store.listActions('pop')).toEqual([]);

    // Deleting here keeps the server copy unless asked (or unless the policy says "until deleted here").
    await actions.delete([stored[2].id]);
    expect(store.listActions('pop')).toEqual([]);
    await actions.delete([stored[0].id], { fromServer: true });
    account = { ...account, leaveOnServer: { kind: 'until-deleted' } };
    await actions.delete([stored[1].id]);
    expect(store.listActions('pop').map((queued) => [queued.kind, queued.payload])).toEqual([
      ['pop3-delete', { uidl: 'uidl-0' }],
      ['pop3-delete', { uidl: 'uidl-1' }],
    ]);
    expect(subjectsIn(store, inbox.id)).toEqual([]);
    expect(subjectsIn(store, receipts.id)).toEqual(['second']);
  });
});
