/**
 * Resync against the real test Dovecot (CONDSTORE + QRESYNC, RFC 7162): a pass after another
 * client's changes picks up exactly those, a pass with nothing changed on the server asks the
 * server for no messages and reads none from the index, and the shortcut never hides an expunge,
 * a renumbered folder (UIDVALIDITY) or a change a failed pass left behind.
 */
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { runCommand } from '../../../e2e/mailserver/processes';
import { createTestUser, putMessages } from '../../../e2e/mailserver/test-users';
import { connectImap } from '../../protocols/imap/connect-imap';
import type { ImapConnectOptions, ImapSession } from '../../protocols/imap/imap-mailbox';
import type { MessageStore } from '../../store/message-store';
import {
  folderByPath,
  openProfile,
  removeDirectory,
  subjectsIn,
  testMessage,
  withOtherClient,
  type ProfileOptions,
  type TestProfile,
} from './engine-test-support';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  vi.restoreAllMocks();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** What the engine asked the server for, message by message (not counting bodies). */
interface Requests {
  changes: string[];
  headers: string[];
}

async function profileFor(
  user: Parameters<typeof openProfile>[1],
  options: ProfileOptions = {},
): Promise<TestProfile & { requests: Requests }> {
  const requests: Requests = { changes: [], headers: [] };
  const connect = async (connectOptions: ImapConnectOptions): Promise<ImapSession> => {
    const session = await connectImap(connectOptions);
    const fetchChanges = session.fetchChanges.bind(session);
    session.fetchChanges = (path, since) => {
      requests.changes.push(path);
      return fetchChanges(path, since);
    };
    const fetchHeaders = session.fetchHeaders.bind(session);
    session.fetchHeaders = (path, ...rest) => {
      requests.headers.push(path);
      return fetchHeaders(path, ...rest);
    };
    return session;
  };
  const profile = await openProfile(info, user, { ...options, engine: { ...options.engine, connect } });
  cleanups.push(() => removeDirectory(profile.directory));
  cleanups.push(() => profile.close());
  return { ...profile, requests };
}

function clear(requests: Requests): void {
  requests.changes.length = 0;
  requests.headers.length = 0;
}

/** Spies on the index reads the message sync makes. */
function indexReads(store: MessageStore): () => number {
  const spies = [
    vi.spyOn(store, 'listFolderSyncRows'),
    vi.spyOn(store, 'listImapFlags'),
    vi.spyOn(store, 'listImapUids'),
    vi.spyOn(store, 'findImapFlags'),
    vi.spyOn(store, 'listRemapCandidates'),
    vi.spyOn(store, 'listFolderMessages'),
    vi.spyOn(store, 'countImapMessages'),
    vi.spyOn(store, 'findByImapIdentity'),
  ];
  return () => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
}

function flagsByUid(store: MessageStore, folderId: string): Map<number, string[]> {
  return new Map(store.listFolderMessages(folderId).map((record) => [record.imap?.uid ?? 0, record.flags]));
}

describe('IMAP resync with CONDSTORE/QRESYNC', () => {
  it('one pass takes exactly another client’s flag changes, expunges and new messages', async () => {
    const user = await createTestUser(info);
    const messages = Array.from({ length: 12 }, (_, index) => testMessage(`message ${index + 1}`));
    await putMessages(
      info,
      user,
      messages.map((message) => message.raw),
    );
    const profile = await profileFor(user);
    const { store, account } = profile;
    await profile.engine.syncOnce();
    const inbox = folderByPath(store, account.id, 'INBOX');
    const before = new Map(store.listFolderMessages(inbox.id).map((record) => [record.imap?.uid ?? 0, record]));
    expect(before.size).toBe(12);

    const fresh = [testMessage('fresh one'), testMessage('fresh two')];
    await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('INBOX');
      await client.messageFlagsAdd('2,5', ['\\Flagged'], { uid: true });
      await client.messageFlagsAdd('7', ['\\Seen'], { uid: true });
      await client.messageDelete('3,9', { uid: true });
      for (const message of fresh) await client.append('INBOX', message.raw);
    });
    clear(profile.requests);
    await profile.engine.syncOnce();

    // Only INBOX changed: the other folders were settled by one EXAMINE each.
    expect(profile.requests.changes).toEqual(['INBOX']);
    expect(profile.changeMethods.at(-1)).toBe('qresync');
    const flags = flagsByUid(store, inbox.id);
    expect([...flags.keys()].sort((left, right) => left - right)).toEqual([1, 2, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14]);
    for (const [uid, value] of flags) {
      if (uid === 2 || uid === 5) expect(value).toEqual(['\\Flagged']);
      else if (uid === 7) expect(value).toEqual(['\\Seen']);
      else expect(value).toEqual([]);
    }
    // The messages we had are the same rows (nothing was listed again), the new ones are new rows.
    for (const uid of [1, 2, 4, 5, 6, 7, 8, 10, 11, 12]) {
      expect(store.findByImapIdentity(inbox.id, { uidvalidity: inbox.uidvalidity ?? 0, uid })?.id).toBe(
        before.get(uid)?.id,
      );
    }
    expect(subjectsIn(store, inbox.id).filter((subject) => subject.startsWith('fresh'))).toEqual([
      'fresh one',
      'fresh two',
    ]);
    const newMail = profile.events.filter((event) => event.name === 'newMail').map((event) => event.payload);
    expect(newMail).toEqual([
      { accountId: account.id, folderId: inbox.id, count: 2, subjects: ['fresh one', 'fresh two'] },
    ]);

    // And the pass after that has nothing left to do.
    clear(profile.requests);
    await profile.engine.syncOnce();
    expect(profile.requests).toEqual({ changes: [], headers: [] });
    expect(flagsByUid(store, inbox.id)).toEqual(flags);
  });

  it('a pass with nothing changed on the server asks for no messages and reads none from the index', async () => {
    const user = await createTestUser(info);
    await putMessages(
      info,
      user,
      [1, 2, 3, 4].map((index) => testMessage(`steady ${index}`).raw),
    );
    await putMessages(info, user, [testMessage('elsewhere').raw], 'Projects');
    const profile = await profileFor(user);
    const { store, account } = profile;
    await profile.engine.syncOnce();
    const inbox = folderByPath(store, account.id, 'INBOX');
    const projects = folderByPath(store, account.id, 'Projects');
    const lastSync = projects.lastSyncAt;

    clear(profile.requests);
    const reads = indexReads(store);
    await profile.engine.syncOnce();
    expect(profile.requests).toEqual({ changes: [], headers: [] });
    expect(reads()).toBe(0);
    expect(subjectsIn(store, inbox.id)).toEqual(['steady 1', 'steady 2', 'steady 3', 'steady 4']);
    expect(subjectsIn(store, projects.id)).toEqual(['elsewhere']);
    expect(folderByPath(store, account.id, 'Projects').lastSyncAt).not.toBe(lastSync);
  });

  it('CONDSTORE without QRESYNC: an expunge alone is still seen', async () => {
    const user = await createTestUser(info);
    await putMessages(
      info,
      user,
      [1, 2, 3].map((index) => testMessage(`kept ${index}`).raw),
      'Archive',
    );
    const profile = await profileFor(user, { engine: { ignoreCapabilities: ['QRESYNC'] } });
    const { store, account } = profile;
    await profile.engine.syncOnce();
    await profile.engine.syncOnce();
    const archive = folderByPath(store, account.id, 'Archive');
    expect(subjectsIn(store, archive.id)).toEqual(['kept 1', 'kept 2', 'kept 3']);

    await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('Archive');
      await client.messageDelete('2', { uid: true });
    });
    clear(profile.requests);
    await profile.engine.syncOnce();
    expect(subjectsIn(store, archive.id)).toEqual(['kept 1', 'kept 3']);
    expect(profile.requests.changes).toEqual(['Archive']);
    expect(profile.changeMethods.at(-1)).toBe('condstore');
  });

  it('a renumbered folder (new UIDVALIDITY) is re-mapped after passes that took the shortcut', async () => {
    const user = await createTestUser(info);
    const messages = [1, 2, 3].map((index) => testMessage(`renumbered ${index}`));
    await putMessages(
      info,
      user,
      messages.map((message) => message.raw),
      'Keep',
    );
    const profile = await profileFor(user);
    const { store, account } = profile;
    await profile.engine.syncOnce();
    await profile.engine.syncOnce();
    const keep = folderByPath(store, account.id, 'Keep');
    const before = store.listFolderMessages(keep.id);

    // Dovecot's UIDVALIDITY is the clock in seconds: recreate the folder in a later second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await runCommand('doveadm', ['-c', info.dovecotConfig, 'mailbox', 'delete', '-u', user.username, 'Keep']);
    await runCommand('doveadm', ['-c', info.dovecotConfig, 'mailbox', 'create', '-u', user.username, 'Keep']);
    await putMessages(info, user, [messages[2].raw, messages[0].raw, messages[1].raw], 'Keep');
    await profile.engine.syncOnce();

    const refreshed = folderByPath(store, account.id, 'Keep');
    expect(refreshed.uidvalidity).not.toBe(keep.uidvalidity);
    const after = store.listFolderMessages(keep.id);
    expect(after.map((record) => record.id).sort()).toEqual(before.map((record) => record.id).sort());
    for (const record of after) expect(record.imap?.uidvalidity).toBe(refreshed.uidvalidity);
    expect(after.find((record) => record.imap?.uid === 1)?.subject).toBe('renumbered 3');
  });

  it('a pass that failed halfway does not let the next one skip the changes it had not stored', async () => {
    const user = await createTestUser(info);
    await putMessages(
      info,
      user,
      [1, 2, 3].map((index) => testMessage(`flag me ${index}`).raw),
      'Projects',
    );
    const profile = await profileFor(user);
    const { store, account } = profile;
    await profile.engine.syncOnce();
    const projects = folderByPath(store, account.id, 'Projects');

    await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('Projects');
      await client.messageFlagsAdd('1:3', ['\\Flagged'], { uid: true });
    });
    // The store refuses the flag changes (say the disk filled up): the folder's pass stops there.
    vi.spyOn(store, 'setServerFlags').mockRejectedValueOnce(new Error('disk full'));
    await expect(profile.engine.syncOnce()).rejects.toThrow();
    expect([...flagsByUid(store, projects.id).values()]).toEqual([[], [], []]);
    vi.restoreAllMocks();

    await profile.engine.syncOnce();
    expect([...flagsByUid(store, projects.id).values()]).toEqual([['\\Flagged'], ['\\Flagged'], ['\\Flagged']]);
  });
});
