/** Inputs and outputs of the message store's API (message-store.ts). */
import type { Readable } from 'node:stream';
import type { FolderKind, FolderRole } from '../../shared/model';
import type { Envelope } from '../mime/parse';
import type { WriteStep } from './maildir';
import type { ImapIdentity } from './maildir-name';
import type { MessageRecord } from './records';

export type { Envelope } from '../mime/parse';
export type { ImapIdentity } from './maildir-name';
export type { FolderRecord, MessageRecord } from './records';

/** Each durability step of storing a message, in order. */
export type StoreStep = WriteStep | 'after-index-commit';

export interface MessageStoreOptions {
  profileDir: string;
  /** Host name written into Maildir file names (default: os.hostname()). */
  host?: string;
  /** Called at each durability step; crash tests stop the process there. */
  onStep?: (step: StoreStep) => void;
}

export interface FolderInput {
  accountId: string;
  kind: FolderKind;
  /** Full path: the IMAP mailbox name (RFC 3501 §5.1), or the local folder's path. */
  path: string;
  /** Display name; default: the last segment of the path. */
  name?: string;
  delimiter?: string;
  role?: FolderRole | null;
  subscribed?: boolean;
  keepOffline?: boolean;
}

export interface FolderChanges {
  path?: string;
  name?: string;
  delimiter?: string;
  role?: FolderRole | null;
  subscribed?: boolean;
  keepOffline?: boolean;
}

/** Server facts about a folder (RFC 3501 SELECT, RFC 7162 HIGHESTMODSEQ); index only. */
export interface FolderSyncState {
  uidvalidity?: number | null;
  uidnext?: number | null;
  highestmodseq?: string | null;
  lastSyncAt?: string | null;
}

/** A server operation to replay, queued in the same transaction as the local change. */
export interface NewAction {
  accountId: string;
  kind: string;
  /** JSON-able data the sync engine needs to replay the action. */
  payload: unknown;
}

export type ActionState = 'pending' | 'running' | 'failed' | 'done';

export interface QueuedAction {
  id: number;
  accountId: string;
  kind: string;
  payload: unknown;
  state: ActionState;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  lastError: string | null;
}

/** A header-only row from an IMAP FETCH of ENVELOPE, FLAGS, RFC822.SIZE, INTERNALDATE. */
export interface HeaderOnlyInput {
  folderId: string;
  imap: ImapIdentity;
  envelope: Envelope;
  size: number;
  flags: readonly string[];
  receivedAt?: string | null;
  hasAttachments?: boolean;
  serverConfirmedAt?: string | null;
}

/** A header-only row from POP3 TOP n 0 (RFC 1939 §7): headers only, the size from LIST. */
export interface PopHeaderOnlyInput {
  folderId: string;
  popUidl: string;
  envelope: Envelope;
  size: number;
  hasAttachments?: boolean;
  serverConfirmedAt?: string | null;
}

export interface NewMessageInput {
  folderId: string;
  /** The bytes exactly as the server sent them (POP3 RETR, IMAP BODY.PEEK[]) or as composed. */
  source: Buffer | Readable;
  flags?: readonly string[];
  imap?: ImapIdentity | null;
  popUidl?: string | null;
  /** Whether the server holds a copy; default: true when an identity is given. */
  onServer?: boolean;
  receivedAt?: string | null;
  serverConfirmedAt?: string | null;
  /** Commit with synchronous=FULL; always done when `popUidl` is set (it gates DELE). */
  durable?: boolean;
  enqueue?: NewAction;
}

export interface InsertResult {
  record: MessageRecord;
  /** False when the message was already stored (same IMAP identity or POP3 UIDL). */
  created: boolean;
}

/** What a deletion removed; the sync engine uses it to replay the deletion on the server. */
export interface RemovedMessage {
  id: string;
  accountId: string;
  folderId: string;
  imap: ImapIdentity | null;
  popUidl: string | null;
  messageId: string | null;
  size: number;
  hadLocalCopy: boolean;
  wasOnServer: boolean;
}

export interface MoveOptions {
  /** Whether the server holds the message once moved; default: see MessageStore.moveMessage. */
  onServer?: boolean;
  enqueue?: NewAction;
}

export interface PopUidlRecord {
  uidl: string;
  downloadedAt: string;
  deletedOnServerAt: string | null;
}

/** 'delivery-unknown': the connection broke after the final "." of DATA; never resent blindly. */
export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed' | 'delivery-unknown';

export interface OutboxEntry {
  id: number;
  accountId: string;
  messageId: string;
  envelopeFrom: string;
  envelopeTo: string[];
  state: OutboxState;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  lastError: string | null;
  sentAt: string | null;
}

export interface SearchOptions {
  limit?: number;
  accountId?: string;
  folderId?: string;
}

export type StoreChange =
  | { kind: 'accounts' }
  | { kind: 'folders'; accountId: string }
  | { kind: 'messages'; accountId: string; folderIds: string[] };

export interface ReconcileReport {
  /** Orphans of interrupted writes removed from tmp/. */
  sweptTmpFiles: number;
  /** Files in cur/ or new/ that the index did not know, now indexed. */
  indexedFiles: number;
  /** Files renamed into our name format (from new/, or written by another tool). */
  renamedFiles: number;
  /** Rows whose file had moved or changed name (an interrupted rename), pointed at it again. */
  relinkedRows: number;
  /** Rows whose file is gone but whose server copy remains: now header-only. */
  headerOnlyRows: number;
  /** Rows whose file is gone and which had no server copy: removed. */
  removedRows: number;
  accountsRestored: number;
  foldersRestored: number;
  popUidlsRestored: number;
}
