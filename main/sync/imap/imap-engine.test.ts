/**
 * The IMAP engine against the real test Dovecot: initial sync (headers only, bodies on open and
 * for offline folders), incremental sync on both change-tracking paths, a UIDVALIDITY change, and
 * two computers on one account seeing each other's changes through IDLE.
 */
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { runCommand } from '../../../e2e/mailserver/processes';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { SyncProgress } from '../../../shared/model';
import {
  eventually,
  folderByPath,
  openProfile,
  removeDirectory,
  sha256,
  subjectsIn,
  testMessage,
  withOtherClient,
  type TestProfile,
} from './engine-test-support';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function profileFor(...args: Parameters<typeof openProfile>): Promise<TestProfile> {
  const profile = await openProfile(...args);
  cleanups.push(() => removeDirectory(profile.directory));
  cleanups.push(() => profile.close());
  return profile;
}

function doveadm(...args: string[]): Promise<unknown> {
  return runCommand('doveadm', ['-c', info.dovecotConfig, ...args]);
}

describe('IMAP engine', () => {
  it('S1 check for new mail (IMAP): headers only, bodies on open, offline folders in the background', async () => {
    const user = await createTestUser(info);
    const projects = [1, 2, 3, 4, 5].map((index) =>
      testMessage(`project ${index}`, `Project body ${index}.\r\n8-bit: \xe4`),
    );
    const inbox = [testMessage('inbox one'), testMessage('inbox two')];
    await putMessages(
      info,
      user,
      projects.map((message) => message.raw),
      'Projects',
    );
    await putMessages(
      info,
      user,
      inbox.map((message) => message.raw),
      'INBOX',
      { flags: ['S'] },
    );
    const profile = await profileFor(info, user, { engine: { headerBatchSize: 2 } });
    const { store, account } = profile;

    await profile.engine.syncOnce();

    const folders = new Map(store.listFolderRecords(account.id).map((folder) => [folder.path, folder]));
    expect([...folders.keys()].sort()).toEqual(['Drafts', 'INBOX', 'Junk', 'Projects', 'Sent', 'Trash']);
    expect(folders.get('Sent')).toMatchObject({ role: 'sent', keepOffline: true, subscribed: true });
    expect(folders.get('Drafts')).toMatchObject({ role: 'drafts', keepOffline: true });
    expect(folders.get('Trash')).toMatchObject({ role: 'trash', keepOffline: false });
    expect(folders.get('INBOX')).toMatchObject({ role: 'inbox', keepOffline: true });
    expect(folders.get('Projects')).toMatchObject({ role: null, keepOffline: false });

    // Not kept offline: headers only, no file here.
    const projectFolder = folderByPath(store, account.id, 'Projects');
    const listed = store.listFolderMessages(projectFolder.id);
    expect(listed.map((record) => record.subject).sort()).toEqual(projects.map((_, index) => `project ${index + 1}`));
    for (const record of listed) expect(record).toMatchObject({ residency: 'server', localPath: null, sha256: null });
    // Newest first: windows of UIDs from the top, each fetched in ascending batches.
    expect(listed.map((record) => record.imap?.uid)).toEqual([4, 5, 2, 3, 1]);
    const third = listed.find((record) => record.subject === 'project 3');
    expect(third?.size).toBe(projects[2].raw.length);
    expect(third?.messageId).toBe(projects[2].messageId);

    // Progress per batch of headers, newest first: the first batch of Projects holds the highest UIDs.
    const progress = profile.events
      .filter((event) => event.name === 'syncProgress')
      .map((event) => event.payload as SyncProgress)
      .filter((event) => event.phase === 'headers' && event.folder === 'Projects');
    expect(progress.map((event) => [event.done, event.total])).toEqual([
      [2, 5],
      [4, 5],
      [5, 5],
    ]);
    expect(progress[2].bytes).toBe(projects.reduce((sum, message) => sum + message.raw.length, 0));

    // INBOX is kept for offline reading: its bodies came in the background, byte for byte.
    const inboxFolder = folderByPath(store, account.id, 'INBOX');
    const serverInbox = await readServerMessages(info, user, 'INBOX');
    const inboxRecords = store.listFolderMessages(inboxFolder.id);
    expect(inboxRecords).toHaveLength(2);
    for (const record of inboxRecords) {
      expect(record.residency).toBe('both');
      expect(record.flags).toEqual(['\\Seen']);
      expect(serverInbox.map(sha256)).toContain(record.sha256);
    }
    expect(profile.downloads()).toBe(2);

    // Opening a message fetches its body: residency both, the server's exact bytes.
    await profile.engine.fetchBodies([third?.id ?? '']);
    const opened = store.getMessageRecord(third?.id ?? '');
    expect(opened?.residency).toBe('both');
    const serverProjects = await readServerMessages(info, user, 'Projects');
    expect(opened?.sha256).toBe(sha256(serverProjects[2]));
    expect(sha256(await store.readRaw(opened?.id ?? ''))).toBe(sha256(projects[2].raw));
    expect(opened?.flags).toEqual([]);
    expect(profile.downloads()).toBe(3);

    // A second pass changes nothing and downloads nothing.
    await profile.engine.syncOnce();
    expect(store.listFolderMessages(projectFolder.id)).toHaveLength(5);
    expect(profile.downloads()).toBe(3);
  });

  it('downloads the bodies the user asks for in a few batched FETCHes, not one per message', async () => {
    const user = await createTestUser(info);
    const messages = Array.from({ length: 30 }, (_, index) =>
      testMessage(`archive ${index + 1}`, `Archived body ${index + 1}.`),
    );
    const large = testMessage('archive large', 'x'.repeat(6_000));
    await putMessages(
      info,
      user,
      [...messages, large].map((message) => message.raw),
      'Archive',
    );
    const profile = await profileFor(info, user, { engine: { smallBodyMaxBytes: 4_000 } });
    const { store, account } = profile;
    await profile.engine.syncOnce();
    const folder = folderByPath(store, account.id, 'Archive');
    const listed = store.listFolderMessages(folder.id);
    expect(listed).toHaveLength(31);
    expect(listed.every((record) => record.residency === 'server')).toBe(true);
    // Another device deletes one of them before the download.
    const deleted = listed.find((record) => record.subject === 'archive 7');
    await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('Archive');
      await client.messageDelete(String(deleted?.imap?.uid), { uid: true });
    });
    const fetchesBefore = profile.bodyFetches();

    await profile.engine.fetchBodies(listed.map((record) => record.id));

    // 30 small bodies in batches of 10 (Cancel works between them), the large one streamed alone.
    expect(profile.bodyFetches() - fetchesBefore).toBeLessThanOrEqual(4);
    const after = store.listFolderMessages(folder.id);
    expect(after.map((record) => record.subject)).not.toContain('archive 7');
    expect(after).toHaveLength(30);
    const server = new Set((await readServerMessages(info, user, 'Archive')).map(sha256));
    for (const record of after) {
      expect(record.residency).toBe('both');
      expect(server.has(record.sha256 ?? '')).toBe(true);
      expect(sha256(await store.readRaw(record.id))).toBe(record.sha256);
    }
  });

  for (const variant of [
    { name: 'CONDSTORE/QRESYNC', ignoreCapabilities: [] as string[], method: 'qresync' },
    { name: 'UID/flag comparison without CONDSTORE', ignoreCapabilities: ['CONDSTORE', 'QRESYNC'], method: 'full' },
  ]) {
    it(`S8 incremental sync (${variant.name}): another client's flags, expunges and new mail`, async () => {
      const user = await createTestUser(info);
      const messages = [1, 2, 3].map((index) => testMessage(`message ${index}`));
      await putMessages(
        info,
        user,
        messages.map((message) => message.raw),
      );
      const profile = await profileFor(info, user, { engine: { ignoreCapabilities: variant.ignoreCapabilities } });
      const { store, account } = profile;
      await profile.engine.syncOnce();
      const inbox = folderByPath(store, account.id, 'INBOX');
      expect(subjectsIn(store, inbox.id)).toEqual(['message 1', 'message 2', 'message 3']);
      expect(profile.events.some((event) => event.name === 'newMail')).toBe(false);

      const incoming = testMessage('fresh news');
      await withOtherClient(info, user, async (client) => {
        await client.mailboxOpen('INBOX');
        await client.messageFlagsAdd('1', ['\\Flagged', '\\Seen'], { uid: true });
        await client.messageDelete('2', { uid: true });
        await client.append('INBOX', incoming.raw);
      });
      await profile.engine.syncOnce();

      expect(subjectsIn(store, inbox.id)).toEqual(['fresh news', 'message 1', 'message 3']);
      const first = store.listFolderMessages(inbox.id).find((record) => record.subject === 'message 1');
      expect(first?.flags).toEqual(['\\Flagged', '\\Seen']);
      const fresh = store.listFolderMessages(inbox.id).find((record) => record.subject === 'fresh news');
      expect(fresh?.residency).toBe('both');
      expect(fresh?.sha256).toBe(sha256(incoming.raw));
      const newMail = profile.events.filter((event) => event.name === 'newMail').map((event) => event.payload);
      expect(newMail).toEqual([{ accountId: account.id, folderId: inbox.id, count: 1, subjects: ['fresh news'] }]);
      // The second pass took the path the server's capabilities allow.
      expect(new Set(profile.changeMethods)).toEqual(new Set([variant.method]));
    });
  }

  it('UIDVALIDITY change: re-mapped by Message-ID + size, no body downloaded again, local-only data kept', async () => {
    const user = await createTestUser(info);
    const messages = [1, 2, 3].map((index) => testMessage(`kept ${index}`, `Body ${index}`));
    await putMessages(
      info,
      user,
      messages.map((message) => message.raw),
      'Keep',
    );
    const profile = await profileFor(info, user, { offlineFolders: ['Keep'] });
    const { store, account } = profile;
    await profile.engine.syncOnce();
    const keep = folderByPath(store, account.id, 'Keep');
    expect(keep.keepOffline).toBe(true);
    const before = store.listFolderMessages(keep.id);
    expect(before.map((record) => record.residency)).toEqual(['both', 'both', 'both']);
    expect(profile.downloads()).toBe(3);
    // A message that exists only here (in the server folder, never uploaded), and an upload
    // queued before the server renumbers the folder.
    const localOnly = testMessage('only on this computer');
    const { record: local } = await store.insertMessage({
      folderId: keep.id,
      source: localOnly.raw,
      onServer: false,
    });
    const drafts = await profile.actions.createFolder(account.id, 'Drafts here', { kind: 'local' });
    const pending = testMessage('uploaded after the change');
    const { record: upload } = await store.insertMessage({
      folderId: drafts.id,
      source: pending.raw,
      onServer: false,
    });
    await profile.actions.move([upload.id], keep.id);
    expect(store.listActions(account.id).map((action) => action.kind)).toEqual(['imap-append']);

    // The server loses its index: the folder is recreated with the same messages, new UIDVALIDITY.
    // Dovecot derives UIDVALIDITY from the clock (seconds): recreate in a later second, as a
    // real server that lost its index would.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await doveadm('mailbox', 'delete', '-u', user.username, 'Keep');
    await doveadm('mailbox', 'create', '-u', user.username, 'Keep');
    await putMessages(info, user, [messages[2].raw, messages[0].raw, messages[1].raw], 'Keep');
    await profile.engine.syncOnce();

    const after = store.listFolderMessages(keep.id);
    const refreshed = folderByPath(store, account.id, 'Keep');
    expect(refreshed.uidvalidity).not.toBe(keep.uidvalidity);
    expect(after.map((record) => record.id).sort()).toEqual(
      [...before.map((record) => record.id), local.id, upload.id].sort(),
    );
    expect(store.getMessageRecord(upload.id)).toMatchObject({
      residency: 'both',
      imap: { uidvalidity: refreshed.uidvalidity },
    });
    expect((await readServerMessages(info, user, 'Keep')).map(sha256)).toContain(sha256(pending.raw));
    for (const record of before) {
      const now = store.getMessageRecord(record.id);
      expect(now?.imap?.uidvalidity).toBe(refreshed.uidvalidity);
      expect(now?.residency).toBe('both');
      expect(now?.sha256).toBe(record.sha256);
    }
    // New UIDs follow the new order on the server: "kept 3" is UID 1 now.
    expect(store.getMessageRecord(before[2].id)?.imap?.uid).toBe(1);
    expect(store.getMessageRecord(local.id)).toMatchObject({ residency: 'local', imap: null });
    expect(profile.downloads()).toBe(3);
  });

  it('S15 shared account / S8 several computers: two profiles see flags, deletions, new mail and folders via IDLE', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, [testMessage('shared 1').raw, testMessage('shared 2').raw]);
    const first = await profileFor(info, user, { engine: { pollIntervalMs: 1_000 } });
    const second = await profileFor(info, user, { engine: { pollIntervalMs: 1_000 } });
    await first.engine.syncOnce();
    await second.engine.syncOnce();
    first.engine.startWatching();
    second.engine.startWatching();
    const inboxOf = (profile: TestProfile) => folderByPath(profile.store, profile.account.id, 'INBOX');
    const recordOf = (profile: TestProfile, subject: string) =>
      profile.store.listFolderMessages(inboxOf(profile).id).find((record) => record.subject === subject) ?? null;
    const PUSH_MS = 5_000;

    // A flag set on the first computer appears on the second.
    await first.actions.setFlags([recordOf(first, 'shared 1')?.id ?? ''], ['\\Flagged']);
    await eventually(() => recordOf(second, 'shared 1')?.flags.includes('\\Flagged') === true, PUSH_MS, 'the flag');

    // A deletion on the second computer (to Trash) disappears from the first one's INBOX.
    await second.actions.delete([recordOf(second, 'shared 2')?.id ?? '']);
    await eventually(() => recordOf(first, 'shared 2') === null, PUSH_MS, 'the deletion');

    // New mail from outside reaches both, with a newMail event.
    const news = testMessage('shared news');
    await withOtherClient(info, user, async (client) => {
      await client.append('INBOX', news.raw);
    });
    await eventually(
      () => recordOf(first, 'shared news') !== null && recordOf(second, 'shared news') !== null,
      PUSH_MS,
      'the new mail',
    );
    await eventually(() => second.events.some((event) => event.name === 'newMail'), PUSH_MS, 'newMail');

    // A folder made on one computer shows on the other (polled), with Trash holding the deleted message.
    await first.actions.createFolder(first.account.id, 'Together', { kind: 'server' });
    await eventually(
      () => second.store.findFolder(second.account.id, 'server', 'Together') !== null,
      PUSH_MS,
      'the folder',
    );
    const trash = folderByPath(first.store, first.account.id, 'Trash');
    await eventually(() => subjectsIn(first.store, trash.id).includes('shared 2'), PUSH_MS, 'Trash');
  });

  it('a sync asked for right after Cancel runs a pass of its own, not the cancelled one queued before it', async () => {
    const user = await createTestUser(info);
    await putMessages(
      info,
      user,
      Array.from({ length: 120 }, (_, index) => testMessage(`queued ${index}`).raw),
      'INBOX',
    );
    const profile = await profileFor(info, user, { engine: { headerBatchSize: 20 } });
    const { engine, store, account } = profile;
    const listingHeaders = () =>
      profile.events.some(
        (event) => event.name === 'syncProgress' && (event.payload as { phase?: string }).phase === 'headers',
      );

    // One pass lists the headers, a second one waits behind it…
    const first = engine.syncOnce();
    await vi.waitFor(() => expect(listingHeaders()).toBe(true), { timeout: 20_000, interval: 5 });
    const second = engine.syncOnce();
    await new Promise((resolve) => setImmediate(resolve));
    // …the user presses Cancel, and at once asks for a sync again.
    const cancelling = engine.cancel();
    const third = engine.syncOnce();
    await expect(first).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(second).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await cancelling).toBe(true);
    await third;
    expect(store.listFolderMessages(folderByPath(store, account.id, 'INBOX').id)).toHaveLength(120);
  });
});
