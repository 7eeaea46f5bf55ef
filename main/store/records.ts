/**
 * Rows of the index ↔ the domain types. Everything read from SQLite is checked here (JSON columns
 * are parsed defensively: a bad value yields an empty list, never an exception in a listing).
 */
import type { Address, FolderKind, FolderRole, MessageSummary, Residency } from '../../shared/model';
import type { ImapIdentity } from './maildir-name';

/** The columns of `messages` as SQLite returns them. */
export interface MessageRow {
  row_id: number;
  id: string;
  account_id: string;
  folder_id: string;
  remote_uidvalidity: number | null;
  remote_uid: number | null;
  pop_uidl: string | null;
  message_id: string | null;
  thread_id: string | null;
  /** The conversation, kept by the index's triggers (threads.ts); never written by the app. */
  thread_key?: string | null;
  in_reply_to: string | null;
  references_json: string;
  subject: string;
  subject_sort: string;
  from_name: string;
  from_address: string;
  from_sort: string;
  to_json: string;
  cc_json: string;
  bcc_json: string;
  reply_to_json: string;
  date: number | null;
  received_at: number | null;
  downloaded_at: number | null;
  sort_date: number;
  size: number;
  flags_json: string;
  seen: number;
  sha256: string | null;
  local_path: string | null;
  on_server: number;
  server_confirmed_at: string | null;
  has_attachments: number;
  preview: string;
  parse_warning: string | null;
  residency: Residency;
}

export interface FolderRow {
  id: string;
  account_id: string;
  kind: FolderKind;
  path: string;
  name: string;
  delimiter: string;
  role: FolderRole | null;
  subscribed: number;
  keep_offline: number;
  uidvalidity: number | null;
  uidnext: number | null;
  highestmodseq: string | null;
  last_sync_at: string | null;
}

/** A message as the rest of main sees it: the summary plus what sync needs. */
export interface MessageRecord extends MessageSummary {
  imap: ImapIdentity | null;
  popUidl: string | null;
  onServer: boolean;
  serverConfirmedAt: string | null;
  /** Absolute path of the stored file, or null when only headers are here. */
  localPath: string | null;
  sha256: string | null;
  inReplyTo: string | null;
  references: string[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  /** The Date header as written, or null (the summary's `date` falls back to the received time). */
  headerDate: string | null;
  receivedAt: string | null;
  downloadedAt: string | null;
  parseWarning: string | null;
}

export interface FolderRecord {
  id: string;
  accountId: string;
  kind: FolderKind;
  path: string;
  name: string;
  delimiter: string;
  role: FolderRole | null;
  subscribed: boolean;
  keepOffline: boolean;
  uidvalidity: number | null;
  uidnext: number | null;
  highestmodseq: string | null;
  lastSyncAt: string | null;
}

function parseJsonArray(text: string): unknown[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

export function parseAddresses(text: string): Address[] {
  return parseJsonArray(text).flatMap((entry) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { name, address } = entry as { name?: unknown; address?: unknown };
    return [{ name: typeof name === 'string' ? name : '', address: typeof address === 'string' ? address : '' }];
  });
}

export function parseStrings(text: string): string[] {
  return parseJsonArray(text).filter((entry): entry is string => typeof entry === 'string');
}

export function isoOrNull(milliseconds: number | null): string | null {
  return milliseconds === null ? null : new Date(milliseconds).toISOString();
}

export function millisecondsOrNull(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const time = Date.parse(iso);
  return Number.isFinite(time) ? time : null;
}

/** The sender a row holds; null when it has neither a name nor an address. */
export function rowFrom(row: Pick<MessageRow, 'from_name' | 'from_address'>): Address | null {
  return row.from_name.length > 0 || row.from_address.length > 0
    ? { name: row.from_name, address: row.from_address }
    : null;
}

export function rowToSummary(row: MessageRow): MessageSummary {
  return {
    id: row.id,
    accountId: row.account_id,
    folderId: row.folder_id,
    messageId: row.message_id,
    threadId: row.thread_key ?? row.thread_id,
    subject: row.subject,
    from: rowFrom(row),
    to: parseAddresses(row.to_json),
    date: isoOrNull(row.date ?? row.received_at ?? row.downloaded_at),
    size: row.size,
    flags: parseStrings(row.flags_json),
    residency: row.residency,
    hasAttachments: row.has_attachments === 1,
    preview: row.preview,
  };
}

export function rowToRecord(row: MessageRow, absolutePath: (relative: string) => string): MessageRecord {
  return {
    ...rowToSummary(row),
    imap:
      row.remote_uid !== null && row.remote_uidvalidity !== null
        ? { uidvalidity: row.remote_uidvalidity, uid: row.remote_uid }
        : null,
    popUidl: row.pop_uidl,
    onServer: row.on_server === 1,
    serverConfirmedAt: row.server_confirmed_at,
    localPath: row.local_path === null ? null : absolutePath(row.local_path),
    sha256: row.sha256,
    inReplyTo: row.in_reply_to,
    references: parseStrings(row.references_json),
    cc: parseAddresses(row.cc_json),
    bcc: parseAddresses(row.bcc_json),
    replyTo: parseAddresses(row.reply_to_json),
    headerDate: isoOrNull(row.date),
    receivedAt: isoOrNull(row.received_at),
    downloadedAt: isoOrNull(row.downloaded_at),
    parseWarning: row.parse_warning,
  };
}

export function rowToFolder(row: FolderRow): FolderRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind,
    path: row.path,
    name: row.name,
    delimiter: row.delimiter,
    role: row.role,
    subscribed: row.subscribed === 1,
    keepOffline: row.keep_offline === 1,
    uidvalidity: row.uidvalidity,
    uidnext: row.uidnext,
    highestmodseq: row.highestmodseq,
    lastSyncAt: row.last_sync_at,
  };
}

const SYSTEM_FLAGS = ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen', '\\Recent'];
const SYSTEM_FLAG_BY_LOWER = new Map(SYSTEM_FLAGS.map((flag) => [flag.toLowerCase(), flag]));

/**
 * Flags deduplicated case-insensitively (RFC 3501 §2.3.2: flags are case-insensitive), system
 * flags in their canonical spelling, sorted so that equal sets compare equal. \Recent is
 * session-only on the server and never stored.
 */
export function normalizeFlags(flags: readonly string[]): string[] {
  const byLower = new Map<string, string>();
  for (const raw of flags) {
    const flag = raw.trim();
    if (!flag || /[\s()"{]/.test(flag)) continue;
    const lower = flag.toLowerCase();
    if (lower === '\\recent') continue;
    if (lower === '$forwarded') byLower.set(lower, '$Forwarded');
    else byLower.set(lower, SYSTEM_FLAG_BY_LOWER.get(lower) ?? flag);
  }
  return [...byLower.values()].sort();
}

export function isSeen(flags: readonly string[]): boolean {
  return flags.includes('\\Seen');
}

const REPLY_PREFIX = /^\s*((re|fw|fwd|aw|wg|sv|vs|antw|rif|tr|odp)(\[\d+\])?\s*:\s*)+/i;

/** Subject sort key: reply/forward prefixes in common languages dropped, case folded. */
export function subjectSortKey(subject: string): string {
  return subject.replace(REPLY_PREFIX, '').trim().toLowerCase();
}

export function fromSortKey(from: Address | null): string {
  if (!from) return '';
  return (from.name || from.address).trim().toLowerCase();
}

/** The text the FTS `addresses` column holds: every name and address of From, To and Cc. */
export function addressText(from: Address | null, to: readonly Address[], cc: readonly Address[]): string {
  return [...(from ? [from] : []), ...to, ...cc].map((entry) => `${entry.name} ${entry.address}`.trim()).join(' ');
}
