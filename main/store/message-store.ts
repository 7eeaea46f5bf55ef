/**
 * The local store the rest of main uses: messages in a Maildir (the truth, byte-exact) and an
 * SQLite index over them (a cache that can be rebuilt from the Maildir).
 *
 * Ordering rules that keep the two consistent whatever the moment of a crash:
 * - storing: file durable in cur/ first, then the index commit. A crash in between leaves a file
 *   the index does not know; `reconcile` (run at every open) indexes it.
 * - renaming (flags, identity, move): rename first, then the index. A crash in between leaves a
 *   row whose path is stale; `reconcile` finds the file by its id (part of every name).
 * - deleting: file first, then the row. A crash in between leaves a row without a file;
 *   `reconcile` makes it header-only if the server still has it, else removes it. A deleted
 *   message never comes back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { MailError } from '../../shared/errors';
import type { ListMessagesRequest, MessagePage } from '../../shared/api';
import type {
  Account,
  FolderView,
  MessageDetail,
  MessageSummary,
  Residency,
  ResidencyTotals,
  SortDirection,
  SortKey,
} from '../../shared/model';
import { MAX_PARSE_INPUT_BYTES, parseMessage, threadIdOf, type Envelope, type ParsedMessage } from '../mime/parse';
import { sharedParsePool } from '../mime/parse-pool';
import { openIndexDatabase, translateSqliteError, type IndexDatabase } from './database';
import { buildFtsQuery } from './fts-query';
import { CLEAN_CLOSE_KEY, collectStamps, folderStamp, isCleanCloseRecord } from './clean-close';
import { KeyedLock } from './keyed-lock';
import {
  CONVERSATION_TOTALS_SQL,
  conversationPageSql,
  FILTERED_CONVERSATION_TOTALS_SQL,
  filteredConversationPageSql,
  SORT_COLUMNS,
  threadInsertedRow,
  threadNewRow,
} from './threads';
import {
  deleteMessage as deleteMessageFile,
  ensureMaildir,
  moveMessageFile,
  openStream,
  readMessage,
  renameMessage,
  sweepTmp,
  syncDirectory,
  writeMessage,
  type WrittenMessage,
} from './maildir';
import { writeFilesInParallel, writeMessageBatch, type BatchMessageInput, type BatchWritten } from './maildir-batch';
import type { AttachOutcome, BodyToAttach } from './attach-batch';
import {
  encodeUidl,
  formatMaildirName,
  infoToFlags,
  isMaildirFlag,
  newMessageId,
  parseMaildirName,
  type ImapIdentity,
} from './maildir-name';
import {
  addressText,
  fromSortKey,
  isSeen,
  isoOrNull,
  millisecondsOrNull,
  normalizeFlags,
  parseAddresses,
  parseStrings,
  rowFrom,
  rowToFolder,
  rowToRecord,
  rowToSummary,
  subjectSortKey,
  type FolderRecord,
  type FolderRow,
  type MessageRecord,
  type MessageRow,
} from './records';
import {
  appendPopJournal,
  readAccountSidecar,
  readFolderSidecar,
  readPopJournal,
  writeAccountSidecar,
  writeFolderSidecar,
  type FolderSidecar,
} from './sidecar';
import type {
  ActionState,
  FolderChanges,
  FolderInput,
  FolderSyncState,
  HeaderOnlyInput,
  InsertResult,
  MessageStoreOptions,
  MoveOptions,
  NewAction,
  NewMessageInput,
  OutboxEntry,
  OutboxState,
  PopHeaderOnlyInput,
  PopUidlRecord,
  QueuedAction,
  ReconcileReport,
  RemovedMessage,
  SearchOptions,
  StoreChange,
  StoreStep,
} from './types';

export type * from './types';
export type { AttachOutcome, BodyToAttach } from './attach-batch';

export const INDEX_FILE = 'index.sqlite';
export const MAIL_DIRECTORY = 'mail';
/** Accounts removed from the app are moved here, never deleted (their mail may be the only copy). */
export const REMOVED_DIRECTORY = 'removed-accounts';
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 500;
/** Matches a search ranks at most; beyond, it lists the newest (see search). At least MAX_SEARCH_LIMIT. */
export const SEARCH_RANK_LIMIT = 1000;
/** Files parsed at once while indexing a Maildir (rebuild); bounded so memory stays small. */
const INDEXING_CONCURRENCY = 4;
/** Rows inserted per transaction while indexing a Maildir. */
const INDEXING_BATCH_ROWS = 200;
const TRASH_PREFIX = '.trash-';
/** settings key: the highest messages.row_id counted into known_addresses. */
const KNOWN_ADDRESSES_MARK = 'known-addresses-row-id';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function assertSafeId(value: string, what: string): void {
  if (!SAFE_ID.test(value)) {
    throw new MailError('INVALID_INPUT', `The ${what} id "${value}" cannot name a folder on disk.`);
  }
}

function nowIso(): string {
  return new Date().toISOString();
}

function notFound(what: string): MailError {
  return new MailError('NOT_FOUND', `${what} was not found. It may have been deleted meanwhile.`);
}

function newFolderId(path: string): string {
  const slug = path
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${slug || 'folder'}-${randomBytes(4).toString('hex')}`;
}

function lastSegment(path: string, delimiter: string): string {
  if (!delimiter) return path;
  const parts = path.split(delimiter).filter((part) => part.length > 0);
  return parts[parts.length - 1] ?? path;
}

/** The columns of a new `messages` row: all but the row id and the generated residency. */
type RowValues = Omit<MessageRow, 'row_id' | 'residency'>;

type EnvelopeColumns = Pick<
  RowValues,
  | 'message_id'
  | 'thread_id'
  | 'in_reply_to'
  | 'references_json'
  | 'subject'
  | 'subject_sort'
  | 'from_name'
  | 'from_address'
  | 'from_sort'
  | 'to_json'
  | 'cc_json'
  | 'bcc_json'
  | 'reply_to_json'
  | 'date'
>;

function envelopeColumns(envelope: Envelope): EnvelopeColumns {
  return {
    message_id: envelope.messageId,
    thread_id: threadIdOf(envelope),
    in_reply_to: envelope.inReplyTo,
    references_json: JSON.stringify(envelope.references),
    subject: envelope.subject,
    subject_sort: subjectSortKey(envelope.subject),
    from_name: envelope.from?.name ?? '',
    from_address: envelope.from?.address ?? '',
    from_sort: fromSortKey(envelope.from),
    to_json: JSON.stringify(envelope.to),
    cc_json: JSON.stringify(envelope.cc),
    bcc_json: JSON.stringify(envelope.bcc),
    reply_to_json: JSON.stringify(envelope.replyTo),
    date: millisecondsOrNull(envelope.date),
  };
}

const ROW_COLUMNS: ReadonlyArray<keyof RowValues> = [
  'id',
  'account_id',
  'folder_id',
  'remote_uidvalidity',
  'remote_uid',
  'pop_uidl',
  'message_id',
  'thread_id',
  'in_reply_to',
  'references_json',
  'subject',
  'subject_sort',
  'from_name',
  'from_address',
  'from_sort',
  'to_json',
  'cc_json',
  'bcc_json',
  'reply_to_json',
  'date',
  'received_at',
  'downloaded_at',
  'sort_date',
  'size',
  'flags_json',
  'seen',
  'sha256',
  'local_path',
  'on_server',
  'server_confirmed_at',
  'has_attachments',
  'preview',
  'parse_warning',
];

/** A new row, with its conversation key (threads.ts: computed by insertRow, never written after). */
const INSERTED_COLUMNS = [...ROW_COLUMNS, 'thread_key'];
const INSERT_ROW_SQL = `INSERT INTO messages (${INSERTED_COLUMNS.join(', ')}) VALUES (${INSERTED_COLUMNS.map((column) => `@${column}`).join(', ')})`;

const SORT_ORDER: Record<SortKey, (direction: 'ASC' | 'DESC') => string> = {
  date: (direction) => `sort_date ${direction}, id ${direction}`,
  from: (direction) => `from_sort ${direction}, sort_date ${direction}, id ${direction}`,
  subject: (direction) => `subject_sort ${direction}, sort_date ${direction}, id ${direction}`,
};

const RESIDENCIES: readonly Residency[] = ['server', 'local', 'both'];

function emptyTotals(): ResidencyTotals {
  return { server: { count: 0, bytes: 0 }, local: { count: 0, bytes: 0 }, both: { count: 0, bytes: 0 } };
}

/**
 * A file of a batch write with the SHA-256 of its bytes: the parse worker's (ParseOptions.digest),
 * or computed here when the parse ran without it (a worker that hung or could not start).
 */
function withDigest(written: BatchWritten, parsed: ParsedMessage, source: Buffer): BatchWritten & { sha256: string } {
  return { ...written, sha256: parsed.sourceSha256 ?? createHash('sha256').update(source).digest('hex') };
}

/**
 * The `residency` column of a row with these values (generated by the index, migrations.ts), for
 * records made without reading the row back. `INSERT … RETURNING residency` would read it from the
 * index instead, but costs ≈ 0.4 s more CPU per 10,000 rows (store floor, four pairs of runs);
 * message-batch.test.ts checks that the two agree.
 */
function residencyOfValues(values: Pick<RowValues, 'local_path' | 'on_server'>): Residency {
  if (values.local_path === null) return 'server';
  return values.on_server === 1 ? 'both' : 'local';
}

/** A file found in a folder directory while reconciling. */
interface FoundFile {
  folder: FolderRecord;
  folderDir: string;
  fileName: string;
}

/**
 * A prepared statement whose failures on a full disk (SQLITE_FULL) arrive as DISK_FULL, like those
 * of the transactions (database.ts): a write outside a transaction (sync state, confirmations,
 * queued actions) must not reach the user as "Something went wrong".
 */
interface IndexStatement {
  run(...parameters: unknown[]): Database.RunResult;
  get(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
}

/** True when a Maildir folder has no message file in cur/ or new/; a directory that cannot be read may hold some. */
async function holdsNoMail(folderDirectory: string): Promise<boolean> {
  for (const sub of ['cur', 'new']) {
    const names = await readdir(join(folderDirectory, sub)).catch(() => null);
    if (names === null || names.length > 0) return false;
  }
  return true;
}

function indexStatement(prepared: Database.Statement): IndexStatement {
  const translated = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw translateSqliteError(error);
    }
  };
  return {
    run: (...parameters) => translated(() => prepared.run(...parameters)),
    get: (...parameters) => translated(() => prepared.get(...parameters)),
    all: (...parameters) => translated(() => prepared.all(...parameters)),
  };
}

/** One message as the IMAP sync compares it (listFolderSyncRows). */
export interface FolderSyncRow {
  id: string;
  imap: ImapIdentity | null;
  /** flags_json as stored (normalized, sorted). */
  flagsJson: string;
  messageId: string | null;
  size: number;
  /** The bytes are on this computer. */
  local: boolean;
}

export class MessageStore {
  readonly profileDir: string;
  private index: IndexDatabase;
  private readonly host: string;
  private readonly onStep: ((step: StoreStep) => void) | undefined;
  private readonly locks = new KeyedLock();
  private readonly listeners = new Set<(change: StoreChange) => void>();
  private statements = new Map<string, IndexStatement>();
  private closed = false;
  /** What the reconcile at open found and repaired. */
  lastReconcile: ReconcileReport | null = null;

  constructor(options: MessageStoreOptions, index: IndexDatabase) {
    this.profileDir = options.profileDir;
    this.index = index;
    this.host = options.host ?? hostname();
    this.onStep = options.onStep;
  }

  // ---------------------------------------------------------------- basics

  private get db(): Database.Database {
    if (this.closed) throw new MailError('INTERNAL', 'The mail store is closed.');
    return this.index.db;
  }

  private statement(sql: string): IndexStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = indexStatement(this.db.prepare(sql));
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private get mailRoot(): string {
    return join(this.profileDir, MAIL_DIRECTORY);
  }

  private accountDir(accountId: string): string {
    return join(this.mailRoot, accountId);
  }

  private folderDir(folder: Pick<FolderRecord, 'id' | 'accountId'>): string {
    return join(this.mailRoot, folder.accountId, folder.id);
  }

  private absolute = (relativePath: string): string => join(this.profileDir, relativePath);

  private relativeToProfile(path: string): string {
    return relative(this.profileDir, path);
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StoreChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not undo or interrupt a committed change.
      }
    }
  }

  private emitMessages(accountId: string, folderIds: Iterable<string>): void {
    this.emit({ kind: 'messages', accountId, folderIds: [...new Set(folderIds)] });
  }

  close(): void {
    if (this.closed) return;
    this.recordCleanClose();
    this.statements.clear();
    this.index.close();
    this.closed = true;
  }

  private insertAction(action: NewAction): number {
    const at = nowIso();
    const result = this.statement(
      `INSERT INTO action_queue (account_id, kind, payload, state, attempts, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
    ).run(action.accountId, action.kind, JSON.stringify(action.payload ?? null), at, at);
    return Number(result.lastInsertRowid);
  }

  // ---------------------------------------------------------------- accounts

  /** Creates or updates an account: index row plus the Maildir sidecar (for rebuilds). */
  async upsertAccount(account: Account): Promise<void> {
    assertSafeId(account.id, 'account');
    const directory = this.accountDir(account.id);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await writeAccountSidecar(directory, account);
    const { id: _id, createdAt: _createdAt, ...settings } = account;
    this.statement(
      `INSERT INTO accounts (id, settings, mode, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, mode = excluded.mode`,
    ).run(account.id, JSON.stringify(settings), account.mode, account.createdAt);
    this.emit({ kind: 'accounts' });
  }

  getAccount(accountId: string): Account | null {
    const row = this.statement('SELECT id, settings, created_at FROM accounts WHERE id = ?').get(accountId) as
      { id: string; settings: string; created_at: string } | undefined;
    if (!row) return null;
    try {
      const settings = JSON.parse(row.settings) as Omit<Account, 'id' | 'createdAt'>;
      return { ...settings, id: row.id, createdAt: row.created_at };
    } catch {
      return null;
    }
  }

  listAccounts(): Account[] {
    const rows = this.statement('SELECT id FROM accounts ORDER BY created_at, id').all() as Array<{ id: string }>;
    return rows.map((row) => this.getAccount(row.id)).filter((account): account is Account => account !== null);
  }

  /**
   * Removes an account from the index. Its Maildir is moved to `<profile>/removed-accounts/`,
   * not deleted: for a POP3 account it may hold the only copy of the mail.
   */
  async removeAccount(accountId: string): Promise<{ movedTo: string | null }> {
    assertSafeId(accountId, 'account');
    let movedTo: string | null = null;
    const source = this.accountDir(accountId);
    try {
      await stat(source);
      const removedRoot = join(this.profileDir, REMOVED_DIRECTORY);
      await mkdir(removedRoot, { recursive: true, mode: 0o700 });
      movedTo = join(removedRoot, `${accountId}-${Date.now()}`);
      await rename(source, movedTo);
      await syncDirectory(removedRoot);
      await syncDirectory(this.mailRoot);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    }
    this.index.transaction(() => {
      this.statement('DELETE FROM outbox WHERE account_id = ?').run(accountId);
      this.statement('DELETE FROM messages WHERE account_id = ?').run(accountId);
      this.statement('DELETE FROM folders WHERE account_id = ?').run(accountId);
      this.statement('DELETE FROM accounts WHERE id = ?').run(accountId);
    });
    this.emit({ kind: 'accounts' });
    return { movedTo };
  }

  // ---------------------------------------------------------------- folders

  private folderSidecar(folder: FolderRecord): FolderSidecar {
    return {
      id: folder.id,
      accountId: folder.accountId,
      kind: folder.kind,
      path: folder.path,
      name: folder.name,
      delimiter: folder.delimiter,
      role: folder.role,
      subscribed: folder.subscribed,
      keepOffline: folder.keepOffline,
    };
  }

  getFolder(folderId: string): FolderRecord | null {
    const row = this.statement('SELECT * FROM folders WHERE id = ?').get(folderId) as FolderRow | undefined;
    return row ? rowToFolder(row) : null;
  }

  private requireFolder(folderId: string): FolderRecord {
    const folder = this.getFolder(folderId);
    if (!folder) throw notFound('The folder');
    return folder;
  }

  findFolder(accountId: string, kind: FolderInput['kind'], path: string): FolderRecord | null {
    const row = this.statement('SELECT * FROM folders WHERE account_id = ? AND kind = ? AND path = ?').get(
      accountId,
      kind,
      path,
    ) as FolderRow | undefined;
    return row ? rowToFolder(row) : null;
  }

  listFolderRecords(accountId: string): FolderRecord[] {
    const rows = this.statement('SELECT * FROM folders WHERE account_id = ? ORDER BY path').all(
      accountId,
    ) as FolderRow[];
    return rows.map(rowToFolder);
  }

  /** Folders with their message counts, for the folder list (FolderView of shared/model). */
  listFolders(accountId: string): FolderView[] {
    const counts = new Map(
      (
        this.statement(
          `SELECT folder_id, count(*) AS total, sum(1 - seen) AS unread FROM messages
           WHERE account_id = ? GROUP BY folder_id`,
        ).all(accountId) as Array<{ folder_id: string; total: number; unread: number }>
      ).map((row) => [row.folder_id, row]),
    );
    return this.listFolderRecords(accountId).map((folder) => ({
      id: folder.id,
      accountId: folder.accountId,
      name: folder.name,
      path: folder.path,
      delimiter: folder.delimiter,
      role: folder.role,
      kind: folder.kind,
      subscribed: folder.subscribed,
      keepOffline: folder.keepOffline,
      total: counts.get(folder.id)?.total ?? 0,
      unread: counts.get(folder.id)?.unread ?? 0,
    }));
  }

  folderCounts(folderId: string): { total: number; unread: number } {
    const row = this.statement(
      'SELECT count(*) AS total, coalesce(sum(1 - seen), 0) AS unread FROM messages WHERE folder_id = ?',
    ).get(folderId) as { total: number; unread: number };
    return { total: row.total, unread: row.unread };
  }

  /** Finds the folder by account, kind and path, or creates it (directory, sidecar, row). */
  async upsertFolder(input: FolderInput): Promise<FolderRecord> {
    const existing = this.findFolder(input.accountId, input.kind, input.path);
    if (existing) {
      const changes: FolderChanges = {};
      if (input.name !== undefined && input.name !== existing.name) changes.name = input.name;
      if (input.delimiter !== undefined && input.delimiter !== existing.delimiter) changes.delimiter = input.delimiter;
      if (input.role !== undefined && input.role !== existing.role) changes.role = input.role;
      if (input.subscribed !== undefined && input.subscribed !== existing.subscribed) {
        changes.subscribed = input.subscribed;
      }
      if (input.keepOffline !== undefined && input.keepOffline !== existing.keepOffline) {
        changes.keepOffline = input.keepOffline;
      }
      return Object.keys(changes).length > 0 ? this.updateFolder(existing.id, changes) : existing;
    }
    if (!this.statement('SELECT 1 FROM accounts WHERE id = ?').get(input.accountId)) throw notFound('The account');
    const delimiter = input.delimiter ?? '/';
    const folder: FolderRecord = {
      id: newFolderId(input.path),
      accountId: input.accountId,
      kind: input.kind,
      path: input.path,
      name: input.name ?? lastSegment(input.path, delimiter),
      delimiter,
      role: input.role ?? null,
      subscribed: input.subscribed ?? true,
      keepOffline: input.keepOffline ?? false,
      uidvalidity: null,
      uidnext: null,
      highestmodseq: null,
      lastSyncAt: null,
    };
    const directory = this.folderDir(folder);
    await ensureMaildir(directory);
    try {
      await writeFolderSidecar(directory, this.folderSidecar(folder));
      await syncDirectory(this.accountDir(folder.accountId));
    } catch (error) {
      // A full disk: the new, empty directory goes again, so the next opening does not find a
      // folder directory without its sidecar and bring it back as "Recovered/…".
      await rm(directory, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    }
    this.statement(
      `INSERT INTO folders (id, account_id, kind, path, name, delimiter, role, subscribed, keep_offline)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      folder.id,
      folder.accountId,
      folder.kind,
      folder.path,
      folder.name,
      folder.delimiter,
      folder.role,
      folder.subscribed ? 1 : 0,
      folder.keepOffline ? 1 : 0,
    );
    this.emit({ kind: 'folders', accountId: folder.accountId });
    return folder;
  }

  /** Renames or reconfigures a folder. The directory keeps its name (the folder id). */
  async updateFolder(folderId: string, changes: FolderChanges): Promise<FolderRecord> {
    const folder = this.requireFolder(folderId);
    const updated: FolderRecord = {
      ...folder,
      ...Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)),
    };
    if (changes.path !== undefined && changes.name === undefined) {
      updated.name = lastSegment(changes.path, updated.delimiter);
    }
    await ensureMaildir(this.folderDir(updated));
    await writeFolderSidecar(this.folderDir(updated), this.folderSidecar(updated));
    this.statement(
      `UPDATE folders SET path = ?, name = ?, delimiter = ?, role = ?, subscribed = ?, keep_offline = ? WHERE id = ?`,
    ).run(
      updated.path,
      updated.name,
      updated.delimiter,
      updated.role,
      updated.subscribed ? 1 : 0,
      updated.keepOffline ? 1 : 0,
      folderId,
    );
    this.emit({ kind: 'folders', accountId: folder.accountId });
    return updated;
  }

  /** Server facts (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, last sync); index only. */
  setFolderSyncState(folderId: string, state: FolderSyncState): void {
    const folder = this.requireFolder(folderId);
    this.statement(
      `UPDATE folders SET uidvalidity = ?, uidnext = ?, highestmodseq = ?, last_sync_at = ? WHERE id = ?`,
    ).run(
      state.uidvalidity !== undefined ? state.uidvalidity : folder.uidvalidity,
      state.uidnext !== undefined ? state.uidnext : folder.uidnext,
      state.highestmodseq !== undefined ? state.highestmodseq : folder.highestmodseq,
      state.lastSyncAt !== undefined ? state.lastSyncAt : folder.lastSyncAt,
      folderId,
    );
  }

  /**
   * Deletes a folder with every message in it (local copies; the caller replays the server side).
   * The directory is first renamed to `.trash-…` (one atomic step), so a crash leaves either the
   * whole folder or none of it.
   */
  async deleteFolder(folderId: string, options: { enqueue?: NewAction } = {}): Promise<RemovedMessage[]> {
    const folder = this.requireFolder(folderId);
    const rows = this.statement('SELECT * FROM messages WHERE folder_id = ?').all(folderId) as MessageRow[];
    const directory = this.folderDir(folder);
    const trash = join(this.accountDir(folder.accountId), `${TRASH_PREFIX}${folder.id}`);
    // The folder is set aside (renamed), then its deletion committed; only the commit makes it final
    // (a set-aside folder the index still has is put back: settleSetAsideFolders).
    await this.journalKeptPopCopiesThen(folder.accountId, rows, async () => {
      let hasDirectory = true;
      try {
        await rename(directory, trash);
        await syncDirectory(this.accountDir(folder.accountId));
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
        hasDirectory = false;
      }
      try {
        this.index.transaction(() => {
          this.statement('DELETE FROM messages WHERE folder_id = ?').run(folderId);
          this.statement('DELETE FROM folders WHERE id = ?').run(folderId);
          if (options.enqueue) this.insertAction(options.enqueue);
        });
      } catch (error) {
        // The index could not record the deletion (a full disk): the folder goes back as it was
        // (or, should that fail too, at the next start).
        if (hasDirectory) {
          await rename(trash, directory);
          await syncDirectory(this.accountDir(folder.accountId)).catch(() => undefined);
        }
        throw error;
      }
      if (hasDirectory) await rm(trash, { recursive: true, force: true });
    });
    this.emit({ kind: 'folders', accountId: folder.accountId });
    this.emitMessages(folder.accountId, [folderId]);
    return rows.map((row) => this.removedFrom(row));
  }

  // ---------------------------------------------------------------- reading messages

  private getRow(messageId: string): MessageRow | null {
    return (this.statement('SELECT * FROM messages WHERE id = ?').get(messageId) as MessageRow | undefined) ?? null;
  }

  private requireRow(messageId: string): MessageRow {
    const row = this.getRow(messageId);
    if (!row) throw notFound('The message');
    return row;
  }

  getMessageRecord(messageId: string): MessageRecord | null {
    const row = this.getRow(messageId);
    return row ? rowToRecord(row, this.absolute) : null;
  }

  findByImapIdentity(folderId: string, imap: ImapIdentity): MessageRecord | null {
    const row = this.statement(
      'SELECT * FROM messages WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid = ?',
    ).get(folderId, imap.uidvalidity, imap.uid) as MessageRow | undefined;
    return row ? rowToRecord(row, this.absolute) : null;
  }

  /** Looks a UIDL up, also in its hashed form (names carry over-long UIDLs as a hash). */
  findByPopUidl(accountId: string, uidl: string): MessageRecord | null {
    const row = this.statement('SELECT * FROM messages WHERE account_id = ? AND pop_uidl IN (?, ?) LIMIT 1').get(
      accountId,
      uidl,
      encodeUidl(uidl),
    ) as MessageRow | undefined;
    return row ? rowToRecord(row, this.absolute) : null;
  }

  findByMessageId(accountId: string, messageId: string): MessageRecord[] {
    const rows = this.statement('SELECT * FROM messages WHERE account_id = ? AND message_id = ?').all(
      accountId,
      messageId,
    ) as MessageRow[];
    return rows.map((row) => rowToRecord(row, this.absolute));
  }

  /** Every message of a folder with its identity and flags, for the sync engine's comparison. */
  listFolderMessages(folderId: string): MessageRecord[] {
    const rows = this.statement('SELECT * FROM messages WHERE folder_id = ? ORDER BY row_id').all(
      folderId,
    ) as MessageRow[];
    return rows.map((row) => rowToRecord(row, this.absolute));
  }

  /**
   * What the IMAP sync compares, for every message of a folder: identity, flags (as stored,
   * normalized JSON), Message-ID + size (re-mapping) and whether the bytes are here. No envelope,
   * no parsing: a fraction of listFolderMessages on large folders.
   */
  listFolderSyncRows(folderId: string): FolderSyncRow[] {
    const rows = this.statement(
      `SELECT id, remote_uidvalidity, remote_uid, flags_json, message_id, size, local_path IS NOT NULL AS local
       FROM messages WHERE folder_id = ? ORDER BY row_id`,
    ).all(folderId) as Array<{
      id: string;
      remote_uidvalidity: number | null;
      remote_uid: number | null;
      flags_json: string;
      message_id: string | null;
      size: number;
      local: number;
    }>;
    return rows.map((row) => ({
      id: row.id,
      imap:
        row.remote_uidvalidity !== null && row.remote_uid !== null
          ? { uidvalidity: row.remote_uidvalidity, uid: row.remote_uid }
          : null,
      flagsJson: row.flags_json,
      messageId: row.message_id,
      size: row.size,
      local: row.local === 1,
    }));
  }

  /** The UIDs of this UIDVALIDITY a folder holds (from the identity index alone, no row is read). */
  listImapUids(folderId: string, uidvalidity: number): number[] {
    const rows = this.statement(
      'SELECT remote_uid AS uid FROM messages WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid IS NOT NULL',
    ).all(folderId, uidvalidity) as Array<{ uid: number }>;
    return rows.map((row) => row.uid);
  }

  /** Id and flags (stored JSON) of the message at one UID, if the folder holds it. */
  findImapFlags(folderId: string, imap: ImapIdentity): { id: string; flagsJson: string } | null {
    const row = this.statement(
      `SELECT id, flags_json AS flagsJson FROM messages
       WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid = ?`,
    ).get(folderId, imap.uidvalidity, imap.uid) as { id: string; flagsJson: string } | undefined;
    return row ?? null;
  }

  /** UID and flags (stored JSON) of the messages of a folder known by a UID of this UIDVALIDITY. */
  listImapFlags(folderId: string, uidvalidity: number): Array<{ id: string; uid: number; flagsJson: string }> {
    return this.statement(
      `SELECT id, remote_uid AS uid, flags_json AS flagsJson FROM messages
       WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid IS NOT NULL`,
    ).all(folderId, uidvalidity) as Array<{ id: string; uid: number; flagsJson: string }>;
  }

  /**
   * Messages of a folder the server does not know by a UID of this UIDVALIDITY but that have a
   * Message-ID: what a new server message may turn out to be (a pending upload, a stale UID).
   */
  listRemapCandidates(folderId: string, uidvalidity: number): Array<{ id: string; messageId: string; size: number }> {
    // Only the candidates are read: rows without a UID (index messages_without_uid, migration 7)
    // and the ranges of other UIDVALIDITYs in the identity index. With `remote_uidvalidity <> ?`
    // SQLite read every row of the folder (90 ms of a resync of 10,000 messages that found 100 new).
    const columns = 'SELECT row_id, id, message_id AS messageId, size FROM messages';
    const identity = `${columns} INDEXED BY messages_imap_identity WHERE folder_id = @folder AND remote_uid IS NOT NULL`;
    return this.statement(
      `SELECT id, messageId, size FROM (
         ${columns} INDEXED BY messages_without_uid
           WHERE folder_id = @folder AND remote_uid IS NULL AND message_id IS NOT NULL
         UNION ALL ${identity} AND remote_uidvalidity IS NULL AND message_id IS NOT NULL
         UNION ALL ${identity} AND remote_uidvalidity < @uidvalidity AND message_id IS NOT NULL
         UNION ALL ${identity} AND remote_uidvalidity > @uidvalidity AND message_id IS NOT NULL
       ) ORDER BY row_id`,
    ).all({ folder: folderId, uidvalidity }) as Array<{ id: string; messageId: string; size: number }>;
  }

  /** Messages of a folder with a UID of this UIDVALIDITY below `belowUid` (from the identity index alone). */
  countImapMessages(folderId: string, uidvalidity: number, belowUid: number): number {
    const row = this.statement(
      'SELECT count(*) AS n FROM messages WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid < ?',
    ).get(folderId, uidvalidity, belowUid) as { n: number };
    return row.n;
  }

  /**
   * One page of a folder, sorted, optionally only messages of one residency and of one conversation
   * (`threadId`); with `threads`, a page of the folder's conversations instead (threads.ts).
   */
  listMessages(request: ListMessagesRequest): MessagePage {
    const offset = Math.max(0, Math.floor(request.offset));
    const limit = Math.min(MAX_PAGE_SIZE, Math.max(0, Math.floor(request.limit)));
    if (!Number.isFinite(offset) || !Number.isFinite(limit)) {
      throw new MailError('INVALID_INPUT', 'The page offset and size must be numbers.');
    }
    const sort: SortKey = request.sort ?? 'date';
    const direction: SortDirection = request.direction ?? 'desc';
    if (!(sort in SORT_ORDER)) throw new MailError('INVALID_INPUT', `Messages cannot be sorted by "${sort}".`);
    const residency = request.residency ?? null;
    if (residency !== null && !RESIDENCIES.includes(residency)) {
      throw new MailError('INVALID_INPUT', `"${residency}" is not a residency.`);
    }
    const sqlDirection = direction === 'asc' ? 'ASC' : 'DESC';
    if (request.threads === true) {
      // Conversations (threads.ts): one item per conversation, its newest message in the folder.
      const columns = SORT_COLUMNS[sort];
      const scope = residency === null ? [request.folderId] : [request.folderId, residency];
      const totals = this.statement(
        residency === null ? CONVERSATION_TOTALS_SQL : FILTERED_CONVERSATION_TOTALS_SQL,
      ).get(...scope) as { total: number; messages: number };
      const grouped = this.statement(
        residency === null
          ? conversationPageSql(columns, sqlDirection)
          : filteredConversationPageSql(columns, sqlDirection),
      ).all(...scope, limit, offset) as Array<MessageRow & { thread_messages: number; thread_unread: number }>;
      return {
        total: totals.total,
        offset,
        items: grouped.map(rowToSummary),
        threads: grouped.map((row) => ({ messages: row.thread_messages, unread: row.thread_unread })),
        messages: totals.messages,
      };
    }
    const threadId = request.threadId ?? null;
    const conditions = ['folder_id = ?'];
    const parameters: unknown[] = [request.folderId];
    if (threadId !== null) {
      conditions.push('thread_key = ?');
      parameters.push(threadId);
    }
    if (residency !== null) {
      conditions.push('residency = ?');
      parameters.push(residency);
    }
    const where = conditions.join(' AND ');
    const total = (
      this.statement(`SELECT count(*) AS total FROM messages WHERE ${where}`).get(...parameters) as {
        total: number;
      }
    ).total;
    const order = SORT_ORDER[sort](sqlDirection);
    const rows = this.statement(`SELECT * FROM messages WHERE ${where} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      ...parameters,
      limit,
      offset,
    ) as MessageRow[];
    return { total, offset, items: rows.map(rowToSummary) };
  }

  /** The full message for the reader: the stored file parsed now (parts, attachments). */
  async getMessageDetail(messageId: string): Promise<MessageDetail> {
    const row = this.requireRow(messageId);
    const record = rowToRecord(row, this.absolute);
    const base = {
      ...rowToSummary(row),
      cc: record.cc,
      bcc: record.bcc,
      replyTo: record.replyTo,
      inReplyTo: record.inReplyTo,
      references: record.references,
      sha256: record.sha256,
    };
    if (!record.localPath) {
      return { ...base, parts: null, attachments: [], parseWarning: record.parseWarning };
    }
    await this.assertFileExists(record.localPath);
    const parsed = await parseMessage({ path: record.localPath });
    return { ...base, parts: parsed.parts, attachments: parsed.attachments, parseWarning: parsed.parseWarning };
  }

  /** The decoded content of one attachment (by IMAP part number). */
  async getAttachment(
    messageId: string,
    partId: string,
  ): Promise<{ filename: string; contentType: string; content: Buffer }> {
    const record = this.requireLocal(messageId);
    await this.assertFileExists(record.localPath);
    const parsed = await parseMessage({ path: record.localPath }, { capturePartId: partId });
    if (!parsed.captured) throw notFound(`Attachment ${partId}`);
    return parsed.captured;
  }

  /** The stored bytes, exactly as received. */
  async readRaw(messageId: string): Promise<Buffer> {
    // Under the message's lock: a deletion under way removes the file before the row, and a read
    // in between reported "the stored copy is missing" instead of NOT_FOUND. The upload of a draft
    // being replaced took that for a failed upload and kept the older version on the server.
    return this.locks.run(messageId, async () => {
      const record = this.requireLocal(messageId);
      await this.assertFileExists(record.localPath);
      return readMessage(record.localPath);
    });
  }

  private requireLocal(messageId: string): MessageRecord & { localPath: string } {
    const record = rowToRecord(this.requireRow(messageId), this.absolute);
    if (!record.localPath) {
      throw new MailError(
        'NOT_FOUND',
        'Only the headers of this message are on this computer; its body is on the server.',
      );
    }
    return record as MessageRecord & { localPath: string };
  }

  private async assertFileExists(path: string): Promise<void> {
    try {
      await stat(path);
    } catch {
      throw new MailError(
        'NOT_FOUND',
        'The stored copy of this message is missing from the mail folder on disk. Restart Whereabouts to re-check the folder.',
      );
    }
  }

  // ---------------------------------------------------------------- search and totals

  /**
   * Full-text search over subject, addresses and body; safe for any user text. Up to
   * SEARCH_RANK_LIMIT matches in scope are ranked (bm25, best first, then newest); a scope with
   * more matches (a word most messages contain, a short prefix while the user types) takes its
   * SEARCH_RANK_LIMIT + 1 most recently stored matches and lists them by date, newest first:
   * ranking every match would read all their positions (half a second for "the" in 100,000
   * messages), and such a ranking says little anyway.
   */
  search(query: string, options: SearchOptions = {}): MessageSummary[] {
    const match = buildFtsQuery(query);
    if (match === null) return [];
    this.indexPendingSearchIfRoom();
    const limit = Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.floor(options.limit ?? DEFAULT_SEARCH_LIMIT)));
    const filters: string[] = [];
    const scope: unknown[] = [];
    if (options.accountId !== undefined) {
      filters.push('m.account_id = ?');
      scope.push(options.accountId);
    }
    if (options.folderId !== undefined) {
      filters.push('m.folder_id = ?');
      scope.push(options.folderId);
    }
    // The matches in scope, from the most recently stored (rowid = messages.row_id): FTS5 reads its
    // doclists from the end and stops after SEARCH_RANK_LIMIT + 1, however common the words. The
    // full-text match is the outer loop (CROSS JOIN fixes SQLite's join order): with a plain JOIN
    // and a filter the planner walks the messages index and evaluates MATCH per row instead
    // (minutes for a common word in a 200,000-message account, main/hardening/large-folder.test.ts).
    // The filters apply during the walk, so a folder's matches are found however many other
    // folders hold better-ranked ones.
    const inScope = (columns: string, range = '') =>
      `SELECT ${columns} FROM messages_fts
       ${filters.length > 0 ? 'CROSS JOIN messages m ON m.row_id = messages_fts.rowid' : ''}
       WHERE messages_fts MATCH ? ${range} ${filters.map((filter) => `AND ${filter}`).join(' ')}
       ORDER BY messages_fts.rowid DESC LIMIT ?`;
    const newest = (
      this.statement(inScope('messages_fts.rowid AS row_id')).all(match, ...scope, SEARCH_RANK_LIMIT + 1) as Array<{
        row_id: number;
      }>
    ).map((row) => row.row_id);
    if (newest.length === 0) return [];
    const rows =
      newest.length > SEARCH_RANK_LIMIT
        ? (this.statement(
            `SELECT m.* FROM json_each(?) AS j CROSS JOIN messages m ON m.row_id = j.value
             ORDER BY m.sort_date DESC, m.id LIMIT ?`,
          ).all(JSON.stringify(newest), limit) as MessageRow[])
        : // Every match in scope is among those: rank them, walking only their rowid range (a small
          // folder's matches among many in other folders are not looked for a second time).
          (this.statement(
            `SELECT m.* FROM (${inScope(
              'messages_fts.rowid AS row_id, messages_fts.rank AS rank',
              'AND messages_fts.rowid BETWEEN ? AND ?',
            )}) AS f
             CROSS JOIN messages m ON m.row_id = f.row_id
             ORDER BY f.rank, m.sort_date DESC, m.id LIMIT ?`,
          ).all(match, newest[newest.length - 1], newest[0], ...scope, SEARCH_RANK_LIMIT + 1, limit) as MessageRow[]);
    return rows.map(rowToSummary);
  }

  /** Count and bytes per residency, for one folder, one account, or everything. */
  residencyTotals(scope: { accountId?: string; folderId?: string } = {}): ResidencyTotals {
    // Both scopes walk messages_account_residency (account, folder, residency, size), which visits
    // the rows in rowid order within each folder and residency. SQLite never takes an index with a
    // generated column as covering, so every row is still read; left to itself the planner picks an
    // index in date or thread order and reads them in random order, 6× slower on 100,000 messages.
    // The folder's account makes the index's prefix; grouping by folder first lets it serve an account.
    const sql =
      scope.folderId !== undefined
        ? `SELECT residency, count(*) AS count, coalesce(sum(size), 0) AS bytes FROM messages
           WHERE account_id = (SELECT account_id FROM folders WHERE id = ?) AND folder_id = ? GROUP BY residency`
        : scope.accountId !== undefined
          ? `SELECT residency, sum(count) AS count, sum(bytes) AS bytes FROM (
               SELECT residency, count(*) AS count, coalesce(sum(size), 0) AS bytes FROM messages
               WHERE account_id = ? GROUP BY folder_id, residency
             ) GROUP BY residency`
          : 'SELECT residency, count(*) AS count, coalesce(sum(size), 0) AS bytes FROM messages GROUP BY residency';
    const parameters =
      scope.folderId !== undefined
        ? [scope.folderId, scope.folderId]
        : scope.accountId !== undefined
          ? [scope.accountId]
          : [];
    const rows = this.statement(sql).all(...parameters) as Array<{
      residency: Residency;
      count: number;
      bytes: number;
    }>;
    const totals = emptyTotals();
    for (const row of rows) totals[row.residency] = { count: row.count, bytes: row.bytes };
    return totals;
  }

  /** Residency totals of every folder of an account, by folder id. */
  residencyTotalsByFolder(accountId: string): Map<string, ResidencyTotals> {
    const rows = this.statement(
      `SELECT folder_id, residency, count(*) AS count, coalesce(sum(size), 0) AS bytes FROM messages
       WHERE account_id = ? GROUP BY folder_id, residency`,
    ).all(accountId) as Array<{ folder_id: string; residency: Residency; count: number; bytes: number }>;
    const result = new Map<string, ResidencyTotals>();
    for (const row of rows) {
      const totals = result.get(row.folder_id) ?? emptyTotals();
      totals[row.residency] = { count: row.count, bytes: row.bytes };
      result.set(row.folder_id, totals);
    }
    return result;
  }

  // ---------------------------------------------------------------- storing messages

  private insertFts(rowId: number, subject: string, addresses: string, body: string): void {
    this.statement('INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?, ?, ?, ?)').run(
      rowId,
      subject,
      addresses,
      body,
    );
  }

  /**
   * `searchable: false` leaves the row without a search entry, listed in search_pending (migration
   * 6): its body is expected in this sync pass and makes the entry then.
   */
  private insertRow(
    values: RowValues,
    bodyText: string,
    envelope: Envelope,
    searchable = true,
  ): { rowId: number; threadKey: string } {
    // Conversations (threads.ts): the key is known before the insert, so no INSERT trigger is needed.
    const prepare = (sql: string) => this.statement(sql);
    const threadKey = threadNewRow(prepare, values, envelope.references);
    const result = this.statement(INSERT_ROW_SQL).run({ ...values, thread_key: threadKey });
    const rowId = Number(result.lastInsertRowid);
    threadInsertedRow(prepare, rowId, values, envelope.references, threadKey);
    if (searchable) {
      this.insertFts(rowId, envelope.subject, addressText(envelope.from, envelope.to, envelope.cc), bodyText);
    } else {
      this.statement('INSERT OR IGNORE INTO search_pending (row_id) VALUES (?)').run(rowId);
    }
    return { rowId, threadKey };
  }

  /**
   * indexPendingSearch, except on a full disk (the very moment someone looks for large mail to
   * delete): searching and opening the store still work from what is indexed, and the waiting rows
   * get their entry at the next search or opening that has room.
   */
  indexPendingSearchIfRoom(): void {
    try {
      this.indexPendingSearch();
    } catch (error) {
      if (!(error instanceof MailError && error.code === 'DISK_FULL')) throw error;
    }
  }

  /**
   * Gives every row still waiting for its search entry (insertHeaderOnlyBatch `deferSearch`) the
   * entry of its headers, as if it had been made at insert time. Run before each search and when
   * the store opens, so a search never misses a message whose body has not come yet. Returns how
   * many entries it made.
   */
  indexPendingSearch(): number {
    const pending = this.statement(
      `SELECT m.row_id, m.subject, m.from_name, m.from_address, m.to_json, m.cc_json
         FROM search_pending p JOIN messages m ON m.row_id = p.row_id ORDER BY p.row_id`,
    ).all() as Array<{
      row_id: number;
      subject: string;
      from_name: string;
      from_address: string;
      to_json: string;
      cc_json: string;
    }>;
    if (pending.length === 0) return 0;
    this.index.transaction(() => {
      for (const row of pending) {
        this.insertFts(
          row.row_id,
          row.subject,
          addressText(rowFrom(row), parseAddresses(row.to_json), parseAddresses(row.cc_json)),
          '',
        );
      }
      this.statement('DELETE FROM search_pending').run();
    });
    return pending.length;
  }

  /**
   * Header-only rows (IMAP envelopes) in one transaction, in input order; an identity already
   * stored is left as it is (`created: false`). Returns ids, not records: this is the hot path
   * of an initial sync, and reading every row back would cost more than writing it.
   */
  insertHeaderOnlyBatch(
    inputs: readonly HeaderOnlyInput[],
    options: { deferSearch?: boolean } = {},
  ): Array<{ id: string; created: boolean }> {
    const folders = new Map<string, FolderRecord>();
    const results: Array<{ id: string; created: boolean }> = [];
    const confirmedAt = nowIso();
    const now = Date.now();
    this.index.transaction(() => {
      for (const input of inputs) {
        let folder = folders.get(input.folderId);
        if (!folder) {
          folder = this.requireFolder(input.folderId);
          folders.set(folder.id, folder);
        }
        const existing = this.statement(
          'SELECT id FROM messages WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid = ?',
        ).get(input.folderId, input.imap.uidvalidity, input.imap.uid) as { id: string } | undefined;
        if (existing) {
          results.push({ id: existing.id, created: false });
          continue;
        }
        const flags = normalizeFlags(input.flags);
        const receivedAt = millisecondsOrNull(input.receivedAt);
        const envelope = envelopeColumns(input.envelope);
        const id = newMessageId();
        this.insertRow(
          {
            id,
            account_id: folder.accountId,
            folder_id: folder.id,
            remote_uidvalidity: input.imap.uidvalidity,
            remote_uid: input.imap.uid,
            pop_uidl: null,
            ...envelope,
            received_at: receivedAt,
            downloaded_at: null,
            sort_date: envelope.date ?? receivedAt ?? now,
            size: input.size,
            flags_json: JSON.stringify(flags),
            seen: isSeen(flags) ? 1 : 0,
            sha256: null,
            local_path: null,
            on_server: 1,
            server_confirmed_at: input.serverConfirmedAt ?? confirmedAt,
            has_attachments: input.hasAttachments ? 1 : 0,
            preview: '',
            parse_warning: null,
          },
          '',
          input.envelope,
          options.deferSearch !== true,
        );
        results.push({ id, created: true });
      }
    });
    for (const folder of folders.values()) this.emitMessages(folder.accountId, [folder.id]);
    return results;
  }

  insertHeaderOnly(input: HeaderOnlyInput): MessageRecord {
    return rowToRecord(this.requireRow(this.insertHeaderOnlyBatch([input])[0].id), this.absolute);
  }

  /** The index's facts (not the decoded parts) of a message just written. */
  private async parseStored(source: Buffer | Readable, written: WrittenMessage): Promise<ParsedMessage> {
    return parseMessage(Buffer.isBuffer(source) ? source : { path: written.path }, { indexOnly: true });
  }

  private async receivedTime(path: string): Promise<number> {
    return Math.round((await stat(path)).mtimeMs);
  }

  private fullRowValues(
    id: string,
    folder: FolderRecord,
    written: { size: number; sha256: string; time: number; path: string },
    parsed: ParsedMessage,
    extra: {
      flags: string[];
      imap: ImapIdentity | null;
      popUidl: string | null;
      onServer: boolean;
      receivedAt: number;
      serverConfirmedAt: string | null;
    },
  ): RowValues {
    const envelope = envelopeColumns(parsed.envelope);
    const downloadedAt = written.time * 1000;
    return {
      id,
      account_id: folder.accountId,
      folder_id: folder.id,
      remote_uidvalidity: extra.imap?.uidvalidity ?? null,
      remote_uid: extra.imap?.uid ?? null,
      pop_uidl: extra.popUidl,
      ...envelope,
      thread_id: parsed.threadId,
      received_at: extra.receivedAt,
      downloaded_at: downloadedAt,
      sort_date: envelope.date ?? extra.receivedAt ?? downloadedAt,
      size: written.size,
      flags_json: JSON.stringify(extra.flags),
      seen: isSeen(extra.flags) ? 1 : 0,
      sha256: written.sha256,
      local_path: this.relativeToProfile(written.path),
      on_server: extra.onServer ? 1 : 0,
      server_confirmed_at: extra.serverConfirmedAt,
      has_attachments: parsed.hasAttachments ? 1 : 0,
      preview: parsed.preview,
      parse_warning: parsed.parseWarning,
    };
  }

  /**
   * A header-only row becomes whole: only the columns the body changes are set (the indexes and
   * triggers of unchanged columns are left alone; setting every column made the commit several
   * times slower), and its search entry is replaced by one with the body text. False when no row
   * matched `condition`.
   */
  private updateWithBody(row: MessageRow, values: RowValues, parsed: ParsedMessage, condition: string): boolean {
    if (!this.setBodyColumns(row, values, condition)) return false;
    this.replaceSearchEntries([{ row, parsed }]);
    return true;
  }

  /** The columns of `row` that its body changes (see updateWithBody). False when no row matched `condition`. */
  private setBodyColumns(row: MessageRow, values: RowValues, condition: string): boolean {
    const changed = ROW_COLUMNS.filter((column) => column !== 'id' && values[column] !== row[column]);
    if (changed.length === 0) return true;
    const parameters: Record<string, unknown> = { id: values.id };
    for (const column of changed) parameters[column] = values[column];
    const assignments = changed.map((column) => `${column} = @${column}`).join(', ');
    return this.statement(`UPDATE messages SET ${assignments} WHERE id = @id${condition}`).run(parameters).changes > 0;
  }

  /**
   * Gives rows whose body arrived the search entry with their body text, in place of their header
   * entry or of their wait in search_pending. The old entries go first and the new ones are made in
   * ascending rowid order: FTS5 writes its pending entries out as a new segment whenever a rowid is
   * not above the previous one of the transaction (fts5_index.c, sqlite3Fts5IndexBeginWrite), so
   * bodies attached newest first, one segment each, made the commit 2.5 times slower.
   */
  private replaceSearchEntries(entries: ReadonlyArray<{ row: MessageRow; parsed: ParsedMessage }>): void {
    const ordered = [...entries].sort((a, b) => a.row.row_id - b.row.row_id);
    for (const { row } of ordered) {
      // A row still waiting for its first search entry (insertRow) has none to delete.
      const waited = this.statement('DELETE FROM search_pending WHERE row_id = ?').run(row.row_id).changes > 0;
      if (!waited) this.statement('DELETE FROM messages_fts WHERE rowid = ?').run(row.row_id);
    }
    for (const { row, parsed } of ordered) {
      this.insertFts(
        row.row_id,
        parsed.envelope.subject,
        addressText(parsed.envelope.from, parsed.envelope.to, parsed.envelope.cc),
        parsed.bodyText,
      );
    }
  }

  private recordPopUidl(accountId: string, uidl: string, downloadedAt: string, size: number | null = null): void {
    this.statement(
      `INSERT INTO pop_uidl_state (account_id, uidl, downloaded_at, size) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, uidl) DO UPDATE SET size = coalesce(excluded.size, size)`,
    ).run(accountId, uidl, downloadedAt, size);
  }

  /**
   * Stores a complete message: durable file in cur/, then the index row (and FTS, POP3 UIDL,
   * queued action) in one commit, synced to disk when it gates a POP3 DELE. Idempotent for a
   * known IMAP identity (a header-only row gets its body) or POP3 UIDL (the stored row is
   * returned, nothing is written).
   */
  async insertMessage(input: NewMessageInput): Promise<InsertResult> {
    const folder = this.requireFolder(input.folderId);
    if (input.imap) {
      const existing = this.findByImapIdentity(folder.id, input.imap);
      if (existing) {
        if (existing.localPath) return { record: existing, created: false };
        return { record: await this.attachBody(existing.id, input.source), created: false };
      }
    }
    if (input.popUidl) {
      const existing = this.findByPopUidl(folder.accountId, input.popUidl);
      if (existing) {
        if (!Buffer.isBuffer(input.source)) input.source.destroy();
        return { record: existing, created: false };
      }
    }
    const flags = normalizeFlags(input.flags ?? []);
    const imap = input.imap ?? null;
    const popUidl = input.popUidl ?? null;
    const onServer = input.onServer ?? (imap !== null || popUidl !== null);
    if (!onServer && imap !== null) {
      throw new MailError('INVALID_INPUT', 'A message with an IMAP UID is on the server by definition.');
    }
    const directory = this.folderDir(folder);
    await ensureMaildir(directory);
    const written = await writeMessage(directory, input.source, {
      flags,
      imap,
      popUidl: onServer ? popUidl : null,
      receivedAt: input.receivedAt ? new Date(input.receivedAt) : null,
      host: this.host,
      onStep: this.onStep,
    });
    try {
      const parsed = await this.parseStored(input.source, written);
      const receivedAt = await this.receivedTime(written.path);
      const values = this.fullRowValues(written.id, folder, written, parsed, {
        flags,
        imap,
        popUidl,
        onServer,
        receivedAt,
        serverConfirmedAt: onServer ? (input.serverConfirmedAt ?? nowIso()) : null,
      });
      const commit = input.durable || popUidl !== null ? this.index.commitDurably : this.index.transaction;
      commit(() => {
        this.insertRow(values, parsed.bodyText, parsed.envelope);
        if (popUidl !== null)
          this.recordPopUidl(folder.accountId, popUidl, new Date(written.time * 1000).toISOString(), written.size);
        if (input.enqueue) this.insertAction(input.enqueue);
      });
    } catch (error) {
      // The index refused the row: take the file back out so the two stay in step.
      await deleteMessageFile(written.path).catch(() => undefined);
      throw error;
    }
    this.onStep?.('after-index-commit');
    this.emitMessages(folder.accountId, [folder.id]);
    return { record: rowToRecord(this.requireRow(written.id), this.absolute), created: true };
  }

  /**
   * Stores many complete messages of one folder (the hot path of a POP3 download): the files are
   * written and fsynced in parallel and renamed into cur/ with one directory fsync
   * (maildir-batch.ts), then every row (FTS, POP3 UIDL) goes in ONE commit, synced to disk
   * (synchronous=FULL) unless `durable: false`: by default when any message carries a POP3 UIDL,
   * because that may gate a DELE. A caller that passes `durable: false` calls
   * `makeIndexDurable()` before any DELE. Results in input order; a UIDL already stored (or
   * repeated in the batch) writes nothing (`created: false`). All or nothing: on failure no file
   * and no row of the batch stays. 'after-index-commit' is reported once per message committed.
   */
  async insertMessageBatch(
    folderId: string,
    inputs: readonly BatchMessageInput[],
    options: { durable?: boolean } = {},
  ): Promise<InsertResult[]> {
    const folder = this.requireFolder(folderId);
    const results = new Array<InsertResult | null>(inputs.length).fill(null);
    const fresh: Array<{ index: number; input: BatchMessageInput; flags: string[]; onServer: boolean }> = [];
    const inBatch = new Map<string, number>();
    const repeats: Array<{ index: number; first: number }> = [];
    for (const [index, input] of inputs.entries()) {
      const uidl = input.popUidl ?? null;
      const existing = uidl === null ? null : this.findByPopUidl(folder.accountId, uidl);
      const first = uidl === null ? undefined : inBatch.get(uidl);
      if (existing) results[index] = { record: existing, created: false };
      else if (first !== undefined) repeats.push({ index, first });
      else {
        if (uidl !== null) inBatch.set(uidl, index);
        fresh.push({
          index,
          input,
          flags: normalizeFlags(input.flags ?? []),
          onServer: input.onServer ?? uidl !== null,
        });
      }
    }
    if (fresh.length > 0) {
      const directory = this.folderDir(folder);
      await ensureMaildir(directory);
      // Parsing (on the parse worker, main/mime/parse-pool.ts; begun by the caller as the bytes
      // arrived, or now) runs while the thread pool writes and fsyncs the files. The worker parses
      // one message at a time, each with its own time limit.
      const parsing = Promise.all(
        fresh.map(({ input }) => input.parsed ?? sharedParsePool().parseForIndex(input.source)),
      );
      parsing.catch(() => undefined);
      const written = await writeMessageBatch(
        directory,
        fresh.map(({ input, flags, onServer }) => ({
          source: input.source,
          flags,
          imap: null,
          popUidl: onServer ? (input.popUidl ?? null) : null,
          receivedAt: input.receivedAt ? new Date(input.receivedAt) : null,
        })),
        { host: this.host, onStep: this.onStep },
      );
      let committed: MessageRow[];
      try {
        const parsed = await parsing;
        const rows = fresh.map(({ input, flags, onServer }, position) =>
          this.fullRowValues(
            written[position].id,
            folder,
            withDigest(written[position], parsed[position], input.source),
            parsed[position],
            {
              flags,
              imap: null,
              popUidl: input.popUidl ?? null,
              onServer,
              receivedAt: Math.round(written[position].mtimeMs),
              serverConfirmedAt: onServer ? (input.serverConfirmedAt ?? nowIso()) : null,
            },
          ),
        );
        const durable = options.durable ?? fresh.some(({ input }) => (input.popUidl ?? null) !== null);
        const inserted: Array<{ rowId: number; threadKey: string }> = [];
        (durable ? this.index.commitDurably : this.index.transaction)(() => {
          for (const [position, { input }] of fresh.entries()) {
            inserted.push(this.insertRow(rows[position], parsed[position].bodyText, parsed[position].envelope));
            const uidl = input.popUidl ?? null;
            if (uidl !== null) {
              const at = new Date(written[position].time * 1000).toISOString();
              this.recordPopUidl(folder.accountId, uidl, at, written[position].size);
            }
          }
        });
        committed = rows.map((values, position) => ({
          ...values,
          row_id: inserted[position].rowId,
          thread_key: inserted[position].threadKey,
          residency: residencyOfValues(values),
        }));
      } catch (error) {
        // The index refused the rows: take the files back out so the two stay in step.
        await Promise.all(written.map((file) => deleteMessageFile(file.path).catch(() => undefined)));
        throw error;
      }
      // The records are made from the values just committed, not read back (10,000 SELECTs in a
      // POP3 download of 10,000 messages); only the generated residency column is computed here.
      for (const [position, { index }] of fresh.entries()) {
        this.onStep?.('after-index-commit');
        results[index] = { record: rowToRecord(committed[position], this.absolute), created: true };
      }
      this.emitMessages(folder.accountId, [folder.id]);
    }
    for (const { index, first } of repeats) {
      results[index] = { record: (results[first] as InsertResult).record, created: false };
    }
    return results as InsertResult[];
  }

  /**
   * Makes every commit so far durable: one small commit with synchronous=FULL syncs the WAL, and
   * with it every commit before it (WAL frames are appended in order). For a POP3 DELE that
   * follows commits made without a sync (insertMessageBatch with `durable: false`).
   */
  makeIndexDurable(): void {
    this.index.commitDurably(() => {
      this.statement(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run('index-durable-at', JSON.stringify(nowIso()));
    });
  }

  /** Stores the body of a header-only row (IMAP BODY.PEEK[] on open, or for offline folders). */
  async attachBody(messageId: string, source: Buffer | Readable): Promise<MessageRecord> {
    return this.locks.run(messageId, async () => {
      const row = this.requireRow(messageId);
      if (row.local_path !== null) {
        if (!Buffer.isBuffer(source)) source.destroy();
        return rowToRecord(row, this.absolute);
      }
      const folder = this.requireFolder(row.folder_id);
      const flags = parseStrings(row.flags_json);
      const imap =
        row.remote_uid !== null && row.remote_uidvalidity !== null
          ? { uidvalidity: row.remote_uidvalidity, uid: row.remote_uid }
          : null;
      const directory = this.folderDir(folder);
      await ensureMaildir(directory);
      const written = await writeMessage(directory, source, {
        id: row.id,
        flags: flags.filter(isMaildirFlag),
        imap,
        popUidl: row.on_server === 1 ? row.pop_uidl : null,
        receivedAt: row.received_at !== null ? new Date(row.received_at) : null,
        host: this.host,
        onStep: this.onStep,
      });
      try {
        const parsed = await this.parseStored(source, written);
        const values = this.fullRowValues(row.id, folder, written, parsed, {
          flags,
          imap,
          popUidl: row.pop_uidl,
          onServer: row.on_server === 1,
          receivedAt: await this.receivedTime(written.path),
          serverConfirmedAt: row.server_confirmed_at,
        });
        // A POP3 body (after TOP) becomes "downloaded" here, and that gates a DELE: durable, like insertMessage.
        const popUidl = row.on_server === 1 ? row.pop_uidl : null;
        const commit = popUidl !== null ? this.index.commitDurably : this.index.transaction;
        commit(() => {
          if (popUidl !== null) {
            this.recordPopUidl(row.account_id, popUidl, new Date(written.time * 1000).toISOString(), written.size);
          }
          this.updateWithBody(row, values, parsed, '');
        });
      } catch (error) {
        await deleteMessageFile(written.path).catch(() => undefined);
        throw error;
      }
      this.onStep?.('after-index-commit');
      this.emitMessages(row.account_id, [row.folder_id]);
      return rowToRecord(this.requireRow(messageId), this.absolute);
    });
  }

  /**
   * The header-only messages of a folder that still need their body, newest UID first, for one
   * UIDVALIDITY: only what a download needs (id, UID, RFC822.SIZE), not whole records.
   */
  listMissingBodies(folderId: string, uidvalidity: number): Array<{ id: string; uid: number; size: number }> {
    return this.statement(
      `SELECT id, remote_uid AS uid, size FROM messages
       WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid IS NOT NULL AND local_path IS NULL
       ORDER BY remote_uid DESC`,
    ).all(folderId, uidvalidity) as Array<{ id: string; uid: number; size: number }>;
  }

  /**
   * Stores the bodies of many header-only rows at once (IMAP bodies for offline folders): per
   * folder the files are written and fsynced in parallel and renamed into cur/ with one directory
   * fsync (attach-batch.ts), then ONE commit holds every row of the batch. A body counts as stored
   * only once its file is durable and that commit is done. One outcome per input, in input order:
   * a row that is gone or already has its body writes nothing, and a file that cannot be written
   * fails alone. If the commit fails, every file of the batch is taken out again and this throws.
   */
  async attachBodies(items: readonly BodyToAttach[]): Promise<AttachOutcome[]> {
    return this.locks.runAll(
      items.map((item) => item.messageId),
      async () => {
        const outcomes = new Array<AttachOutcome>(items.length);
        interface Pending {
          index: number;
          row: MessageRow;
          folder: FolderRecord;
          flags: string[];
          imap: ImapIdentity | null;
          source: Buffer;
          parsed: Promise<ParsedMessage> | undefined;
        }
        const byFolder = new Map<string, Pending[]>();
        const seen = new Set<string>();
        for (const [index, { messageId, source, parsed }] of items.entries()) {
          const row = this.getRow(messageId);
          const folder = row ? this.getFolder(row.folder_id) : null;
          if (!row || !folder) outcomes[index] = { messageId, status: 'gone' };
          else if (row.local_path !== null || seen.has(messageId)) {
            outcomes[index] = { messageId, status: 'present', size: row.size, sha256: row.sha256 };
          } else {
            seen.add(messageId);
            const imap =
              row.remote_uid !== null && row.remote_uidvalidity !== null
                ? { uidvalidity: row.remote_uidvalidity, uid: row.remote_uid }
                : null;
            const group = byFolder.get(folder.id) ?? [];
            group.push({ index, row, folder, flags: parseStrings(row.flags_json), imap, source, parsed });
            byFolder.set(folder.id, group);
          }
        }
        const stored: Array<{ pending: Pending; values: RowValues; parsed: ParsedMessage }> = [];
        for (const group of byFolder.values()) {
          const directory = this.folderDir(group[0].folder);
          // Parsing (on the parse worker, main/mime/parse-pool.ts; begun by the caller as the bytes
          // arrived, or now) runs while the thread pool writes and fsyncs the files. The worker
          // parses one message at a time, each with its own time limit.
          const parsing = Promise.all(
            group.map(({ source, parsed }) => parsed ?? sharedParsePool().parseForIndex(source)),
          );
          parsing.catch(() => undefined);
          await ensureMaildir(directory);
          const files = await writeFilesInParallel(
            directory,
            group.map(({ row, flags, imap, source }) => ({
              id: row.id,
              source,
              flags: flags.filter(isMaildirFlag),
              imap,
              popUidl: row.on_server === 1 ? row.pop_uidl : null,
              receivedAt: row.received_at !== null ? new Date(row.received_at) : null,
            })),
            { host: this.host, onStep: this.onStep },
          );
          const parsed = await parsing;
          for (const [position, pending] of group.entries()) {
            const file = files[position];
            if ('error' in file) {
              outcomes[pending.index] = { messageId: pending.row.id, status: 'failed', error: file.error };
              continue;
            }
            const written = withDigest(file.written, parsed[position], pending.source);
            const values = this.fullRowValues(pending.row.id, pending.folder, written, parsed[position], {
              flags: pending.flags,
              imap: pending.imap,
              popUidl: pending.row.pop_uidl,
              onServer: pending.row.on_server === 1,
              receivedAt: file.written.mtimeMs,
              serverConfirmedAt: pending.row.server_confirmed_at,
            });
            stored.push({ pending, values, parsed: parsed[position] });
          }
        }
        if (stored.length === 0) return outcomes;
        // A POP3 body (after TOP) becomes "downloaded" here, and that gates a DELE: durable, like insertMessage.
        const durable = stored.some(({ pending }) => pending.row.on_server === 1 && pending.row.pop_uidl !== null);
        const vanished = new Set<(typeof stored)[number]>();
        try {
          (durable ? this.index.commitDurably : this.index.transaction)(() => {
            const searchEntries: Array<{ row: MessageRow; parsed: ParsedMessage }> = [];
            for (const entry of stored) {
              const { pending, values, parsed } = entry;
              const { row } = pending;
              if (!this.setBodyColumns(row, values, ' AND local_path IS NULL')) {
                // Removed (or made whole) by something that did not wait for this batch: its file goes.
                vanished.add(entry);
                continue;
              }
              searchEntries.push({ row, parsed });
              if (row.on_server === 1 && row.pop_uidl !== null) {
                const at = new Date(values.downloaded_at ?? Date.now()).toISOString();
                this.recordPopUidl(row.account_id, row.pop_uidl, at, values.size);
              }
            }
            this.replaceSearchEntries(searchEntries);
          });
        } catch (error) {
          // The index refused the rows: take the files back out so the two stay in step.
          await Promise.all(
            stored.map(({ values }) =>
              deleteMessageFile(this.absolute(values.local_path ?? '')).catch(() => undefined),
            ),
          );
          throw error;
        }
        for (const { pending, values } of vanished) {
          await deleteMessageFile(this.absolute(values.local_path ?? '')).catch(() => undefined);
          outcomes[pending.index] = { messageId: pending.row.id, status: 'gone' };
        }
        const touched = new Map<string, Set<string>>();
        for (const entry of stored) {
          if (vanished.has(entry)) continue;
          const { pending, values } = entry;
          this.onStep?.('after-index-commit');
          outcomes[pending.index] = {
            messageId: pending.row.id,
            status: 'stored',
            size: values.size,
            sha256: values.sha256,
          };
          const folders = touched.get(pending.folder.accountId) ?? new Set<string>();
          folders.add(pending.folder.id);
          touched.set(pending.folder.accountId, folders);
        }
        for (const [accountId, folderIds] of touched) this.emitMessages(accountId, folderIds);
        return outcomes;
      },
    );
  }

  // ---------------------------------------------------------------- changing messages

  /**
   * Renames a message's file (its flags, server identity and folder live in its name), then records
   * the new name in the index with `commit`. If the index refuses (a full disk), the file gets its
   * old name back, so that row and file stay in step and the message stays readable.
   */
  private async renameThenCommit(
    localPath: string | null,
    renameFile: (absolutePath: string) => Promise<string>,
    commit: (localPath: string | null) => void,
  ): Promise<void> {
    const renamed = localPath === null ? null : this.relativeToProfile(await renameFile(this.absolute(localPath)));
    try {
      commit(renamed);
    } catch (error) {
      if (localPath !== null && renamed !== null && renamed !== localPath) {
        const from = this.absolute(renamed);
        const to = this.absolute(localPath);
        await rename(from, to).catch(() => undefined);
        await syncDirectory(dirname(to)).catch(() => undefined);
        if (dirname(from) !== dirname(to)) await syncDirectory(dirname(from)).catch(() => undefined);
      }
      throw error;
    }
  }

  /** Sets the flags (Maildir: a rename; keywords beyond the Maildir letters live in the index). */
  async setFlags(
    messageId: string,
    flags: readonly string[],
    options: { enqueue?: NewAction } = {},
  ): Promise<MessageRecord> {
    return this.locks.run(messageId, async () => {
      const row = this.requireRow(messageId);
      const normalized = normalizeFlags(flags);
      await this.renameThenCommit(
        row.local_path,
        (path) => renameMessage(path, { flags: normalized.filter(isMaildirFlag) }),
        (localPath) =>
          this.index.transaction(() => {
            this.statement('UPDATE messages SET flags_json = ?, seen = ?, local_path = ? WHERE id = ?').run(
              JSON.stringify(normalized),
              isSeen(normalized) ? 1 : 0,
              localPath,
              messageId,
            );
            if (options.enqueue) this.insertAction(options.enqueue);
          }),
      );
      this.emitMessages(row.account_id, [row.folder_id]);
      return rowToRecord(this.requireRow(messageId), this.absolute);
    });
  }

  /**
   * The server's flags for many messages of a resync at once: each file is renamed, each
   * directory is fsynced once (not once per message), then one commit updates every row. A
   * change is skipped when its row is gone or no longer the message at `imap` in `folderId` (moved
   * or re-mapped meanwhile). Returns the ids whose flags were stored.
   */
  async setServerFlags(
    changes: ReadonlyArray<{ messageId: string; folderId: string; imap: ImapIdentity; flags: readonly string[] }>,
  ): Promise<string[]> {
    if (changes.length === 0) return [];
    return this.locks.runAll(
      changes.map((change) => change.messageId),
      async () => {
        const updates: Array<{ row: MessageRow; flags: string[]; localPath: string | null }> = [];
        const directories = new Set<string>();
        try {
          for (const change of changes) {
            const row = this.getRow(change.messageId);
            if (
              !row ||
              row.folder_id !== change.folderId ||
              row.remote_uidvalidity !== change.imap.uidvalidity ||
              row.remote_uid !== change.imap.uid
            ) {
              continue;
            }
            const flags = normalizeFlags(change.flags);
            let localPath = row.local_path;
            if (localPath !== null) {
              const path = this.absolute(localPath);
              const parsed = parseMaildirName(basename(path));
              if (!parsed) continue;
              const target = join(dirname(path), formatMaildirName({ ...parsed, flags: flags.filter(isMaildirFlag) }));
              if (target !== path) {
                await rename(path, target);
                directories.add(dirname(path));
              }
              localPath = this.relativeToProfile(target);
            }
            updates.push({ row, flags, localPath });
          }
        } finally {
          // Renames done so far are made durable before any row says so (as renameMessage does).
          for (const directory of directories) await syncDirectory(directory);
        }
        if (updates.length === 0) return [];
        this.index.transaction(() => {
          for (const { row, flags, localPath } of updates) {
            this.statement('UPDATE messages SET flags_json = ?, seen = ?, local_path = ? WHERE id = ?').run(
              JSON.stringify(flags),
              isSeen(flags) ? 1 : 0,
              localPath,
              row.id,
            );
          }
        });
        const byAccount = new Map<string, Set<string>>();
        for (const { row } of updates)
          byAccount.set(row.account_id, (byAccount.get(row.account_id) ?? new Set()).add(row.folder_id));
        for (const [accountId, folderIds] of byAccount) this.emitMessages(accountId, folderIds);
        return updates.map(({ row }) => row.id);
      },
    );
  }

  /**
   * Records the IMAP identity of a message (after APPEND with APPENDUID, MOVE/COPY with COPYUID,
   * RFC 4315, or a re-map after a UIDVALIDITY change). With an identity the message is on the
   * server; `null` clears it (the server copy is not known by UID any more).
   */
  async setRemoteIdentity(
    messageId: string,
    imap: ImapIdentity | null,
    serverConfirmedAt?: string,
  ): Promise<MessageRecord> {
    return this.locks.run(messageId, async () => {
      const row = this.requireRow(messageId);
      const onServer = imap !== null ? 1 : row.on_server;
      await this.renameThenCommit(
        row.local_path,
        (path) => renameMessage(path, { imap }),
        (localPath) =>
          this.statement(
            `UPDATE messages SET remote_uidvalidity = ?, remote_uid = ?, on_server = ?, local_path = ?,
             server_confirmed_at = coalesce(?, server_confirmed_at) WHERE id = ?`,
          ).run(
            imap?.uidvalidity ?? null,
            imap?.uid ?? null,
            onServer,
            localPath,
            serverConfirmedAt ?? null,
            messageId,
          ),
      );
      this.emitMessages(row.account_id, [row.folder_id]);
      return rowToRecord(this.requireRow(messageId), this.absolute);
    });
  }

  /** Notes that the server still had these messages at `at` (a sync saw them). */
  confirmOnServer(messageIds: readonly string[], at: string = nowIso()): void {
    this.index.transaction(() => {
      for (const id of messageIds) {
        this.statement('UPDATE messages SET server_confirmed_at = ? WHERE id = ? AND on_server = 1').run(at, id);
      }
    });
  }

  /**
   * The server no longer has these messages. A header-only row is removed (nothing of it is
   * left anywhere); a stored one stays as local-only, its remote identity dropped from its name.
   * In IMAP mode the sync engine deletes instead when the server's deletion should win.
   */
  async markGoneFromServer(messageIds: readonly string[], at: string = nowIso()): Promise<void> {
    const touched = new Map<string, Set<string>>();
    for (const messageId of messageIds) {
      await this.locks.run(messageId, async () => {
        const row = this.getRow(messageId);
        if (!row) return;
        const folders = touched.get(row.account_id) ?? new Set<string>();
        folders.add(row.folder_id);
        touched.set(row.account_id, folders);
        if (row.local_path === null) {
          this.statement('DELETE FROM messages WHERE id = ?').run(messageId);
          return;
        }
        await this.renameThenCommit(
          row.local_path,
          (path) => renameMessage(path, { imap: null, popUidl: null }),
          (localPath) =>
            this.index.transaction(() => {
              this.statement(
                `UPDATE messages SET on_server = 0, remote_uidvalidity = NULL, remote_uid = NULL, local_path = ?
                 WHERE id = ?`,
              ).run(localPath, messageId);
              if (row.pop_uidl !== null) {
                this.statement(
                  'UPDATE pop_uidl_state SET deleted_on_server_at = coalesce(deleted_on_server_at, ?) WHERE account_id = ? AND uidl = ?',
                ).run(at, row.account_id, row.pop_uidl);
              }
            }),
        );
      });
    }
    for (const [accountId, folders] of touched) this.emitMessages(accountId, folders);
  }

  /**
   * Moves a message to another folder. Its IMAP UID is cleared (a UID belongs to one mailbox,
   * RFC 3501 §2.3.1.1; the sync engine records the new one with setRemoteIdentity after MOVE).
   * Unless told otherwise, it stays on the server when it was there and either keeps its POP3
   * UIDL (a local folder of the same account) or goes to a server folder.
   */
  async moveMessage(messageId: string, targetFolderId: string, options: MoveOptions = {}): Promise<MessageRecord> {
    return this.locks.run(messageId, async () => {
      const row = this.requireRow(messageId);
      const target = this.requireFolder(targetFolderId);
      if (row.folder_id === target.id) return rowToRecord(row, this.absolute);
      const sameAccount = target.accountId === row.account_id;
      const popUidl = sameAccount ? row.pop_uidl : null;
      const onServer =
        options.onServer ?? (sameAccount && row.on_server === 1 && (popUidl !== null || target.kind === 'server'));
      if (row.local_path === null && !onServer) {
        throw new MailError(
          'INVALID_INPUT',
          'Only the headers of this message are on this computer. Download it before moving it to a local folder.',
        );
      }
      const targetDirectory = this.folderDir(target);
      if (row.local_path !== null) await ensureMaildir(targetDirectory);
      await this.renameThenCommit(
        row.local_path,
        (path) => moveMessageFile(path, targetDirectory, { imap: null, popUidl: onServer ? popUidl : null }),
        (localPath) =>
          this.index.transaction(() => {
            this.statement(
              `UPDATE messages SET account_id = ?, folder_id = ?, remote_uidvalidity = NULL, remote_uid = NULL,
               pop_uidl = ?, on_server = ?, local_path = ? WHERE id = ?`,
            ).run(target.accountId, target.id, popUidl, onServer ? 1 : 0, localPath, messageId);
            if (options.enqueue) this.insertAction(options.enqueue);
          }),
      );
      this.emitMessages(row.account_id, [row.folder_id]);
      this.emitMessages(target.accountId, [target.id]);
      return rowToRecord(this.requireRow(messageId), this.absolute);
    });
  }

  /** Copies a stored message into another folder as a new message (new id, no server identity yet). */
  async copyMessage(messageId: string, targetFolderId: string, options: MoveOptions = {}): Promise<MessageRecord> {
    const source = this.requireLocal(messageId);
    const result = await this.insertMessage({
      folderId: targetFolderId,
      source: openStream(source.localPath),
      flags: source.flags,
      onServer: options.onServer ?? false,
      receivedAt: source.receivedAt,
      enqueue: options.enqueue,
    });
    return result.record;
  }

  private removedFrom(row: MessageRow): RemovedMessage {
    return {
      id: row.id,
      accountId: row.account_id,
      folderId: row.folder_id,
      imap:
        row.remote_uid !== null && row.remote_uidvalidity !== null
          ? { uidvalidity: row.remote_uidvalidity, uid: row.remote_uid }
          : null,
      popUidl: row.pop_uidl,
      messageId: row.message_id,
      size: row.size,
      hadLocalCopy: row.local_path !== null,
      wasOnServer: row.on_server === 1,
    };
  }

  /**
   * POP3 copies left on the server whose local file is about to go: their UIDL must stay known
   * after a rebuild too (no name will carry it), so it goes to the account's journal first.
   */
  private async journalKeptPopCopies(accountId: string, rows: readonly MessageRow[]): Promise<void> {
    const kept = rows
      .filter((row) => row.pop_uidl !== null && row.on_server === 1)
      .map((row) => ({ kind: 'kept' as const, uidl: row.pop_uidl as string, at: nowIso() }));
    if (kept.length > 0) await appendPopJournal(this.accountDir(accountId), kept);
  }

  /**
   * Journals the POP3 copies kept on the server among `rows` (sidecar.ts: after a loss of the index
   * they are still known, and not downloaded again), then runs `remove`. On a full disk the journal
   * line may not fit, and deleting mail is how people make room: then `remove` runs first, which
   * frees space, and the journal follows if it fits. What that risks is only that, after a crash in
   * between and a loss of the index, those messages are downloaded again; the index still knows them.
   */
  private async journalKeptPopCopiesThen(
    accountId: string,
    rows: readonly MessageRow[],
    remove: () => Promise<void>,
  ): Promise<void> {
    try {
      await this.journalKeptPopCopies(accountId, rows);
    } catch (error) {
      if (!(error instanceof MailError && error.code === 'DISK_FULL')) throw error;
      await remove();
      await this.journalKeptPopCopies(accountId, rows).catch(() => undefined);
      return;
    }
    await remove();
  }

  /** Deletes the local message (file, then row). Returns what was removed, for the server side. */
  async deleteMessage(messageId: string, options: { enqueue?: NewAction } = {}): Promise<RemovedMessage> {
    return this.locks.run(messageId, async () => {
      const row = this.requireRow(messageId);
      await this.journalKeptPopCopiesThen(row.account_id, [row], async () => {
        if (row.local_path !== null) await deleteMessageFile(this.absolute(row.local_path));
        this.index.transaction(() => {
          this.statement('DELETE FROM messages WHERE id = ?').run(messageId);
          if (options.enqueue) this.insertAction(options.enqueue);
        });
      });
      this.emitMessages(row.account_id, [row.folder_id]);
      return this.removedFrom(row);
    });
  }

  /** Drops the local copy of a message the server still holds (residency both → server). */
  async evictLocalCopy(messageId: string): Promise<MessageRecord> {
    return this.locks.run(messageId, async () => {
      const row = this.requireRow(messageId);
      if (row.local_path === null) return rowToRecord(row, this.absolute);
      if (row.on_server !== 1) {
        throw new MailError(
          'INVALID_INPUT',
          'This computer holds the only copy of this message; it cannot be evicted.',
        );
      }
      const localPath = row.local_path;
      await this.journalKeptPopCopiesThen(row.account_id, [row], async () => {
        await deleteMessageFile(this.absolute(localPath));
        this.statement('UPDATE messages SET local_path = NULL, sha256 = NULL WHERE id = ?').run(messageId);
      });
      this.emitMessages(row.account_id, [row.folder_id]);
      return rowToRecord(this.requireRow(messageId), this.absolute);
    });
  }

  // ---------------------------------------------------------------- POP3 bookkeeping

  /**
   * What a UIDL listing (RFC 1939 §7) says about messages deleted here but left on the server:
   * their sizes (for the residency view), and which of them are gone from the server now.
   */
  async notePopServerListing(
    accountId: string,
    listing: ReadonlyArray<{ uidl: string; size: number }>,
    at: string = nowIso(),
  ): Promise<void> {
    const sizes = new Map(listing.map((entry) => [entry.uidl, entry.size]));
    const leftOnServer = this.statement(
      `SELECT uidl FROM pop_uidl_state s WHERE account_id = ? AND deleted_on_server_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.account_id = s.account_id AND m.pop_uidl = s.uidl)`,
    ).all(accountId) as Array<{ uidl: string }>;
    const vanished = leftOnServer.map((row) => row.uidl).filter((uidl) => !sizes.has(uidl));
    this.index.transaction(() => {
      const setSize = this.statement('UPDATE pop_uidl_state SET size = ? WHERE account_id = ? AND uidl = ?');
      for (const [uidl, size] of sizes) setSize.run(size, accountId, uidl);
    });
    if (vanished.length > 0) await this.markPopDeletedOnServer(accountId, vanished, at);
  }

  /** Messages deleted here whose POP3 copy is still on the server: only there now (S14). */
  popLeftOnServer(accountId: string): { count: number; bytes: number } {
    const row = this.statement(
      `SELECT count(*) AS count, coalesce(sum(size), 0) AS bytes FROM pop_uidl_state s
       WHERE account_id = ? AND deleted_on_server_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.account_id = s.account_id AND m.pop_uidl = s.uidl)`,
    ).get(accountId) as { count: number; bytes: number };
    return { count: row.count, bytes: row.bytes };
  }

  /** Every UIDL of the account ever downloaded (RFC 1939 §7), with its state. */
  popUidlState(accountId: string): PopUidlRecord[] {
    const rows = this.statement(
      'SELECT uidl, downloaded_at, deleted_on_server_at FROM pop_uidl_state WHERE account_id = ? ORDER BY uidl',
    ).all(accountId) as Array<{ uidl: string; downloaded_at: string; deleted_on_server_at: string | null }>;
    return rows.map((row) => ({
      uidl: row.uidl,
      downloadedAt: row.downloaded_at,
      deletedOnServerAt: row.deleted_on_server_at,
    }));
  }

  /**
   * A POP3 message of which only the header is here (TOP n 0, RFC 1939 §7): residency 'server'.
   * Its UIDL is not recorded as downloaded; attachBody does that once the whole message is stored.
   * Idempotent per UIDL: a message already carrying it is returned as it is.
   */
  insertPopHeaderOnly(input: PopHeaderOnlyInput): MessageRecord {
    const folder = this.requireFolder(input.folderId);
    const existing = this.findByPopUidl(folder.accountId, input.popUidl);
    if (existing) return existing;
    const envelope = envelopeColumns(input.envelope);
    const id = newMessageId();
    this.index.transaction(() => {
      this.insertRow(
        {
          id,
          account_id: folder.accountId,
          folder_id: folder.id,
          remote_uidvalidity: null,
          remote_uid: null,
          pop_uidl: input.popUidl,
          ...envelope,
          received_at: null,
          downloaded_at: null,
          sort_date: envelope.date ?? Date.now(),
          size: input.size,
          flags_json: '[]',
          seen: 0,
          sha256: null,
          local_path: null,
          on_server: 1,
          server_confirmed_at: input.serverConfirmedAt ?? nowIso(),
          has_attachments: input.hasAttachments ? 1 : 0,
          preview: '',
          parse_warning: null,
        },
        '',
        input.envelope,
      );
    });
    this.emitMessages(folder.accountId, [folder.id]);
    return rowToRecord(this.requireRow(id), this.absolute);
  }

  isPopUidlKnown(accountId: string, uidl: string): boolean {
    return (
      this.statement('SELECT 1 FROM pop_uidl_state WHERE account_id = ? AND uidl IN (?, ?)').get(
        accountId,
        uidl,
        encodeUidl(uidl),
      ) !== undefined
    );
  }

  /**
   * After a POP3 session that issued DELE ended with QUIT (RFC 1939 §6: deletions happen in the
   * UPDATE state): the server copies are gone. Stored messages become local-only.
   */
  async markPopDeletedOnServer(accountId: string, uidls: readonly string[], at: string = nowIso()): Promise<void> {
    if (uidls.length === 0) return;
    const rowIds: string[] = [];
    for (const uidl of uidls) {
      const record = this.findByPopUidl(accountId, uidl);
      if (record) rowIds.push(record.id);
    }
    // Journaled so that a rebuild still knows these UIDLs (and that they are gone).
    await appendPopJournal(
      this.accountDir(accountId),
      uidls.map((uidl) => ({ kind: 'gone' as const, uidl, at })),
    );
    this.index.transaction(() => {
      for (const uidl of uidls) {
        this.recordPopUidl(accountId, uidl, at);
        this.statement(
          'UPDATE pop_uidl_state SET deleted_on_server_at = coalesce(deleted_on_server_at, ?) WHERE account_id = ? AND uidl = ?',
        ).run(at, accountId, uidl);
      }
    });
    await this.markGoneFromServer(rowIds, at);
  }

  // ---------------------------------------------------------------- offline queue, outbox, state

  enqueueAction(action: NewAction): QueuedAction {
    const id = this.insertAction(action);
    return this.getAction(id) as QueuedAction;
  }

  getAction(actionId: number): QueuedAction | null {
    const row = this.statement('SELECT * FROM action_queue WHERE id = ?').get(actionId) as ActionRow | undefined;
    return row ? actionFromRow(row) : null;
  }

  /** Queued actions of an account in order (oldest first), by default those still to do. */
  listActions(accountId: string, states: readonly ActionState[] = ['pending', 'running', 'failed']): QueuedAction[] {
    const rows = this.statement(
      `SELECT * FROM action_queue WHERE account_id = ? AND state IN (SELECT value FROM json_each(?)) ORDER BY id`,
    ).all(accountId, JSON.stringify(states)) as ActionRow[];
    return rows.map(actionFromRow);
  }

  updateAction(actionId: number, changes: { state?: ActionState; attempts?: number; lastError?: string | null }): void {
    const action = this.getAction(actionId);
    if (!action) throw notFound('The queued action');
    this.statement('UPDATE action_queue SET state = ?, attempts = ?, last_error = ?, updated_at = ? WHERE id = ?').run(
      changes.state ?? action.state,
      changes.attempts ?? action.attempts,
      changes.lastError !== undefined ? changes.lastError : action.lastError,
      nowIso(),
      actionId,
    );
  }

  removeAction(actionId: number): void {
    this.statement('DELETE FROM action_queue WHERE id = ?').run(actionId);
  }

  addToOutbox(entry: {
    accountId: string;
    messageId: string;
    envelopeFrom: string;
    envelopeTo: readonly string[];
  }): OutboxEntry {
    const result = this.statement(
      `INSERT INTO outbox (account_id, message_id, envelope_from, envelope_to, state, attempts, created_at)
       VALUES (?, ?, ?, ?, 'queued', 0, ?)`,
    ).run(entry.accountId, entry.messageId, entry.envelopeFrom, JSON.stringify(entry.envelopeTo), nowIso());
    return this.getOutboxEntry(Number(result.lastInsertRowid)) as OutboxEntry;
  }

  getOutboxEntry(entryId: number): OutboxEntry | null {
    const row = this.statement('SELECT * FROM outbox WHERE id = ?').get(entryId) as OutboxRow | undefined;
    return row ? outboxFromRow(row) : null;
  }

  listOutbox(accountId: string, states: readonly OutboxState[] = ['queued', 'sending', 'failed']): OutboxEntry[] {
    const rows = this.statement(
      `SELECT * FROM outbox WHERE account_id = ? AND state IN (SELECT value FROM json_each(?)) ORDER BY id`,
    ).all(accountId, JSON.stringify(states)) as OutboxRow[];
    return rows.map(outboxFromRow);
  }

  updateOutbox(
    entryId: number,
    changes: {
      state?: OutboxState;
      attempts?: number;
      nextAttemptAt?: string | null;
      lastError?: string | null;
      sentAt?: string | null;
    },
  ): void {
    const entry = this.getOutboxEntry(entryId);
    if (!entry) throw notFound('The outbox entry');
    this.statement(
      'UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ? WHERE id = ?',
    ).run(
      changes.state ?? entry.state,
      changes.attempts ?? entry.attempts,
      changes.nextAttemptAt !== undefined ? changes.nextAttemptAt : entry.nextAttemptAt,
      changes.lastError !== undefined ? changes.lastError : entry.lastError,
      changes.sentAt !== undefined ? changes.sentAt : entry.sentAt,
      entryId,
    );
  }

  removeFromOutbox(entryId: number): void {
    this.statement('DELETE FROM outbox WHERE id = ?').run(entryId);
  }

  getSyncState(accountId: string, key: string): unknown {
    const row = this.statement('SELECT value FROM sync_state WHERE account_id = ? AND key = ?').get(accountId, key) as
      { value: string } | undefined;
    return row ? safeJson(row.value) : null;
  }

  setSyncState(accountId: string, key: string, value: unknown): void {
    this.statement(
      `INSERT INTO sync_state (account_id, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ).run(accountId, key, JSON.stringify(value ?? null), nowIso());
  }

  getSetting(key: string): unknown {
    const row = this.statement('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? safeJson(row.value) : null;
  }

  setSetting(key: string, value: unknown): void {
    this.statement(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(key, JSON.stringify(value ?? null));
  }

  // ---------------------------------------------------------------- known addresses (completion)

  /**
   * Counts the senders and recipients of rows stored since the last call into known_addresses
   * (row ids above the saved mark), at most `batchRows` rows per transaction; returns whether
   * rows remain. Only additions are counted: a deleted message's addresses stay known.
   */
  indexKnownAddresses(batchRows = 20_000): boolean {
    const top = (this.statement('SELECT max(row_id) AS top FROM messages').get() as { top: number | null }).top ?? 0;
    const saved = Number(this.getSetting(KNOWN_ADDRESSES_MARK) ?? 0);
    // The newest rows were deleted since: row ids above the current top will be used again.
    const mark = Number.isSafeInteger(saved) && saved <= top ? saved : top;
    const until = Math.min(top, mark + batchRows);
    if (until === mark) {
      if (saved !== mark) this.setSetting(KNOWN_ADDRESSES_MARK, mark);
      return false;
    }
    const recipients = (column: string) =>
      `SELECT m.account_id, lower(json_extract(j.value, '$.address')) AS address,
              coalesce(json_extract(j.value, '$.name'), '') AS name, m.sort_date
         FROM messages m, json_each(m.${column}) j WHERE m.row_id > @lo AND m.row_id <= @hi`;
    this.index.transaction(() => {
      this.statement(
        `INSERT INTO known_addresses (account_id, address, name, uses, last_used)
         SELECT account_id, address, max(name), count(*), max(sort_date) FROM (
           SELECT account_id, lower(from_address) AS address, from_name AS name, sort_date
             FROM messages WHERE row_id > @lo AND row_id <= @hi
           UNION ALL ${recipients('to_json')}
           UNION ALL ${recipients('cc_json')}
           UNION ALL ${recipients('bcc_json')}
         ) WHERE address IS NOT NULL AND instr(address, '@') > 1
         GROUP BY account_id, address
         ON CONFLICT (account_id, address) DO UPDATE SET
           uses = uses + excluded.uses,
           last_used = max(last_used, excluded.last_used),
           name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE name END`,
      ).run({ lo: mark, hi: until });
      this.setSetting(KNOWN_ADDRESSES_MARK, until);
    });
    return until < top;
  }

  /**
   * Known addresses whose address, or a word of whose name, starts with `query`: the most used
   * first, then the most recent. Call `indexKnownAddresses` first to include the newest mail.
   */
  suggestAddresses(
    query: string,
    options: { limit: number; accountId?: string | null },
  ): Array<{ name: string; address: string; uses: number }> {
    const escaped = query
      .trim()
      .toLowerCase()
      .replace(/[\\%_]/g, '\\$&');
    if (escaped === '') return [];
    const rows = this.statement(
      `SELECT address, max(name) AS name, sum(uses) AS uses, max(last_used) AS last_used
         FROM known_addresses
        WHERE (address LIKE @prefix ESCAPE '\\' OR name LIKE @prefix ESCAPE '\\' OR name LIKE @word ESCAPE '\\')
          AND (@account IS NULL OR account_id = @account)
        GROUP BY address ORDER BY uses DESC, last_used DESC, address LIMIT @limit`,
    ).all({
      prefix: `${escaped}%`,
      word: `% ${escaped}%`,
      account: options.accountId ?? null,
      limit: options.limit,
    }) as Array<{
      address: string;
      name: string;
      uses: number;
    }>;
    return rows.map((row) => ({ name: row.name, address: row.address, uses: row.uses }));
  }

  // ---------------------------------------------------------------- reconcile and rebuild

  /** Lets the next open skip the folders nothing changes until then (clean-close.ts). */
  private recordCleanClose(): void {
    try {
      const record = collectStamps(this.mailRoot, (name) => SAFE_ID.test(name));
      this.setSetting(CLEAN_CLOSE_KEY, record);
    } catch {
      // Without the record the next open reconciles every folder, as after a crash.
    }
  }

  /**
   * The stamps a clean close left, removed at once: from here on, until the next clean close,
   * an open reconciles every folder (a crash leaves no record).
   */
  private takeCleanClose(): Record<string, string> {
    const record = this.getSetting(CLEAN_CLOSE_KEY);
    if (record === null) return {};
    this.statement('DELETE FROM settings WHERE key = ?').run(CLEAN_CLOSE_KEY);
    return isCleanCloseRecord(record) ? record.stamps : {};
  }

  /**
   * Folders set aside by deleteFolder (renamed to `.trash-<id>`) whose deletion was interrupted.
   * If the index recorded the deletion, it is finished. If not (the index could not be written, or
   * the app stopped in between), the folder is still there for the person: it is put back, before
   * the files are matched with the rows, so that none of its messages is taken for missing.
   */
  private async settleSetAsideFolders(accountId: string, accountDirectory: string): Promise<void> {
    for (const entry of await readdir(accountDirectory, { withFileTypes: true })) {
      if (!entry.isDirectory() || !entry.name.startsWith(TRASH_PREFIX)) continue;
      const setAside = join(accountDirectory, entry.name);
      const folderId = entry.name.slice(TRASH_PREFIX.length);
      if (this.getFolder(folderId)?.accountId === accountId) {
        const original = join(accountDirectory, folderId);
        try {
          await rename(setAside, original);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
          // The folder's directory was made again meanwhile (a sync wrote into it): move the
          // set-aside messages into it, then drop what is left of the set-aside directory.
          await ensureMaildir(original);
          for (const sub of ['cur', 'new']) {
            for (const name of await readdir(join(setAside, sub)).catch(() => [] as string[])) {
              await rename(join(setAside, sub, name), join(original, sub, name));
            }
          }
          await rm(setAside, { recursive: true, force: true });
        }
        await syncDirectory(accountDirectory);
      } else {
        await rm(setAside, { recursive: true, force: true });
      }
    }
  }

  /**
   * Brings the index in line with the Maildir (run at every open; folders whose directories are
   * unchanged since a clean close are skipped, see clean-close.ts). Sweeps tmp/, restores
   * accounts and folders from their sidecars, re-points rows at renamed files, drops rows whose
   * file is gone (or makes them header-only when the server still has the message), and indexes
   * files the index does not know. On an empty index this is the full rebuild.
   */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      sweptTmpFiles: 0,
      indexedFiles: 0,
      renamedFiles: 0,
      relinkedRows: 0,
      headerOnlyRows: 0,
      removedRows: 0,
      accountsRestored: 0,
      foldersRestored: 0,
      popUidlsRestored: 0,
    };
    await mkdir(this.mailRoot, { recursive: true, mode: 0o700 });
    const stamps = this.takeCleanClose();
    /** Folders unchanged since a clean close: their files and rows are as the index says. */
    const unchanged: string[] = [];
    const files = new Map<string, FoundFile>();
    const touched = new Map<string, Set<string>>();
    const touch = (accountId: string, folderId: string): void => {
      const folders = touched.get(accountId) ?? new Set<string>();
      folders.add(folderId);
      touched.set(accountId, folders);
    };

    for (const accountEntry of await readdir(this.mailRoot, { withFileTypes: true })) {
      if (!accountEntry.isDirectory() || !SAFE_ID.test(accountEntry.name)) continue;
      const accountId = accountEntry.name;
      const accountDirectory = this.accountDir(accountId);
      if (!this.statement('SELECT 1 FROM accounts WHERE id = ?').get(accountId)) {
        const account = await readAccountSidecar(accountDirectory);
        if (!account || account.id !== accountId) continue;
        const { id: _id, createdAt: _createdAt, ...settings } = account;
        this.statement('INSERT INTO accounts (id, settings, mode, created_at) VALUES (?, ?, ?, ?)').run(
          account.id,
          JSON.stringify(settings),
          account.mode,
          account.createdAt,
        );
        report.accountsRestored += 1;
      }
      await this.settleSetAsideFolders(accountId, accountDirectory);
      for (const folderEntry of await readdir(accountDirectory, { withFileTypes: true })) {
        if (!folderEntry.isDirectory() || folderEntry.name.startsWith(TRASH_PREFIX)) continue;
        const folderDirectory = join(accountDirectory, folderEntry.name);
        const sidecar = await this.folderSidecarOrRecovery(accountId, folderEntry.name, folderDirectory);
        if (!sidecar) continue;
        let folder = this.getFolder(sidecar.id);
        if (!folder) {
          folder = this.restoreFolder(sidecar);
          if (!folder) continue;
          report.foldersRestored += 1;
        } else {
          const stamp = stamps[`${accountId}/${folderEntry.name}`];
          if (stamp !== undefined && folder.id === folderEntry.name && stamp === (await folderStamp(folderDirectory))) {
            unchanged.push(folder.id);
            continue;
          }
        }
        report.sweptTmpFiles += await sweepTmp(folderDirectory);
        await ensureMaildir(folderDirectory);
        report.renamedFiles += await this.collectFiles(folder, folderDirectory, files);
      }
    }

    // Rows that point at a file: re-point, demote or remove.
    // Folder by folder (rows always belong to a known folder: a foreign key), so that rows of the
    // folders skipped above are not even read.
    const skipped = new Set(unchanged);
    const walkedFolders = (this.statement('SELECT id FROM folders').all() as Array<{ id: string }>).filter(
      (folder) => !skipped.has(folder.id),
    );
    const rows = walkedFolders.flatMap(
      (folder) =>
        this.statement(
          `SELECT id, account_id, folder_id, local_path, on_server, flags_json FROM messages
           WHERE folder_id = ? AND local_path IS NOT NULL`,
        ).all(folder.id) as Array<
          Pick<MessageRow, 'id' | 'account_id' | 'folder_id' | 'local_path' | 'on_server' | 'flags_json'>
        >,
    );
    for (const row of rows) {
      const found = files.get(row.id);
      files.delete(row.id);
      const expected = found ? this.relativeToProfile(join(found.folderDir, 'cur', found.fileName)) : null;
      if (found && expected === row.local_path && found.folder.id === row.folder_id) continue;
      touch(row.account_id, row.folder_id);
      if (found && expected !== null) {
        const name = parseMaildirName(found.fileName);
        if (!name) continue;
        const keywords = parseStrings(row.flags_json).filter((flag) => !isMaildirFlag(flag));
        const flags = normalizeFlags([...name.flags, ...keywords]);
        const hasIdentity = name.imap !== null || name.popUidl !== null;
        this.statement(
          `UPDATE messages SET folder_id = ?, account_id = ?, local_path = ?, flags_json = ?, seen = ?,
           remote_uidvalidity = ?, remote_uid = ?, pop_uidl = coalesce(?, pop_uidl), on_server = ? WHERE id = ?`,
        ).run(
          found.folder.id,
          found.folder.accountId,
          expected,
          JSON.stringify(flags),
          isSeen(flags) ? 1 : 0,
          name.imap?.uidvalidity ?? null,
          name.imap?.uid ?? null,
          name.popUidl,
          hasIdentity ? 1 : row.on_server,
          row.id,
        );
        touch(found.folder.accountId, found.folder.id);
        report.relinkedRows += 1;
      } else if (row.on_server === 1) {
        this.statement('UPDATE messages SET local_path = NULL, sha256 = NULL WHERE id = ?').run(row.id);
        report.headerOnlyRows += 1;
      } else {
        this.statement('DELETE FROM messages WHERE id = ?').run(row.id);
        report.removedRows += 1;
      }
    }

    // Files the index does not know (a crash between rename and commit, or a fresh index).
    const unknown = [...files.values()];
    for (let start = 0; start < unknown.length; start += INDEXING_BATCH_ROWS) {
      const batch = unknown.slice(start, start + INDEXING_BATCH_ROWS);
      const prepared: Array<{ values: RowValues; parsed: ParsedMessage } | null> = [];
      for (let offset = 0; offset < batch.length; offset += INDEXING_CONCURRENCY) {
        prepared.push(
          ...(await Promise.all(
            batch.slice(offset, offset + INDEXING_CONCURRENCY).map((file) => this.prepareFile(file)),
          )),
        );
      }
      this.index.transaction(() => {
        for (const entry of prepared) {
          if (!entry) continue;
          // A header-only row whose body attachBody was storing when the process stopped: the file
          // carries the row's id, and the full row built from the file takes its place.
          this.statement('DELETE FROM messages WHERE id = ? AND local_path IS NULL').run(entry.values.id);
          this.insertRow(entry.values, entry.parsed.bodyText, entry.parsed.envelope);
          if (entry.values.pop_uidl !== null && entry.values.on_server === 1) {
            this.recordPopUidl(
              entry.values.account_id,
              entry.values.pop_uidl,
              isoOrNull(entry.values.downloaded_at) ?? nowIso(),
              entry.values.size,
            );
          }
          touch(entry.values.account_id, entry.values.folder_id);
          report.indexedFiles += 1;
        }
      });
    }

    report.popUidlsRestored += await this.applyPopJournals();

    for (const [accountId, folders] of touched) this.emitMessages(accountId, folders);
    return report;
  }

  /**
   * The sidecar of a folder directory. When it is missing or unreadable, mail in the directory
   * must not become invisible: the sidecar is rewritten from the index if the index knows the
   * folder, else the directory comes back as a local folder "Recovered/<name>".
   */
  private async folderSidecarOrRecovery(
    accountId: string,
    directoryName: string,
    folderDirectory: string,
  ): Promise<FolderSidecar | null> {
    const sidecar = await readFolderSidecar(folderDirectory);
    if (sidecar && sidecar.id === directoryName && sidecar.accountId === accountId) return sidecar;
    if (!SAFE_ID.test(directoryName)) return null;
    try {
      await stat(join(folderDirectory, 'cur'));
    } catch {
      return null;
    }
    const known = this.getFolder(directoryName);
    // A directory the index does not know and that holds no mail (a folder whose creation was cut
    // short) is not brought back as an empty "Recovered/…" folder.
    if (!known && (await holdsNoMail(folderDirectory))) return null;
    let recovered: FolderSidecar;
    if (known && known.accountId === accountId) {
      recovered = this.folderSidecar(known);
    } else {
      recovered = {
        id: directoryName,
        accountId,
        kind: 'local',
        path: `Recovered/${directoryName}`,
        name: directoryName,
        delimiter: '/',
        role: null,
        subscribed: true,
        keepOffline: false,
      };
    }
    try {
      await writeFolderSidecar(folderDirectory, recovered);
    } catch {
      // A full disk must not keep the store from opening: the folder is back in the index all the
      // same, and the sidecar is written at a later opening.
    }
    return recovered;
  }

  private restoreFolder(found: FolderSidecar): FolderRecord | null {
    if (!this.statement('SELECT 1 FROM accounts WHERE id = ?').get(found.accountId)) return null;
    // Two directories claiming one path (a copied directory): keep both, the second renamed.
    const taken = this.findFolder(found.accountId, found.kind, found.path) !== null;
    const sidecar = taken
      ? { ...found, path: `${found.path} (${found.id})`, name: `${found.name} (${found.id})` }
      : found;
    this.statement(
      `INSERT INTO folders (id, account_id, kind, path, name, delimiter, role, subscribed, keep_offline)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      sidecar.id,
      sidecar.accountId,
      sidecar.kind,
      sidecar.path,
      sidecar.name,
      sidecar.delimiter,
      sidecar.role,
      sidecar.subscribed ? 1 : 0,
      sidecar.keepOffline ? 1 : 0,
    );
    return this.getFolder(sidecar.id);
  }

  /**
   * Lists cur/ and new/ of a folder into `files` by message id. Files in new/, in another tool's
   * name format, or whose id is already taken are renamed into cur/ with a name of ours.
   * Returns how many were renamed.
   */
  private async collectFiles(
    folder: FolderRecord,
    folderDirectory: string,
    files: Map<string, FoundFile>,
  ): Promise<number> {
    let renamed = 0;
    for (const sub of ['cur', 'new'] as const) {
      const directory = join(folderDirectory, sub);
      for (const fileName of await readdir(directory)) {
        if (fileName.startsWith('.')) continue;
        const path = join(directory, fileName);
        let details;
        try {
          details = await stat(path);
        } catch {
          continue;
        }
        if (!details.isFile()) continue;
        const parsed = parseMaildirName(fileName);
        if (parsed && sub === 'cur' && !files.has(parsed.id) && parsed.size === details.size) {
          files.set(parsed.id, { folder, folderDir: folderDirectory, fileName });
          continue;
        }
        const colon = fileName.indexOf(':');
        const foreignInfo = colon !== -1 && fileName.slice(colon + 1).startsWith('2,') ? fileName.slice(colon + 3) : '';
        const leadingTime = Number(fileName.split('.')[0]);
        const id = parsed && !files.has(parsed.id) ? parsed.id : newMessageId();
        const newName = formatMaildirName({
          time: parsed?.time ?? (Number.isSafeInteger(leadingTime) ? leadingTime : Math.floor(details.mtimeMs / 1000)),
          id,
          host: parsed?.host ?? this.host,
          size: details.size,
          imap: parsed?.imap ?? null,
          popUidl: parsed?.popUidl ?? null,
          flags: parsed ? parsed.flags : infoToFlags(foreignInfo),
        });
        await rename(path, join(folderDirectory, 'cur', newName));
        await syncDirectory(join(folderDirectory, 'cur'));
        if (sub === 'new') await syncDirectory(directory);
        files.set(id, { folder, folderDir: folderDirectory, fileName: newName });
        renamed += 1;
      }
    }
    return renamed;
  }

  /** Parses one found file into a row; a file that cannot be read is left for the next open. */
  private async prepareFile(file: FoundFile): Promise<{ values: RowValues; parsed: ParsedMessage } | null> {
    const name = parseMaildirName(file.fileName);
    if (!name) return null;
    const path = join(file.folderDir, 'cur', file.fileName);
    let sha256: string;
    let receivedAt: number;
    let bytes: Buffer | null;
    try {
      const details = await stat(path);
      receivedAt = Math.round(details.mtimeMs);
      // Read once, then hashed and parsed from memory, when the parser would read it whole anyway.
      bytes = details.size <= MAX_PARSE_INPUT_BYTES ? await readFile(path) : null;
      sha256 = bytes ? createHash('sha256').update(bytes).digest('hex') : await hashFile(path);
    } catch {
      return null;
    }
    const parsed = await parseMessage(bytes ?? { path });
    const flags = normalizeFlags(name.flags);
    const onServer = name.imap !== null || name.popUidl !== null;
    const values = this.fullRowValues(
      name.id,
      file.folder,
      { size: name.size, sha256, time: name.time, path },
      parsed,
      {
        flags,
        imap: name.imap,
        popUidl: name.popUidl,
        onServer,
        receivedAt,
        serverConfirmedAt: null,
      },
    );
    return { values, parsed };
  }

  /** Replays every account's POP3 UIDL journal into pop_uidl_state. Returns rows added. */
  private async applyPopJournals(): Promise<number> {
    let added = 0;
    const accounts = this.statement('SELECT id FROM accounts').all() as Array<{ id: string }>;
    for (const { id } of accounts) {
      const entries = await readPopJournal(this.accountDir(id));
      if (entries.length === 0) continue;
      this.index.transaction(() => {
        for (const entry of entries) {
          const result = this.statement(
            'INSERT OR IGNORE INTO pop_uidl_state (account_id, uidl, downloaded_at) VALUES (?, ?, ?)',
          ).run(id, entry.uidl, entry.at);
          added += result.changes;
          if (entry.kind === 'gone') {
            this.statement(
              'UPDATE pop_uidl_state SET deleted_on_server_at = coalesce(deleted_on_server_at, ?) WHERE account_id = ? AND uidl = ?',
            ).run(entry.at, id, entry.uidl);
          }
        }
      });
    }
    return added;
  }

  /**
   * Throws the index away and rebuilds it from the Maildir: the same messages, flags, identities
   * and search results. What only the index held is lost: the offline queue, the outbox state,
   * folder sync state (the next sync starts over) and header-only rows (the next sync fetches
   * them again).
   */
  async rebuildFromMaildir(): Promise<ReconcileReport> {
    const file = join(this.profileDir, INDEX_FILE);
    this.statements.clear();
    this.index.close();
    for (const suffix of ['', '-wal', '-shm']) await rm(file + suffix, { force: true });
    this.index = openIndexDatabase(file);
    const report = await this.reconcile();
    this.emit({ kind: 'accounts' });
    return report;
  }
}

interface ActionRow {
  id: number;
  account_id: string;
  kind: string;
  payload: string;
  state: ActionState;
  attempts: number;
  created_at: string;
  updated_at: string;
  last_error: string | null;
}

function actionFromRow(row: ActionRow): QueuedAction {
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    payload: safeJson(row.payload),
    state: row.state,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastError: row.last_error,
  };
}

interface OutboxRow {
  id: number;
  account_id: string;
  message_id: string;
  envelope_from: string;
  envelope_to: string;
  state: OutboxState;
  attempts: number;
  created_at: string;
  next_attempt_at: string | null;
  last_error: string | null;
  sent_at: string | null;
}

function outboxFromRow(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    accountId: row.account_id,
    messageId: row.message_id,
    envelopeFrom: row.envelope_from,
    envelopeTo: parseStrings(row.envelope_to),
    state: row.state,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    sentAt: row.sent_at,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of openStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Opens the store of a profile: creates the layout when new, opens (or re-creates) the index,
 * sweeps tmp/ and reconciles the index with the Maildir (a full rebuild when the index is new).
 */
export async function openMessageStore(options: MessageStoreOptions): Promise<MessageStore> {
  await mkdir(join(options.profileDir, MAIL_DIRECTORY), { recursive: true, mode: 0o700 });
  const store = new MessageStore(options, openIndexDatabase(join(options.profileDir, INDEX_FILE)));
  try {
    store.lastReconcile = await store.reconcile();
    // Rows left without a search entry by a pass that ended before their bodies came.
    store.indexPendingSearchIfRoom();
  } catch (error) {
    store.close();
    throw error;
  }
  return store;
}

export type { FolderRecord, MessageRecord };
