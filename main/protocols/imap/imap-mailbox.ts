/**
 * The IMAP side of the common mailbox interface (DESIGN.md): everything the sync engine may ask
 * of an IMAP server, in plain data, with errors as MailError. The engine depends on this file
 * only; `connect-imap.ts` builds the imapflow-based implementation.
 *
 * Conventions: a `path` is the folder's full name as the server lists it (Unicode, with the
 * server's delimiter); UIDs are numbers (32-bit, RFC 3501 section 2.3.1.1); mod-sequences are
 * bigint (63-bit, RFC 7162 section 3.1.1); sizes are bytes.
 */
import type { Writable } from 'node:stream';
import type { Address, FolderRole, ServerEndpoint } from '../../../shared/model';
import type { MailError } from '../../../shared/errors';

export interface RemoteFolder {
  path: string;
  /** Last segment of the path, for display. */
  name: string;
  delimiter: string;
  /** Null for top-level folders. */
  parentPath: string | null;
  role: FolderRole | null;
  /**
   * How the role was found: `special-use` from the server's SPECIAL-USE attributes (RFC 6154),
   * `name` guessed from a well-known folder name on servers without SPECIAL-USE, `inbox` for INBOX.
   */
  roleSource: 'special-use' | 'name' | 'inbox' | null;
  subscribed: boolean;
  /** False for \Noselect / \NonExistent entries (RFC 3501 section 7.2.2, RFC 5258): they only hold children. */
  selectable: boolean;
  /** The LIST attributes as the server sent them, e.g. "\\HasNoChildren". */
  attributes: string[];
}

export interface MailboxStatus {
  path: string;
  /** RFC 3501 section 2.3.1.1: when it changes, every UID the client knows is meaningless. */
  uidValidity: number;
  uidNext: number;
  /** Null when the server has no CONDSTORE for this mailbox (RFC 7162 NOMODSEQ). */
  highestModseq: bigint | null;
  exists: number;
  readOnly: boolean;
  /** Flags the server stores for good; `\*` means any keyword can be created. */
  permanentFlags: string[];
}

export interface FolderCounts {
  path: string;
  messages: number;
  unseen: number;
  uidValidity: number;
  uidNext: number;
  highestModseq: bigint | null;
}

export interface RemoteEnvelope {
  date: Date | null;
  subject: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  from: Address[];
  sender: Address[];
  replyTo: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
}

export interface RemoteMessageHeader {
  uid: number;
  flags: string[];
  /** RFC822.SIZE: exactly the bytes a full download delivers. */
  size: number;
  internalDate: Date | null;
  modseq: bigint | null;
  envelope: RemoteEnvelope;
  /** The requested header fields as raw bytes (RFC 5322 header lines, CRLF, unparsed). */
  headers: Buffer;
}

/** Which messages to list: explicit UIDs, or every UID in [from, to] (to omitted: up to the newest). */
export type UidSelection = { uids: readonly number[] } | { from: number; to?: number };

export interface HeaderFetchOptions {
  /** Messages per FETCH; each batch is fully received before `onBatch` sees it. */
  batchSize: number;
  /** Header fields to return raw in `headers`; defaults to DEFAULT_HEADER_FIELDS. */
  headerFields?: readonly string[];
}

export const DEFAULT_HEADER_FIELDS: readonly string[] = [
  'Message-ID',
  'In-Reply-To',
  'References',
  'Content-Type',
  'List-Id',
];

export interface HeaderBatch {
  path: string;
  uidValidity: number;
  messages: RemoteMessageHeader[];
  /** Messages delivered so far (this batch included) and how many UIDs were selected. */
  done: number;
  total: number;
}

export interface HeaderFetchSummary {
  path: string;
  uidValidity: number;
  /** UIDs that were selected but gone by the time their batch was fetched (expunged meanwhile). */
  missing: number[];
  fetched: number;
}

export interface FlagChange {
  uid: number;
  flags: string[];
  modseq: bigint | null;
}

export interface ChangeSince {
  /** The UIDVALIDITY the caller's UIDs belong to. */
  uidValidity: number;
  /** HIGHESTMODSEQ from the last sync; null when the caller has none (then every known UID is checked). */
  modseq: bigint | null;
  /** The UIDs the caller holds for this folder; vanished UIDs are reported only from these. */
  knownUids: readonly number[];
}

export interface ChangeSet {
  status: MailboxStatus;
  /** True when the server's UIDVALIDITY differs: `changed`/`vanished` are empty, the caller re-maps. */
  uidValidityChanged: boolean;
  /**
   * `qresync`: RFC 7162 CHANGEDSINCE + VANISHED; `condstore`: CHANGEDSINCE plus a UID SEARCH for
   * what is gone; `full`: every known message's flags compared (no CONDSTORE on this server).
   */
  method: 'qresync' | 'condstore' | 'full';
  /** Known messages whose flags changed (with `full`: every known message that still exists). */
  changed: FlagChange[];
  /** Known UIDs that no longer exist on the server. */
  vanished: number[];
}

export interface RawMessages {
  messages: Map<number, Buffer>;
  /** Larger than SMALL_MESSAGE_MAX_BYTES: use downloadRaw for these. */
  tooLarge: number[];
  /** No longer on the server. */
  missing: number[];
}

/** What one `UID FETCH set (RFC822.SIZE BODY.PEEK[])` delivered (ImapSession.fetchRawBatch). */
export interface RawBatch {
  /** UID → the message's exact bytes; their length equals the RFC822.SIZE sent with them. */
  messages: Map<number, Buffer>;
  /** UIDs the server answered for but whose bytes did not match their RFC822.SIZE: not delivered. */
  failed: Map<number, MailError>;
  /** UIDs the server sent nothing for: no longer in the folder. */
  missing: number[];
  /** Bytes received (the messages delivered and the ones that failed). */
  bytes: number;
}

export interface RawDownload {
  /** Bytes written, equal to the server's RFC822.SIZE. */
  size: number;
  /** SHA-256 of those bytes, 64 lower-case hex digits. */
  sha256: string;
}

export interface AppendResult {
  /** From APPENDUID (RFC 4315) when the server sends it. */
  uid: number | null;
  uidValidity: number | null;
}

export interface CopyResult {
  /** Source UID → destination UID, from COPYUID (RFC 4315); null when the server sent none. */
  uidMap: Map<number, number> | null;
  destinationUidValidity: number | null;
}

export interface MoveResult extends CopyResult {
  /**
   * `move`: RFC 6851 MOVE. `copy-expunge`: COPY, then \Deleted and UID EXPUNGE of exactly these
   * UIDs (UIDPLUS). `copy-flag`: the server has neither MOVE nor UIDPLUS; a plain EXPUNGE would
   * also remove every other \Deleted message in the folder (including other clients' messages),
   * so the originals were copied and flagged \Deleted but are still in the source folder.
   */
  method: 'move' | 'copy-expunge' | 'copy-flag';
  /** False only with `copy-flag`: the originals remain, flagged \Deleted. */
  sourceRemoved: boolean;
}

export interface QuotaUsage {
  /** Bytes in use and the limit, for the quota root that holds `path` (RFC 9208 STORAGE, sent in KiB). */
  usage: number;
  limit: number;
}

export type MailboxChange =
  | { kind: 'exists'; path: string; count: number }
  | { kind: 'expunge'; path: string; uid: number | null; seq: number | null }
  | { kind: 'flags'; path: string; uid: number | null; flags: string[]; modseq: bigint | null };

export interface SessionEvents {
  /** The connection is gone (server closed it, network lost, or close() was called). Sessions never reconnect by themselves. */
  close: [];
  /** Something went wrong outside a command (e.g. the socket timed out); a `close` follows. */
  error: [error: MailError];
}

export interface ImapSession {
  /** The server's post-login capabilities (RFC 3501 section 7.2.1), minus those the caller asked to ignore. */
  readonly capabilities: ReadonlySet<string>;
  readonly closed: boolean;

  listFolders(): Promise<RemoteFolder[]>;
  /** SELECT (or EXAMINE with readOnly) and report the mailbox state. */
  select(path: string, options?: { readOnly?: boolean }): Promise<MailboxStatus>;
  /** Counts without selecting (STATUS, RFC 3501 section 6.3.10), e.g. for unread badges. */
  status(path: string): Promise<FolderCounts>;

  fetchHeaders(
    path: string,
    selection: UidSelection,
    options: HeaderFetchOptions,
    onBatch: (batch: HeaderBatch) => Promise<void> | void,
  ): Promise<HeaderFetchSummary>;
  fetchChanges(path: string, since: ChangeSince): Promise<ChangeSet>;

  /** Streams the message's exact bytes into `writable`, ends it and waits for 'finish'. On failure `writable` is left open for the caller to discard. */
  downloadRaw(path: string, uid: number, writable: Writable): Promise<RawDownload>;
  fetchRawSmall(path: string, uids: readonly number[]): Promise<RawMessages>;
  /**
   * The exact bytes of several messages in ONE `UID FETCH` (BODY.PEEK[], so \Seen is not set), each
   * checked against the RFC822.SIZE sent with it. Every message is held in memory until the command
   * ends: the caller keeps the set's total size small (a few MiB, from the sizes it already knows).
   * `onMessage` sees each delivered message as soon as it has arrived whole (so that its parse can
   * begin while the rest is on the wire); it must not use the session.
   */
  fetchRawBatch(
    path: string,
    uids: readonly number[],
    onMessage?: (uid: number, source: Buffer) => void,
  ): Promise<RawBatch>;

  append(
    path: string,
    message: Buffer,
    options?: { flags?: readonly string[]; internalDate?: Date },
  ): Promise<AppendResult>;
  copy(path: string, uids: readonly number[], destination: string): Promise<CopyResult>;
  move(path: string, uids: readonly number[], destination: string): Promise<MoveResult>;
  setFlags(path: string, uids: readonly number[], flags: readonly string[]): Promise<void>;
  addFlags(path: string, uids: readonly number[], flags: readonly string[]): Promise<void>;
  removeFlags(path: string, uids: readonly number[], flags: readonly string[]): Promise<void>;
  /** Marks \Deleted and removes exactly these UIDs (UID EXPUNGE, RFC 4315). Refused without UIDPLUS. */
  expungeUids(path: string, uids: readonly number[]): Promise<void>;

  createFolder(path: string): Promise<{ created: boolean }>;
  renameFolder(path: string, newPath: string): Promise<void>;
  deleteFolder(path: string): Promise<void>;
  setSubscribed(path: string, subscribed: boolean): Promise<void>;
  /** Null when the server has no QUOTA extension or no storage limit for this folder. */
  quota(path: string): Promise<QuotaUsage | null>;

  /**
   * Watches `path` (IDLE, RFC 2177) until `signal` aborts or the connection closes. Other calls
   * on this session meanwhile pause IDLE, run, and IDLE resumes.
   */
  idle(path: string, onChange: (change: MailboxChange) => void, signal: AbortSignal): Promise<void>;

  /** LOGOUT (bounded wait), then closes the socket. Never throws. */
  close(): Promise<void>;
  on<K extends keyof SessionEvents>(event: K, listener: (...args: SessionEvents[K]) => void): () => void;
}

export interface ImapTimeouts {
  /** TCP connect plus TLS handshake. */
  connectMs?: number;
  /** From connected to the server's greeting. */
  greetingMs?: number;
  /**
   * Silence allowed on the connection. A command waiting longer for its answer fails, and a
   * session left with neither a command nor idle() running this long is closed ('error' with
   * TIMEOUT, then 'close'): keep a long-lived session in idle().
   */
  socketMs?: number;
}

export interface ImapConnectOptions {
  endpoint: ServerEndpoint;
  username: string;
  /** One of password or accessToken (XOAUTH2/OAUTHBEARER). */
  password?: string;
  accessToken?: string;
  timeouts?: ImapTimeouts;
  /**
   * Capabilities to act as if the server lacked (e.g. ['MOVE', 'UIDPLUS']): for servers that
   * advertise an extension they implement badly, and for testing the fallbacks against a real server.
   */
  ignoreCapabilities?: readonly string[];
}
