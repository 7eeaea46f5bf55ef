/**
 * A POP3 account's folders all live on this computer (SEMANTICS S3, S4, S7, S12): POP3 reaches
 * only the server's INBOX (RFC 1939 §1: one maildrop), so downloads land in a local INBOX, and
 * Sent, Drafts and Trash are local folders too.
 */
import type { FolderRole } from '../../../shared/model';
import type { FolderRecord, MessageStore } from '../../store/message-store';

/** The folders every POP3 account has, by role, with the path each gets when it must be created. */
export const LOCAL_FOLDERS: ReadonlyArray<{ role: FolderRole; path: string }> = [
  { role: 'inbox', path: 'INBOX' },
  { role: 'sent', path: 'Sent' },
  { role: 'drafts', path: 'Drafts' },
  { role: 'trash', path: 'Trash' },
];

/**
 * Creates the local folders that are missing and returns the inbox. A local folder that already
 * has the role (perhaps renamed by the user) is kept; server folders from IMAP mode do not count,
 * POP3 cannot reach them.
 */
export async function ensureLocalFolders(store: MessageStore, accountId: string): Promise<FolderRecord> {
  const local = store.listFolderRecords(accountId).filter((folder) => folder.kind === 'local');
  let inbox = local.find((folder) => folder.role === 'inbox') ?? null;
  for (const { role, path } of LOCAL_FOLDERS) {
    if (local.some((folder) => folder.role === role)) continue;
    const created = await store.upsertFolder({ accountId, kind: 'local', path, role });
    if (role === 'inbox') inbox = created;
  }
  if (!inbox) throw new Error('unreachable: the inbox was created above');
  return inbox;
}
