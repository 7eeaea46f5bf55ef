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
  AccountView,
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

export interface AppInfo {
  version: string;
  /** Which shell hosts the renderer. */
  shell: 'electron' | 'browser';
  profileDir: string;
}

export interface NewAccountRequest {
  settings: AccountSettings;
  password: string;
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
}

export interface MessagePage {
  total: number;
  offset: number;
  items: MessageSummary[];
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
}

/** Events main pushes to the renderer, by name, with their payloads. */
export interface MailEvents {
  accountsChanged: { accounts: AccountView[] };
  foldersChanged: { accountId: string };
  messagesChanged: { accountId: string; folderIds: string[] };
  syncProgress: SyncProgress;
  connectivity: { accountId: string; state: ConnectivityState };
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
] as const satisfies readonly MailMethod[];

export const MAIL_EVENTS = [
  'accountsChanged',
  'foldersChanged',
  'messagesChanged',
  'syncProgress',
  'connectivity',
] as const satisfies readonly MailEvent[];

type Missing<All, Listed> = Exclude<All, Listed>;
type AssertNone<T extends never> = T;
export type MethodListIsComplete = AssertNone<Missing<MailMethod, (typeof MAIL_METHODS)[number]>>;
export type EventListIsComplete = AssertNone<Missing<MailEvent, (typeof MAIL_EVENTS)[number]>>;

export type MethodRequest<M extends MailMethod> = Parameters<MailApi[M]> extends [infer R] ? R : undefined;
export type MethodResponse<M extends MailMethod> = Awaited<ReturnType<MailApi[M]>>;
