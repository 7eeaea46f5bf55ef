/**
 * The one contract between the renderer and main. Declared once here; the Electron bridge, the
 * browser-mode WebSocket bridge and the main-process handlers are all type-checked against it.
 *
 * Every method takes at most one plain-data argument and returns a promise of plain data (JSON
 * on the wire: ISO dates, base64 for bytes). Long work is a method that starts it plus progress
 * events, not one long promise.
 */
import type {
  AccountSettings,
  Address,
  ByteCount,
  LeaveOnServer,
  ProtocolMode,
  ResidencyTotals,
  ServerEndpoint,
  AccountView,
  CancellableWork,
  ConnectivityState,
  FolderView,
  MessageDetail,
  MessageSummary,
  Residency,
  SortDirection,
  SortKey,
  SyncProgress,
} from './model';
import type { ErrorPayload } from './errors';
import type { MailtoDraft } from './mailto';

export interface AppInfo {
  version: string;
  /** Which shell hosts the renderer. */
  shell: 'electron' | 'browser';
  profileDir: string;
}

export interface NewAccountRequest {
  settings: AccountSettings;
  /** For password accounts. */
  password?: string;
  /** For OAuth2 accounts (settings.auth.kind 'oauth2'): the finished sign-in whose tokens to use. */
  signInId?: string;
}

/** Starts an OAuth2 sign-in in the system browser (RFC 8252): the address and the provider id. */
export interface OAuthSignInRequest {
  email: string;
  provider: string;
  /** "Sign in again" for this existing account: its new tokens replace the old ones. */
  accountId?: string | null;
}

export interface OAuthSignInStarted {
  signInId: string;
  /** Open this in the system browser (the shell may already have done so: `browserOpened`). */
  authorizationUrl: string;
  browserOpened: boolean;
}

/** The event payload when a sign-in ends, either way. */
export type OAuthSignInFinished =
  | { signInId: string; ok: true; email: string; provider: string; accountId: string | null }
  | { signInId: string; ok: false; error: ErrorPayload; accountId: string | null };

/** What the set-up screen needs to know about a provider, from `lookUpProvider({ email })`. */
export interface ProviderView {
  id: string;
  displayName: string;
  modes: ProtocolMode[];
  imap: ServerEndpoint | null;
  pop3: ServerEndpoint | null;
  smtp: ServerEndpoint;
  /** The login name: the whole address for every provider we know. */
  username: string;
  signIn:
    | { kind: 'oauth2'; provider: string; displayName: string; available: boolean }
    | { kind: 'app-password'; helpUrl: string };
}

export interface ConnectionTestResult {
  incoming: { ok: true } | { ok: false; error: ErrorPayload };
  smtp: { ok: true } | { ok: false; error: ErrorPayload } | null;
}

export interface ListMessagesRequest {
  folderId: string;
  offset: number;
  limit: number;
  sort?: SortKey;
  direction?: SortDirection;
  residency?: Residency | null;
  /**
   * Conversations: one item per conversation present in the folder, its newest message there,
   * ordered by that message (by the sort key); `total` counts conversations. See MessagePage.threads.
   */
  threads?: boolean;
  /** Only the messages of this conversation (a MessageSummary.threadId) in the folder: expanding it. */
  threadId?: string | null;
}

/** A conversation as listed with `threads`: its messages and unread messages in the listed folder. */
export interface ThreadCounts {
  messages: number;
  unread: number;
}

export interface MessagePage {
  total: number;
  offset: number;
  items: MessageSummary[];
  /** With `threads`: per item (same index), its conversation's counts. */
  threads?: ThreadCounts[];
  /** With `threads`: the messages in all the listed conversations. */
  messages?: number;
}

export interface SearchRequest {
  query: string;
  accountId?: string | null;
  limit?: number;
}

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  /** The file's bytes, base64. */
  contentBase64: string;
}

export interface OutgoingMessage {
  accountId: string;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  subject: string;
  text: string;
  html?: string | null;
  attachments?: OutgoingAttachment[];
  inReplyTo?: string | null;
  references?: string[];
  /** The saved draft this message was written from: removed from Drafts once the message is in the outbox. */
  draftId?: string | null;
}

/** Saves a draft; `draftId` names the previous version it replaces (null or absent for a new draft). */
export interface SaveDraftRequest {
  draftId?: string | null;
  message: OutgoingMessage;
}

export interface SavedDraft {
  /** Pass it back to the next save, to `getDraft` and to `sendMessage`; each save gives a new id. */
  draftId: string;
  folderId: string;
  /** `server`: an IMAP Drafts folder (uploaded now or on reconnect); `local`: only on this computer. */
  location: 'server' | 'local';
  savedAt: string;
}

/** A saved draft as the composer reopens it. */
export interface DraftContent {
  draftId: string;
  message: OutgoingMessage;
}

/** An address known from stored mail, for completion in the to/cc/bcc fields. */
export interface AddressSuggestion extends Address {
  /** How many stored messages name it (sender or recipient). */
  uses: number;
}

export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed' | 'delivery-unknown';

export interface OutboxItem {
  id: string;
  accountId: string;
  subject: string;
  to: string[];
  state: OutboxState;
  createdAt: string;
  lastError: string | null;
}

export interface FolderResidency {
  folderId: string;
  path: string;
  kind: 'server' | 'local';
  totals: ResidencyTotals;
}

export interface AccountResidency {
  accountId: string;
  mode: ProtocolMode;
  totals: ResidencyTotals;
  folders: FolderResidency[];
  /** IMAP QUOTA in bytes, when the server reports one. */
  quota: { usage: number; limit: number; warning: boolean } | null;
  /** Bytes this account's mail uses on this computer's disk. */
  diskBytes: number;
  /** When server presence was last confirmed (IMAP: last folder sync; POP3: last UIDL listing). */
  confirmedAt: string | null;
}

export interface ResidencyReport {
  accounts: AccountResidency[];
  totals: ResidencyTotals;
  diskBytes: number;
}

/** A proposed change whose consequences the what-if plan lists before anything happens. */
export type ProposedChange =
  | {
      kind: 'switch-mode';
      to: 'pop3';
      leaveOnServer: LeaveOnServer;
      /** Also download the bodies of every server folder, not just INBOX (POP3 reaches INBOX only). */
      allFolders?: boolean;
      /** The POP3 server; default: the account's saved one, else the IMAP host on port 995 (TLS). */
      server?: ServerEndpoint | null;
    }
  | {
      kind: 'switch-mode';
      to: 'imap';
      /** Server folder path that receives the mail that is only on this computer; null keeps it local. */
      uploadLocalTo: string | null;
      /** The IMAP server; default: the account's saved one, else the POP3 host on port 993 (TLS). */
      server?: ServerEndpoint | null;
    }
  | { kind: 'leave-on-server'; leaveOnServer: LeaveOnServer }
  | { kind: 'keep-offline'; folderId: string; keep: boolean };

export interface PlanEntry {
  messageId: string;
  subject: string;
  folder: string;
  bytes: number;
}

export interface ChangePlan {
  accountId: string;
  change: ProposedChange;
  download: PlanEntry[];
  upload: PlanEntry[];
  /** Deleted on the server by a later policy run (never by the switch itself). */
  deleteOnServer: PlanEntry[];
  unreachable: PlanEntry[];
  /** Already uploaded or present on both sides: counted, not moved. */
  skippedDuplicates: number;
  totals: { download: ByteCount; upload: ByteCount; deleteOnServer: ByteCount; unreachable: ByteCount };
  /** Residency after the plan has run, as the preview promises it. */
  after: ResidencyTotals;
}

/** Server settings found for an email domain (autoconfig, RFC 6186 SRV), best first per protocol. */
export interface DiscoveredSettings {
  email: string;
  displayName: string | null;
  imap: DiscoveredServer[];
  pop3: DiscoveredServer[];
  smtp: DiscoveredServer[];
  /** Why each source that gave nothing gave nothing, in words. */
  reasons: string[];
}

export interface DiscoveredServer {
  protocol: 'imap' | 'pop3' | 'smtp';
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  username: string | null;
  source: string;
}

export interface AttachmentContent {
  filename: string;
  contentType: string;
  base64: string;
}

export interface RemoteImages {
  /** URL → a data: URL of the image, fetched by main (the renderer itself makes no request). */
  images: Record<string, string>;
  /** URLs that could not be fetched, or were not images, with the reason. */
  failed: Array<{ url: string; reason: string }>;
}

export interface ExportFolderRequest {
  folderId: string;
  format: 'mbox' | 'eml';
}

export interface ExportFolderResult {
  /** The file (mbox) or folder (eml) written. */
  path: string;
  exported: number;
  /** Messages whose body is not on this computer and could not be downloaded. */
  skipped: number;
}

/** Methods main serves to the renderer. */
export interface MailApi {
  getAppInfo(): Promise<AppInfo>;
  listAccounts(): Promise<AccountView[]>;
  addAccount(request: NewAccountRequest): Promise<AccountView>;
  removeAccount(request: { accountId: string }): Promise<void>;
  testConnection(request: NewAccountRequest): Promise<ConnectionTestResult>;
  listFolders(request: { accountId: string }): Promise<FolderView[]>;
  listMessages(request: ListMessagesRequest): Promise<MessagePage>;
  getMessage(request: { messageId: string }): Promise<MessageDetail>;
  syncAccount(request: { accountId: string }): Promise<void>;
  updateAccount(request: {
    accountId: string;
    settings: AccountSettings;
    password?: string | null;
  }): Promise<AccountView>;
  getRawMessage(request: { messageId: string }): Promise<{ base64: string }>;
  setFlags(request: { messageIds: string[]; add?: string[]; remove?: string[] }): Promise<void>;
  moveMessages(request: { messageIds: string[]; folderId: string }): Promise<void>;
  copyMessages(request: { messageIds: string[]; folderId: string }): Promise<void>;
  /** POP3 accounts: `fromServer` also deletes the copy left on the server (S6). */
  deleteMessages(request: { messageIds: string[]; fromServer?: boolean }): Promise<void>;
  createFolder(request: {
    accountId: string;
    name: string;
    parentId?: string | null;
    kind: 'server' | 'local';
  }): Promise<FolderView>;
  renameFolder(request: { folderId: string; name: string }): Promise<void>;
  deleteFolder(request: { folderId: string }): Promise<void>;
  downloadMessages(request: { messageIds: string[] }): Promise<void>;
  search(request: SearchRequest): Promise<MessageSummary[]>;
  sendMessage(request: OutgoingMessage): Promise<OutboxItem>;
  listOutbox(request: { accountId?: string | null }): Promise<OutboxItem[]>;
  /** IMAP: the server's Drafts folder (APPEND queued, works offline); POP3: a Drafts folder on this computer. */
  saveDraft(request: SaveDraftRequest): Promise<SavedDraft>;
  getDraft(request: { draftId: string }): Promise<DraftContent>;
  deleteDraft(request: { draftId: string }): Promise<void>;
  /** Addresses of stored mail starting with `query` (address or a word of the name), most used first. */
  suggestAddresses(request: { query: string; limit?: number; accountId?: string | null }): Promise<AddressSuggestion[]>;
  getResidency(request: { accountId?: string | null }): Promise<ResidencyReport>;
  planChange(request: { accountId: string; change: ProposedChange }): Promise<ChangePlan>;
  /** Runs the plan for a mode switch (progress as syncProgress events with phase 'switch'). */
  switchMode(request: { accountId: string; change: ProposedChange }): Promise<ChangePlan>;
  /**
   * Stops the account's long work (a sync pass, a download the user asked for, a mode switch before
   * it is committed; `work` absent: all of them) at its next safe point. What is durably stored
   * stays; the account stays usable and the next sync continues where this one stopped. The work
   * ends with a last syncProgress event (phase 'done') whose `cancelled` says what was stopped.
   */
  cancelWork(request: { accountId: string; work?: CancellableWork | null }): Promise<{ stopped: boolean }>;
  /**
   * Exports a folder (S11) into the user's Downloads folder under a new name (never overwriting):
   * mbox writes one file, eml a folder of .eml files. Bodies only on the server are downloaded
   * first. Progress as syncProgress events with phase 'export', cancellable (work 'export'); a
   * cancelled export removes what it had written and fails with CANCELLED.
   */
  exportFolder(request: ExportFolderRequest): Promise<ExportFolderResult>;
  discoverSettings(request: { email: string }): Promise<DiscoveredSettings>;
  getAttachment(request: { messageId: string; partId: string }): Promise<AttachmentContent>;
  /** Remote content the user chose to load for a message: fetched by main, returned as data. */
  fetchRemoteImages(request: { messageId: string; urls: string[] }): Promise<RemoteImages>;
  startOAuthSignIn(request: OAuthSignInRequest): Promise<OAuthSignInStarted>;
  cancelOAuthSignIn(request: { signInId: string }): Promise<void>;
  lookUpProvider(request: { email: string }): Promise<ProviderView | null>;
}

/** Events main pushes to the renderer, by name, with their payloads. */
export interface MailEvents {
  accountsChanged: { accounts: AccountView[] };
  foldersChanged: { accountId: string };
  messagesChanged: { accountId: string; folderIds: string[] };
  syncProgress: SyncProgress;
  connectivity: { accountId: string; state: ConnectivityState };
  residencyChanged: { accountIds: string[] };
  outboxChanged: { accountId: string };
  newMail: { accountId: string; folderId: string; count: number; subjects: string[] };
  oauthSignInFinished: OAuthSignInFinished;
  /** The operating system asked Whereabouts to write mail (a mailto: link elsewhere). */
  composeRequested: MailtoDraft;
}

export type MailMethod = keyof MailApi;
export type MailEvent = keyof MailEvents;

/**
 * Every method and event by name. The server refuses calls to names outside this list; the
 * checks below fail the build when an interface member is missing from it.
 */
export const MAIL_METHODS = [
  'getAppInfo',
  'listAccounts',
  'addAccount',
  'removeAccount',
  'testConnection',
  'listFolders',
  'listMessages',
  'getMessage',
  'syncAccount',
  'updateAccount',
  'getRawMessage',
  'setFlags',
  'moveMessages',
  'copyMessages',
  'deleteMessages',
  'createFolder',
  'renameFolder',
  'deleteFolder',
  'downloadMessages',
  'search',
  'sendMessage',
  'listOutbox',
  'saveDraft',
  'getDraft',
  'deleteDraft',
  'suggestAddresses',
  'getResidency',
  'planChange',
  'switchMode',
  'cancelWork',
  'exportFolder',
  'discoverSettings',
  'getAttachment',
  'fetchRemoteImages',
  'startOAuthSignIn',
  'cancelOAuthSignIn',
  'lookUpProvider',
] as const satisfies readonly MailMethod[];

export const MAIL_EVENTS = [
  'accountsChanged',
  'foldersChanged',
  'messagesChanged',
  'syncProgress',
  'connectivity',
  'residencyChanged',
  'outboxChanged',
  'newMail',
  'oauthSignInFinished',
  'composeRequested',
] as const satisfies readonly MailEvent[];

type Missing<All, Listed> = Exclude<All, Listed>;
type AssertNone<T extends never> = T;
export type MethodListIsComplete = AssertNone<Missing<MailMethod, (typeof MAIL_METHODS)[number]>>;
export type EventListIsComplete = AssertNone<Missing<MailEvent, (typeof MAIL_EVENTS)[number]>>;

export type MethodRequest<M extends MailMethod> = Parameters<MailApi[M]> extends [infer R] ? R : undefined;
export type MethodResponse<M extends MailMethod> = Awaited<ReturnType<MailApi[M]>>;
