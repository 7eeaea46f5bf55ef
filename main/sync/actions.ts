/**
 * What the user does to mail, for both modes (SEMANTICS S3–S7). Every action changes the local
 * store first, so the UI shows the result at once and offline (S2); in IMAP mode the same store
 * call queues the server operation in the same transaction (server-actions.ts), and the IMAP
 * engine replays the queue when it can reach the server (RFC 4549).
 *
 * IMAP mode: flags, moves, copies and deletions of server messages go to the server; local
 * folders (kind 'local') hold messages only on this computer; moving or copying between a local
 * folder and a server folder is the transfer of S5 (upload = APPEND, download = fetch + store,
 * and a move then removes the server copy).
 *
 * POP3 mode: POP3 reaches one thing, the server's INBOX (RFC 1939 section 1), so folders are
 * local, moves and copies stay on this computer, and whatever needs server folders or upload is
 * refused with NOT_AVAILABLE_IN_MODE and a sentence saying why (S5, S12). Deleting removes the
 * local copy; with `fromServer`, or with leave-on-server "until deleted here", the POP3 engine
 * also deletes the server copy (DELE) in its next session (S6, S10).
 */
import { createHash } from 'node:crypto';
import { MailError } from '../../shared/errors';
import type { Account, FolderView } from '../../shared/model';
import type { FolderRecord, MessageRecord, MessageStore, NewAction } from '../store/message-store';
import { normalizeFlags } from '../store/records';
import type { ImapAppendPayload, ImapMessageRef, ServerAction } from './server-actions';

export interface ActionContext {
  store: MessageStore;
  /** The account as saved now (mode, leave-on-server policy). */
  account(accountId: string): Account | Promise<Account>;
  /**
   * Makes message bodies local (the account's engine fetchBodies). Used before a header-only
   * message is moved or copied to a local folder; without it such a move is refused.
   */
  fetchBodies?(accountId: string, messageIds: readonly string[]): Promise<void>;
}

export interface NewFolderOptions {
  parentId?: string | null;
  kind: 'server' | 'local';
}

/** The user actions the service calls (both modes). */
export interface UserActions {
  setFlags(messageIds: readonly string[], add?: readonly string[], remove?: readonly string[]): Promise<void>;
  /** Marks every unread message of the folder read; returns how many changed. */
  markAllRead(folderId: string): Promise<number>;
  move(messageIds: readonly string[], targetFolderId: string): Promise<void>;
  copy(messageIds: readonly string[], targetFolderId: string): Promise<void>;
  /** POP3 mode: `fromServer` also deletes the copy left on the server (S6). */
  delete(messageIds: readonly string[], options?: { fromServer?: boolean }): Promise<void>;
  createFolder(accountId: string, name: string, options: NewFolderOptions): Promise<FolderView>;
  renameFolder(folderId: string, newName: string): Promise<void>;
  deleteFolder(folderId: string): Promise<void>;
  /** S7: files a stored message (e.g. just sent) in a server folder and queues its APPEND. */
  appendToServerFolder(messageId: string, folderPath: string): Promise<void>;
  /**
   * Stores a draft (flag \Draft) in a Drafts folder; in a server folder its APPEND is queued in the
   * same transaction. `replaces`, the previous version, is removed after it (on the server: queued
   * after the APPEND, so the server never lacks the draft).
   */
  storeDraft(folderId: string, raw: Buffer, replaces: string | null): Promise<MessageRecord>;
  /** Removes a draft for good (sent or discarded): not to Trash; on the server queued as an expunge. */
  discardDraft(messageId: string): Promise<void>;
}

/** Longest folder name accepted (servers limit mailbox names; Dovecot: 255 bytes per path). */
const MAX_FOLDER_NAME_CHARS = 200;
/** RFC 3501 flag: "\" atom or atom (no atom-specials). */
const FLAG_PATTERN = /^\\?[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~[]+$/;
const LOCAL_DELIMITER = '/';

const POP3_NO_SERVER_FOLDERS =
  'POP3 has no server folders: it can only download the server’s INBOX. Create the folder on this computer (a local folder) instead, or switch the account to IMAP.';
const POP3_NO_UPLOAD =
  'POP3 cannot upload messages: it can only download from the server’s INBOX. Keep the message in a folder on this computer, or switch the account to IMAP to store it on the server.';
const POP3_SERVER_FOLDER_UNREACHABLE =
  'This folder is on the IMAP server, which POP3 cannot reach (POP3 only sees the INBOX). Copy the message to a local folder instead, or switch the account to IMAP.';

function action(accountId: string, server: ServerAction): NewAction {
  return { accountId, kind: server.kind, payload: server.payload };
}

/** How the server knows a message now (see ImapMessageRef). */
export function messageRef(record: MessageRecord, folder: FolderRecord): ImapMessageRef {
  return {
    messageId: record.id,
    folderPath: folder.path,
    uidValidity: record.imap?.uidvalidity ?? null,
    uid: record.imap?.uid ?? null,
    messageIdHeader: record.messageId,
    size: record.size,
  };
}

/**
 * The queued APPEND of a stored message to a server folder. With `messageId: null` the row is
 * being written in the same transaction (insertMessage/copyMessage `enqueue`) and is found by
 * its SHA-256 in that folder when the queue is replayed.
 */
export function imapAppendAction(
  accountId: string,
  target: { messageId: string | null; sha256: string | null; messageIdHeader: string | null; size: number },
  toPath: string,
  flags: readonly string[],
): NewAction {
  const payload: ImapAppendPayload = { ...target, toPath, flags: normalizeFlags(flags) };
  return action(accountId, { kind: 'imap-append', payload });
}

/** The server's Sent folder (SPECIAL-USE \Sent, RFC 6154) of an IMAP account, if the server has one. */
export function serverSentFolder(store: MessageStore, accountId: string): FolderRecord | null {
  return (
    store.listFolderRecords(accountId).find((folder) => folder.kind === 'server' && folder.role === 'sent') ?? null
  );
}

function validateFlags(flags: readonly string[] | undefined): string[] {
  const list = flags ?? [];
  if (!Array.isArray(list)) throw new MailError('INVALID_INPUT', 'Flags must be a list.');
  for (const flag of list) {
    if (typeof flag !== 'string' || !FLAG_PATTERN.test(flag) || flag.toLowerCase() === '\\recent') {
      throw new MailError('INVALID_INPUT', `“${String(flag)}” is not a flag that can be set on a message.`);
    }
  }
  return [...list];
}

function validateFolderName(name: unknown, delimiter: string): string {
  if (typeof name !== 'string') throw new MailError('INVALID_INPUT', 'A folder needs a name.');
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new MailError('INVALID_INPUT', 'A folder needs a name.');
  if (trimmed.length > MAX_FOLDER_NAME_CHARS) {
    throw new MailError('INVALID_INPUT', `A folder name can have at most ${MAX_FOLDER_NAME_CHARS} characters.`);
  }
  // RFC 3501 section 5.1: "%" and "*" are LIST wildcards, and the delimiter separates levels.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f%*]/.test(trimmed) || (delimiter && trimmed.includes(delimiter))) {
    throw new MailError(
      'INVALID_INPUT',
      `A folder name cannot contain control characters, “%”, “*”${delimiter ? ` or “${delimiter}”` : ''}.`,
    );
  }
  if (trimmed.toUpperCase() === 'INBOX') throw new MailError('INVALID_INPUT', 'INBOX is a reserved folder name.');
  return trimmed;
}

function parentPath(folder: FolderRecord): string | null {
  if (!folder.delimiter) return null;
  const index = folder.path.lastIndexOf(folder.delimiter);
  return index > 0 ? folder.path.slice(0, index) : null;
}

function isPendingUpload(record: MessageRecord): boolean {
  // In a server folder, not on the server yet: an APPEND is queued (or failed) for it.
  return record.imap === null && !record.onServer;
}

export class MailActions implements UserActions {
  constructor(private readonly context: ActionContext) {}

  private get store(): MessageStore {
    return this.context.store;
  }

  private requireMessage(messageId: string): MessageRecord {
    const record = typeof messageId === 'string' ? this.store.getMessageRecord(messageId) : null;
    if (!record) throw new MailError('NOT_FOUND', 'The message was not found. It may have been deleted meanwhile.');
    return record;
  }

  private requireFolder(folderId: string): FolderRecord {
    const folder = typeof folderId === 'string' ? this.store.getFolder(folderId) : null;
    if (!folder) throw new MailError('NOT_FOUND', 'The folder was not found. It may have been deleted meanwhile.');
    return folder;
  }

  private async account(accountId: string): Promise<Account> {
    return this.context.account(accountId);
  }

  private trashFolder(accountId: string): FolderRecord | null {
    return (
      this.store.listFolderRecords(accountId).find((folder) => folder.kind === 'server' && folder.role === 'trash') ??
      null
    );
  }

  /** The server's delimiter as its folder list reported it (RFC 3501 section 6.3.8). */
  private serverDelimiter(accountId: string): string {
    const folders = this.store.listFolderRecords(accountId).filter((folder) => folder.kind === 'server');
    return (folders.find((folder) => folder.role === 'inbox') ?? folders[0])?.delimiter ?? '/';
  }

  /** Downloads header-only messages before they go to a local folder (the "download" of S5). */
  private async ensureLocal(record: MessageRecord): Promise<MessageRecord> {
    if (record.localPath !== null) return record;
    if (!this.context.fetchBodies) {
      throw new MailError(
        'INVALID_INPUT',
        `Only the headers of “${record.subject || 'this message'}” are on this computer. Download it first.`,
      );
    }
    await this.context.fetchBodies(record.accountId, [record.id]);
    const fetched = this.requireMessage(record.id);
    if (fetched.localPath === null) {
      throw new MailError('NOT_FOUND', `“${record.subject || 'This message'}” could not be downloaded.`);
    }
    return fetched;
  }

  // ---- flags ----------------------------------------------------------------------------------

  async setFlags(
    messageIds: readonly string[],
    addFlags: readonly string[] = [],
    removeFlags: readonly string[] = [],
  ): Promise<void> {
    const add = validateFlags(addFlags);
    const remove = validateFlags(removeFlags);
    const removeLower = new Set(remove.map((flag) => flag.toLowerCase()));
    for (const messageId of messageIds) {
      const record = this.requireMessage(messageId);
      const folder = this.requireFolder(record.folderId);
      const account = await this.account(record.accountId);
      const current = normalizeFlags(record.flags);
      const next = normalizeFlags([...current.filter((flag) => !removeLower.has(flag.toLowerCase())), ...add]);
      const currentLower = new Set(current.map((flag) => flag.toLowerCase()));
      const nextLower = new Set(next.map((flag) => flag.toLowerCase()));
      const added = next.filter((flag) => !currentLower.has(flag.toLowerCase()));
      const removed = current.filter((flag) => !nextLower.has(flag.toLowerCase()));
      if (added.length === 0 && removed.length === 0) continue;
      const toServer = account.mode === 'imap' && folder.kind === 'server' && !isPendingUpload(record);
      await this.store.setFlags(record.id, next, {
        enqueue: toServer
          ? action(record.accountId, {
              kind: 'imap-flags',
              payload: { ...messageRef(record, folder), add: added, remove: removed },
            })
          : undefined,
      });
    }
  }

  /** Marks every unread message of the folder read; returns how many changed. */
  async markAllRead(folderId: string): Promise<number> {
    this.requireFolder(folderId);
    const unread = this.store
      .listFolderMessages(folderId)
      .filter((record) => !record.flags.includes('\\Seen'))
      .map((record) => record.id);
    await this.setFlags(unread, ['\\Seen']);
    return unread.length;
  }

  // ---- moving and copying -------------------------------------------------------------------------

  async move(messageIds: readonly string[], targetFolderId: string): Promise<void> {
    const target = this.requireFolder(targetFolderId);
    for (const messageId of messageIds) {
      let record = this.requireMessage(messageId);
      const source = this.requireFolder(record.folderId);
      if (source.id === target.id) continue;
      if (source.accountId !== target.accountId) {
        throw new MailError('INVALID_INPUT', 'Messages can be moved between folders of the same account only.');
      }
      const account = await this.account(record.accountId);
      if (account.mode === 'pop3') {
        if (target.kind === 'server') throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_NO_UPLOAD);
        if (source.kind === 'server') throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_SERVER_FOLDER_UNREACHABLE);
        await this.store.moveMessage(record.id, target.id);
        continue;
      }
      if (source.kind === 'local' && target.kind === 'local') {
        await this.store.moveMessage(record.id, target.id);
      } else if (source.kind === 'local') {
        // Upload (S5): APPEND to the server folder; the row learns its UID from APPENDUID.
        await this.store.moveMessage(record.id, target.id, {
          onServer: false,
          enqueue: imapAppendAction(record.accountId, this.appendTarget(record), target.path, record.flags),
        });
      } else if (isPendingUpload(record)) {
        // Not on the server yet: the queued APPEND follows the row to wherever it is at replay time.
        await this.store.moveMessage(record.id, target.id, { onServer: false });
      } else if (target.kind === 'server') {
        await this.store.moveMessage(record.id, target.id, {
          onServer: true,
          enqueue: action(record.accountId, {
            kind: 'imap-move',
            payload: { ...messageRef(record, source), toPath: target.path },
          }),
        });
      } else {
        // Download (S5): the bytes come here, then the server copy is removed.
        record = await this.ensureLocal(record);
        await this.store.moveMessage(record.id, target.id, {
          onServer: false,
          enqueue: action(record.accountId, {
            kind: 'imap-delete',
            payload: { ...messageRef(record, source), expunge: true, trashPath: null },
          }),
        });
      }
    }
  }

  private appendTarget(record: MessageRecord): {
    messageId: string;
    sha256: string | null;
    messageIdHeader: string | null;
    size: number;
  } {
    return { messageId: record.id, sha256: record.sha256, messageIdHeader: record.messageId, size: record.size };
  }

  async copy(messageIds: readonly string[], targetFolderId: string): Promise<void> {
    const target = this.requireFolder(targetFolderId);
    for (const messageId of messageIds) {
      let record = this.requireMessage(messageId);
      const source = this.requireFolder(record.folderId);
      if (source.accountId !== target.accountId) {
        throw new MailError('INVALID_INPUT', 'Messages can be copied between folders of the same account only.');
      }
      const account = await this.account(record.accountId);
      if (account.mode === 'pop3') {
        if (target.kind === 'server') throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_NO_UPLOAD);
        await this.store.copyMessage(record.id, target.id, { onServer: false });
        continue;
      }
      if (target.kind === 'local') {
        record = await this.ensureLocal(record);
        await this.store.copyMessage(record.id, target.id, { onServer: false });
        continue;
      }
      if (source.kind === 'local' || isPendingUpload(record)) {
        await this.store.copyMessage(record.id, target.id, {
          onServer: false,
          enqueue: imapAppendAction(
            record.accountId,
            { messageId: null, sha256: record.sha256, messageIdHeader: record.messageId, size: record.size },
            target.path,
            record.flags,
          ),
        });
        continue;
      }
      // Server to server: COPY on the server (RFC 3501 section 6.4.7); the local copy, when the
      // bytes are here, learns its UID from COPYUID (RFC 4315).
      if (record.localPath !== null && record.sha256 !== null) {
        await this.store.copyMessage(record.id, target.id, {
          onServer: false,
          enqueue: action(record.accountId, {
            kind: 'imap-copy',
            payload: { ...messageRef(record, source), toPath: target.path, copy: { sha256: record.sha256 } },
          }),
        });
      } else {
        // Only headers here: the copy appears with the next sync of the target folder.
        this.store.enqueueAction(
          action(record.accountId, {
            kind: 'imap-copy',
            payload: { ...messageRef(record, source), toPath: target.path, copy: null },
          }),
        );
      }
    }
  }

  /**
   * Files a stored message in a server folder (S7: the outbox puts a sent message in the server's
   * Sent folder this way): moves it there unless it is there already, and queues the APPEND.
   */
  async appendToServerFolder(messageId: string, folderPath: string): Promise<void> {
    const record = this.requireMessage(messageId);
    const account = await this.account(record.accountId);
    if (account.mode !== 'imap') throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_NO_UPLOAD);
    const target = this.store.findFolder(record.accountId, 'server', folderPath);
    if (!target) throw new MailError('NOT_FOUND', `The folder ${folderPath} does not exist on the server.`);
    if (record.imap !== null) return;
    const append = imapAppendAction(record.accountId, this.appendTarget(record), target.path, record.flags);
    if (record.folderId === target.id) {
      this.store.enqueueAction(append);
      return;
    }
    await this.store.moveMessage(record.id, target.id, { onServer: false, enqueue: append });
  }

  // ---- drafts -------------------------------------------------------------------------------------

  async storeDraft(folderId: string, raw: Buffer, replaces: string | null): Promise<MessageRecord> {
    const folder = this.requireFolder(folderId);
    const account = await this.account(folder.accountId);
    const flags = ['\\Draft', '\\Seen'];
    const toServer = account.mode === 'imap' && folder.kind === 'server';
    const { record } = await this.store.insertMessage({
      folderId: folder.id,
      source: raw,
      flags,
      onServer: false,
      durable: true,
      // The row is written in this transaction: the replay finds it by its bytes (SHA-256).
      enqueue: toServer
        ? imapAppendAction(
            folder.accountId,
            {
              messageId: null,
              sha256: createHash('sha256').update(raw).digest('hex'),
              messageIdHeader: null,
              size: raw.length,
            },
            folder.path,
            flags,
          )
        : undefined,
    });
    if (replaces !== null && replaces !== record.id && this.store.getMessageRecord(replaces)) {
      await this.discardDraft(replaces, record.id);
    }
    return record;
  }

  /** `after`: the draft's new version, whose APPEND must succeed before this one is expunged there. */
  async discardDraft(messageId: string, after: string | null = null): Promise<void> {
    const record = this.requireMessage(messageId);
    const folder = this.requireFolder(record.folderId);
    const account = await this.account(record.accountId);
    if (account.mode !== 'imap' || folder.kind !== 'server') {
      await this.store.deleteMessage(record.id);
      return;
    }
    // Not bound to a UID yet (its APPEND queued, or under way right now): the replay looks for it
    // by Message-ID and size and removes it if it reached the server after all.
    const ref = isPendingUpload(record)
      ? { ...messageRef(record, folder), uidValidity: null, uid: null }
      : messageRef(record, folder);
    await this.store.deleteMessage(record.id, {
      enqueue: action(record.accountId, {
        kind: 'imap-delete',
        payload: { ...ref, expunge: true, trashPath: null, ...(after === null ? {} : { after }) },
      }),
    });
  }

  // ---- deleting -----------------------------------------------------------------------------------

  async delete(messageIds: readonly string[], options: { fromServer?: boolean } = {}): Promise<void> {
    for (const messageId of messageIds) {
      const record = this.requireMessage(messageId);
      const folder = this.requireFolder(record.folderId);
      const account = await this.account(record.accountId);
      if (account.mode === 'pop3') {
        const deleteOnServer =
          record.popUidl !== null &&
          record.onServer &&
          (options.fromServer === true || account.leaveOnServer.kind === 'until-deleted');
        await this.store.deleteMessage(record.id, {
          enqueue: deleteOnServer
            ? action(record.accountId, { kind: 'pop3-delete', payload: { uidl: record.popUidl as string } })
            : undefined,
        });
        continue;
      }
      if (folder.kind === 'local' || isPendingUpload(record)) {
        await this.store.deleteMessage(record.id);
        continue;
      }
      const trash = this.trashFolder(record.accountId);
      if (trash === null || trash.id === folder.id) {
        // Already in Trash (or the server has none): removed for good, on every device (S6).
        await this.store.deleteMessage(record.id, {
          enqueue: action(record.accountId, {
            kind: 'imap-delete',
            payload: { ...messageRef(record, folder), expunge: true, trashPath: null },
          }),
        });
        continue;
      }
      await this.store.moveMessage(record.id, trash.id, {
        onServer: true,
        enqueue: action(record.accountId, {
          kind: 'imap-delete',
          payload: { ...messageRef(record, folder), expunge: false, trashPath: trash.path },
        }),
      });
    }
  }

  // ---- folders ------------------------------------------------------------------------------------

  async createFolder(accountId: string, folderName: string, options: NewFolderOptions): Promise<FolderView> {
    const folder = await this.createFolderRecord(accountId, folderName, options);
    const view = this.store.listFolders(folder.accountId).find((candidate) => candidate.id === folder.id);
    if (!view) throw new MailError('NOT_FOUND', 'The new folder disappeared before it could be shown.');
    return view;
  }

  private async createFolderRecord(
    accountId: string,
    folderName: string,
    request: NewFolderOptions,
  ): Promise<FolderRecord> {
    const account = await this.account(accountId);
    const parent = request.parentId ? this.requireFolder(request.parentId) : null;
    if (parent && parent.accountId !== account.id)
      throw new MailError('INVALID_INPUT', 'The parent folder is in another account.');
    if (request.kind !== 'server' && request.kind !== 'local') {
      throw new MailError('INVALID_INPUT', 'A folder is either on the server or on this computer.');
    }
    if (request.kind === 'server' && account.mode === 'pop3') {
      throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_NO_SERVER_FOLDERS);
    }
    if (parent && parent.kind !== request.kind) {
      throw new MailError(
        'INVALID_INPUT',
        request.kind === 'server'
          ? 'A server folder cannot be created inside a folder on this computer.'
          : 'A local folder cannot be created inside a server folder.',
      );
    }
    const delimiter =
      request.kind === 'server' ? (parent?.delimiter ?? this.serverDelimiter(account.id)) : LOCAL_DELIMITER;
    const name = validateFolderName(folderName, delimiter);
    const path = parent ? `${parent.path}${delimiter}${name}` : name;
    if (this.store.findFolder(account.id, request.kind, path)) {
      throw new MailError('INVALID_INPUT', `A folder named “${name}” already exists there.`);
    }
    if (request.kind === 'server') {
      // Queued first: if the app stops in between, the replay creates it and the next sync lists it.
      this.store.enqueueAction(action(account.id, { kind: 'imap-create-folder', payload: { path } }));
    }
    return this.store.upsertFolder({
      accountId: account.id,
      kind: request.kind,
      path,
      name,
      delimiter,
      subscribed: true,
      keepOffline: request.kind === 'server' && account.offlineFolders.includes(path),
    });
  }

  private descendants(folder: FolderRecord): FolderRecord[] {
    return this.store
      .listFolderRecords(folder.accountId)
      .filter(
        (candidate) =>
          candidate.kind === folder.kind &&
          candidate.id !== folder.id &&
          candidate.path.startsWith(folder.path + folder.delimiter),
      );
  }

  async renameFolder(folderId: string, newName: string): Promise<void> {
    const folder = this.requireFolder(folderId);
    const account = await this.account(folder.accountId);
    if (folder.kind === 'server' && account.mode === 'pop3') {
      throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_SERVER_FOLDER_UNREACHABLE);
    }
    if (folder.role === 'inbox' || folder.path.toUpperCase() === 'INBOX') {
      throw new MailError('INVALID_INPUT', 'INBOX cannot be renamed: it is where new mail arrives.');
    }
    if (folder.kind === 'server' && folder.role !== null) {
      throw new MailError(
        'INVALID_INPUT',
        `The ${folder.role} folder is used by every mail program on this account and cannot be renamed.`,
      );
    }
    const name = validateFolderName(newName, folder.delimiter);
    const parent = parentPath(folder);
    const newPath = parent ? `${parent}${folder.delimiter}${name}` : name;
    if (newPath === folder.path) return;
    if (this.store.findFolder(folder.accountId, folder.kind, newPath)) {
      throw new MailError('INVALID_INPUT', `A folder named “${name}” already exists there.`);
    }
    const children = this.descendants(folder);
    if (folder.kind === 'server') {
      this.store.enqueueAction(
        action(folder.accountId, { kind: 'imap-rename-folder', payload: { path: folder.path, newPath } }),
      );
    }
    await this.store.updateFolder(folder.id, { path: newPath, name });
    // RFC 3501 section 6.3.5: renaming a folder renames everything below it.
    for (const child of children) {
      await this.store.updateFolder(child.id, { path: newPath + child.path.slice(folder.path.length) });
    }
  }

  async deleteFolder(folderId: string): Promise<void> {
    const folder = this.requireFolder(folderId);
    const account = await this.account(folder.accountId);
    if (folder.kind === 'server' && account.mode === 'pop3') {
      throw new MailError('NOT_AVAILABLE_IN_MODE', POP3_SERVER_FOLDER_UNREACHABLE);
    }
    if (folder.role === 'inbox' || (folder.kind === 'server' && folder.path.toUpperCase() === 'INBOX')) {
      throw new MailError('INVALID_INPUT', 'INBOX cannot be deleted: it is where new mail arrives.');
    }
    // Deepest first: servers refuse to delete a folder that still has children (RFC 3501 section 6.3.4).
    const children = this.descendants(folder).sort((left, right) => right.path.length - left.path.length);
    for (const target of [...children, folder]) {
      await this.store.deleteFolder(target.id, {
        enqueue:
          target.kind === 'server'
            ? action(target.accountId, { kind: 'imap-delete-folder', payload: { path: target.path } })
            : undefined,
      });
    }
  }
}

export function createMailActions(context: ActionContext): MailActions {
  return new MailActions(context);
}
