/**
 * The reconcile at open after a clean close: folders nothing touched since are not walked, and
 * whatever did change (another tool, a user with a file manager) is still found.
 */
import { statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStore } from './message-store';
import { buildMessage, openTestStore, temporaryProfile, testAccount } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

/** Long enough for a directory's mtime to be trusted at close (clean-close.ts RACY_MS). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 120));
}

/** A whole second in the past, so that a directory's time can be put back exactly. */
const PAST = Math.floor(Date.now() / 1000) - 60;

function backdate(folderDir: string): void {
  for (const name of ['tmp', 'new', 'cur']) utimesSync(join(folderDir, name), PAST, PAST);
}

async function profileWithMail(): Promise<{
  directory: string;
  store: MessageStore;
  inboxDir: string;
  localDir: string;
  ids: { inbox: string; local: string; onServer: string; localOnly: string };
}> {
  const profile = temporaryProfile('wb-clean-');
  cleanups.push(profile.remove);
  const store = await openTestStore(profile.directory);
  await store.upsertAccount(testAccount('imap'));
  const inbox = await store.upsertFolder({ accountId: 'imap', kind: 'server', path: 'INBOX' });
  const local = await store.upsertFolder({ accountId: 'imap', kind: 'local', path: 'Local' });
  const onServer = await store.insertMessage({
    folderId: inbox.id,
    source: buildMessage({ subject: 'on the server' }),
    imap: { uidvalidity: 3, uid: 1 },
  });
  const localOnly = await store.insertMessage({ folderId: local.id, source: buildMessage({ subject: 'only here' }) });
  return {
    directory: profile.directory,
    store,
    inboxDir: join(profile.directory, 'mail', 'imap', inbox.id),
    localDir: join(profile.directory, 'mail', 'imap', local.id),
    ids: { inbox: inbox.id, local: local.id, onServer: onServer.record.id, localOnly: localOnly.record.id },
  };
}

describe('the reconcile at open after a clean close', () => {
  it('does not walk a folder whose directories nothing changed', async () => {
    const { directory, store, inboxDir, ids } = await profileWithMail();
    backdate(inboxDir);
    store.close();
    // A file slipped into cur/ with the directory's time put back: only a walk would find it.
    writeFileSync(join(inboxDir, 'cur', '1700000000.M1P2Q3.otherhost:2,S'), buildMessage({ subject: 'hidden' }));
    backdate(inboxDir);

    const reopened = await openTestStore(directory);
    cleanups.push(() => reopened.close());
    expect(reopened.lastReconcile).toMatchObject({ indexedFiles: 0, relinkedRows: 0, removedRows: 0 });
    expect(reopened.listFolderMessages(ids.inbox).map((record) => record.subject)).toEqual(['on the server']);
  });

  it('still finds what another tool changed in a folder after the close', async () => {
    const { directory, store, inboxDir, localDir, ids } = await profileWithMail();
    const local = store.getMessageRecord(ids.localOnly);
    const inbox = store.getMessageRecord(ids.onServer);
    await settle();
    store.close();
    unlinkSync(inbox?.localPath ?? '');
    unlinkSync(local?.localPath ?? '');
    writeFileSync(join(localDir, 'new', '1700000001.M4P5Q6.otherhost'), buildMessage({ subject: 'delivered' }));

    const reopened = await openTestStore(directory);
    cleanups.push(() => reopened.close());
    expect(reopened.lastReconcile).toMatchObject({ indexedFiles: 1, headerOnlyRows: 1, removedRows: 1 });
    expect(reopened.getMessageRecord(ids.onServer)).toMatchObject({ residency: 'server', localPath: null });
    expect(reopened.getMessageRecord(ids.localOnly)).toBeNull();
    expect(reopened.listFolderMessages(ids.local).map((record) => record.subject)).toEqual(['delivered']);
    expect(statSync(inboxDir).isDirectory()).toBe(true);
  });

  it('walks every folder again when the last session did not close cleanly', async () => {
    const { directory, store, inboxDir, ids } = await profileWithMail();
    backdate(inboxDir);
    store.close();
    // An open that ends without close() (a crash) leaves no record behind for the next one.
    const crashed = await openTestStore(directory);
    writeFileSync(join(inboxDir, 'cur', '1700000002.M7P8Q9.otherhost:2,'), buildMessage({ subject: 'found' }));
    backdate(inboxDir);

    const reopened = await openTestStore(directory);
    cleanups.push(() => reopened.close());
    cleanups.push(() => crashed.close());
    expect(reopened.lastReconcile).toMatchObject({ indexedFiles: 1 });
    expect(
      reopened
        .listFolderMessages(ids.inbox)
        .map((record) => record.subject)
        .sort(),
    ).toEqual(['found', 'on the server']);
  });
});
