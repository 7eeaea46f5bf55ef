/**
 * What the service sees of an account's sync: one engine per account, for the account's mode.
 * The IMAP engine (sync/imap/) and the POP3 engine (sync/pop3/) implement it; the service
 * constructs them through `createEngine` in sync/create-engine.ts and never talks to a protocol
 * adapter itself.
 */
import type { MailEvent, MailEvents } from '../../shared/api';
import type { ErrorPayload } from '../../shared/errors';
import type { Account, ConnectivityState } from '../../shared/model';
import type { CredentialSource } from '../oauth/credentials';
import type { MessageStore } from '../store/message-store';

export interface EngineContext {
  /** The account as saved now; engines re-read it through this getter, never cache it. */
  account(): Account;
  /** The account's password, read from the secret store when a connection is made. */
  password(): Promise<string>;
  /**
   * What to log in with: the password, or an OAuth access token (main/oauth/credentials.ts). Engines
   * connect through `withCredentials(credentialSourceOf(context), …)`, which falls back to `password()`
   * when this is absent and renews a refused token once.
   */
  credentials?: CredentialSource;
  store: MessageStore;
  /** Pushes an event to every connected renderer (progress, new mail…). */
  emit<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
  /** The account's connection state as the user should see it, with the last error. */
  reportConnectivity(state: ConnectivityState, error: ErrorPayload | null): void;
}

export interface SyncOptions {
  signal?: AbortSignal;
}

export interface AccountEngine {
  readonly accountId: string;
  readonly mode: Account['mode'];
  /**
   * One full pass: replay the queued actions, then sync (IMAP) or download (POP3). Rejects with a
   * MailError when the server cannot be reached; the local store stays as it was.
   */
  syncOnce(options?: SyncOptions): Promise<void>;
  /** Stays connected: IDLE plus polling (IMAP) or the check interval (POP3), reconnecting with backoff. */
  startWatching(): void;
  stopWatching(): Promise<void>;
  /** Makes the full bytes of these messages local now (a message opened, or "download"). */
  fetchBodies(messageIds: readonly string[], options?: SyncOptions): Promise<void>;
  /** Stops everything and closes connections; never throws. */
  close(): Promise<void>;
}
