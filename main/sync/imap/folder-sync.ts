/**
 * The server's folder tree into the store: one `server` folder per selectable mailbox, with its
 * SPECIAL-USE role (RFC 6154) and subscription (RFC 3501 section 6.3.6). "Keep for offline" is
 * seeded once, when a folder first appears: from the account's `offlineFolders` and the roles
 * whose mail people expect to read on a plane (INBOX, Sent, Drafts); after that it is the user's
 * setting and sync never changes it.
 *
 * Folders the server no longer has are removed here too, except those the offline queue still
 * has to create or rename on the server. Messages that exist only on this computer are never
 * deleted with such a folder: they are moved to a local folder of the same name first.
 */
import type { Account, FolderRole } from '../../../shared/model';
import type { ImapSession, RemoteFolder } from '../../protocols/imap/imap-mailbox';
import type { FolderRecord, MessageStore } from '../../store/message-store';

/** Roles kept for offline reading by default (the "INBOX, Sent, Drafts"). */
export const OFFLINE_ROLES: ReadonlySet<FolderRole> = new Set(['inbox', 'sent', 'drafts']);

/** Folder paths the offline queue still has to change on the server. */
export interface PendingFolderChanges {
  /** Created or renamed-to here, not yet on the server: keep them although the server lacks them. */
  appearing: ReadonlySet<string>;
  /** Deleted or renamed-from here, still on the server: do not bring them back. */
  disappearing: ReadonlySet<string>;
}

function under(path: string, roots: ReadonlySet<string>, delimiter: string): boolean {
  if (roots.has(path)) return true;
  for (const root of roots) if (delimiter && path.startsWith(root + delimiter)) return true;
  return false;
}

function syncOrder(folder: FolderRecord): number {
  if (folder.role === 'inbox') return 0;
  if (folder.role !== null) return 1;
  return 2;
}

/**
 * Moves a vanished folder's local-only messages to a local folder, then removes it. Returns the
 * local folder when one was needed.
 */
export async function removeVanishedFolder(store: MessageStore, folder: FolderRecord): Promise<FolderRecord | null> {
  const localOnly = store.listFolderMessages(folder.id).filter((message) => !message.onServer && message.localPath);
  let rescue: FolderRecord | null = null;
  if (localOnly.length > 0) {
    rescue = await store.upsertFolder({
      accountId: folder.accountId,
      kind: 'local',
      path: folder.path,
      name: folder.name,
      delimiter: folder.delimiter,
    });
    for (const message of localOnly) await store.moveMessage(message.id, rescue.id, { onServer: false });
  }
  await store.deleteFolder(folder.id);
  return rescue;
}

/**
 * Lists the server's folders and brings the store in line. Returns the server folders whose
 * messages are to be synchronized, INBOX first, then folders with a role.
 */
export async function syncFolderTree(
  session: ImapSession,
  store: MessageStore,
  account: Account,
  pending: () => PendingFolderChanges,
): Promise<FolderRecord[]> {
  const remote = await session.listFolders();
  const changes = pending();
  const selectable = remote.filter((folder) => folder.selectable);
  const remotePaths = new Set(selectable.map((folder) => folder.path));
  const offlinePaths = new Set(account.offlineFolders);
  const delimiterOf = (folder: RemoteFolder): string => folder.delimiter || '/';

  for (const entry of selectable) {
    if (under(entry.path, changes.disappearing, delimiterOf(entry))) continue;
    const existing = store.findFolder(account.id, 'server', entry.path);
    if (existing) {
      await store.upsertFolder({
        accountId: account.id,
        kind: 'server',
        path: entry.path,
        name: entry.name,
        delimiter: delimiterOf(entry),
        role: entry.role,
        subscribed: entry.subscribed,
      });
      continue;
    }
    await store.upsertFolder({
      accountId: account.id,
      kind: 'server',
      path: entry.path,
      name: entry.name,
      delimiter: delimiterOf(entry),
      role: entry.role,
      subscribed: entry.subscribed,
      keepOffline: offlinePaths.has(entry.path) || (entry.role !== null && OFFLINE_ROLES.has(entry.role)),
    });
  }

  const fresh = pending();
  for (const folder of store.listFolderRecords(account.id)) {
    if (folder.kind !== 'server' || remotePaths.has(folder.path)) continue;
    if (under(folder.path, fresh.appearing, folder.delimiter)) continue;
    await removeVanishedFolder(store, folder);
  }

  return store
    .listFolderRecords(account.id)
    .filter((folder) => folder.kind === 'server' && remotePaths.has(folder.path))
    .sort((left, right) => syncOrder(left) - syncOrder(right) || left.path.localeCompare(right.path));
}
