/**
 * The domain model both processes compile against: accounts → folders → messages, each message
 * with a residency (where its bytes physically live). Plain data only: everything here crosses
 * the wire as JSON (dates as ISO strings).
 */

/** How an account talks to its incoming server. SEMANTICS.md is the contract for both. */
export type ProtocolMode = 'imap' | 'pop3';

/**
 * Transport security for one endpoint. `tls` is implicit TLS (RFC 8314), `starttls` upgrades a
 * plain connection and fails when the server does not offer it (never opportunistic), `none`
 * is plaintext and is refused unless the account explicitly allows it.
 */
export type Security = 'tls' | 'starttls' | 'none';

/** POP3 leave-a-copy policy (SEMANTICS S10). */
export type LeaveOnServer =
  { kind: 'off' } | { kind: 'forever' } | { kind: 'days'; days: number } | { kind: 'until-deleted' };

export interface ServerEndpoint {
  host: string;
  port: number;
  security: Security;
  /** Only meaningful with security 'none': the user accepted sending the password in clear. */
  allowPlaintext?: boolean;
  /** SHA-256 of a certificate the user chose to trust, as 64 lower-case hex digits. */
  pinnedFingerprint?: string | null;
}

export interface AccountSettings {
  name: string;
  email: string;
  mode: ProtocolMode;
  username: string;
  imap: ServerEndpoint | null;
  pop3: ServerEndpoint | null;
  smtp: ServerEndpoint | null;
  leaveOnServer: LeaveOnServer;
  /** Server folder paths whose bodies are kept for offline reading (IMAP mode). */
  offlineFolders: string[];
  checkIntervalMinutes: number;
  /** POP3: fetch only headers (TOP) and download on open; skip messages above a size until asked. */
  pop3Options?: { headersOnly?: boolean; maxMessageKb?: number | null };
  /** How the account logs in; absent means a password (main/oauth/README.md). */
  auth?: AccountAuth;
}

/**
 * `password`: a password (or an app-specific password) from the secret store. `oauth2`: a bearer
 * token (SASL XOAUTH2 / OAUTHBEARER, RFC 7628) from the provider with this id (main/oauth/providers.ts),
 * refreshed with the refresh token kept in the secret store.
 */
export type AccountAuth = { kind: 'password' } | { kind: 'oauth2'; provider: string };

export interface Account extends AccountSettings {
  id: string;
  createdAt: string;
}

export type ConnectivityState = 'online' | 'offline' | 'connecting' | 'error';

export interface AccountView extends Account {
  connectivity: ConnectivityState;
  lastError: { code: string; message: string } | null;
  lastSyncAt: string | null;
  /** OAuth accounts: the provider no longer honours this computer's sign-in; the user must sign in again. */
  signInRequired?: boolean;
}

export type FolderRole = 'inbox' | 'sent' | 'drafts' | 'trash' | 'junk' | 'archive' | 'outbox';

/** `server`: the folder exists on the server (IMAP); `local`: only on this computer. */
export type FolderKind = 'server' | 'local';

export interface FolderView {
  id: string;
  accountId: string;
  name: string;
  path: string;
  delimiter: string;
  role: FolderRole | null;
  kind: FolderKind;
  subscribed: boolean;
  keepOffline: boolean;
  total: number;
  unread: number;
}

/**
 * Where a message physically lives (SEMANTICS S14): `server` only headers are here, `local`
 * only on this computer, `both` the full bytes are here and the server still holds it.
 */
export type Residency = 'server' | 'local' | 'both';

export interface Address {
  name: string;
  address: string;
}

export interface MessageSummary {
  id: string;
  accountId: string;
  folderId: string;
  messageId: string | null;
  threadId: string | null;
  subject: string;
  from: Address | null;
  to: Address[];
  date: string | null;
  size: number;
  flags: string[];
  residency: Residency;
  hasAttachments: boolean;
  preview: string;
}

export interface AttachmentInfo {
  partId: string;
  filename: string;
  contentType: string;
  size: number;
}

/** A body part shown on its own: HTML parts are never concatenated across MIME parts. */
export interface BodyPart {
  partId: string;
  kind: 'text' | 'html';
  content: string;
}

export interface MessageDetail extends MessageSummary {
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  inReplyTo: string | null;
  references: string[];
  /** Null while only headers are here and the body could not be fetched. */
  parts: BodyPart[] | null;
  attachments: AttachmentInfo[];
  sha256: string | null;
  /** Set when the message could not be parsed completely; it is still listed and readable raw. */
  parseWarning: string | null;
}

export interface ByteCount {
  count: number;
  bytes: number;
}

export interface ResidencyTotals {
  server: ByteCount;
  local: ByteCount;
  both: ByteCount;
}

export type SortKey = 'date' | 'from' | 'subject';
export type SortDirection = 'asc' | 'desc';

export type SyncPhase =
  'folders' | 'headers' | 'bodies' | 'download' | 'upload' | 'send' | 'switch' | 'export' | 'done';

/** Long work the user can stop (cancelWork): a sync pass, a download asked for, a mode switch, an export. */
export type CancellableWork = 'sync' | 'download' | 'switch' | 'export';

export interface SyncProgress {
  accountId: string;
  phase: SyncPhase;
  folder: string | null;
  done: number;
  total: number;
  bytes: number;
  /** Present while `cancelWork({ accountId, work })` can stop this work; names the work. */
  cancellable?: CancellableWork;
  /**
   * On the last event (phase 'done') of work the user stopped: which work, and the phase it was in.
   * `folder`, `done`, `total` and `bytes` are then that phase's counts of what is durably here.
   */
  cancelled?: { work: CancellableWork; phase: Exclude<SyncPhase, 'done'> };
}
