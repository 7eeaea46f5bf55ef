/**
 * What the service sees of an account's sync: one engine per account, for the account's mode.
 * The IMAP engine (sync/imap/) and the POP3 engine (sync/pop3/) implement it; the service
 * constructs them through `createEngine` in sync/create-engine.ts and never talks to a protocol
 * adapter itself.
 */
import type { MailEvent, MailEvents } from '../../shared/api';
import { MailError, type ErrorPayload } from '../../shared/errors';
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
  /**
   * Stops the sync passes running or queued now (the user's "Cancel") at their next safe point:
   * between header batches, between messages, between folders. What is durably stored stays, and
   * the next pass continues where this one stopped; watching goes on (the next check comes at its
   * usual time). Those passes reject with a CANCELLED MailError. Resolves once they have stopped,
   * with whether any was running. Body downloads (`fetchBodies`) are stopped by their own signal.
   */
  cancel(): Promise<boolean>;
  /** Stops everything and closes connections; never throws. */
  close(): Promise<void>;
}

/** The error cancelled work ends with: the user asked for it, so it is no failure of the account. */
export function cancelledError(message = 'Stopped, as you asked. What was already downloaded is kept.'): MailError {
  return new MailError('CANCELLED', message);
}

export function isCancelled(error: unknown): boolean {
  return error instanceof MailError && error.code === 'CANCELLED';
}

/** Throws the CANCELLED MailError the signal was aborted with, if the user stopped the work. */
export function throwIfCancelled(signal: AbortSignal | null | undefined): void {
  if (signal?.aborted && isCancelled(signal.reason)) throw signal.reason;
}

/**
 * The engines' "stop this pass": each pass runs with a signal that `cancel()` aborts (combined with
 * the caller's own, e.g. the watch loop's), and `cancel()` waits until those passes have ended.
 * Passes started after a cancel get a fresh signal.
 */
export class PassCanceller {
  private controller = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  run<T>(work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const own = this.controller.signal;
    const combined = signal ? AbortSignal.any([signal, own]) : own;
    // Counted as running before it starts, so a cancel from its first progress event reaches it.
    const pass = Promise.resolve()
      .then(() => work(combined))
      .catch((error: unknown) => {
        // Whatever a cancelled pass ended with (a connection closed under it…), it was cancelled.
        throwIfCancelled(combined);
        throw error;
      });
    this.running.add(pass);
    const forget = (): void => {
      this.running.delete(pass);
    };
    pass.then(forget, forget);
    return pass;
  }

  /** Resolves with whether a pass actually stopped early (one that finished meanwhile does not count). */
  async cancel(): Promise<boolean> {
    if (this.running.size === 0) return false;
    const running = [...this.running];
    this.controller.abort(cancelledError());
    this.controller = new AbortController();
    const outcomes = await Promise.allSettled(running);
    return outcomes.some((outcome) => outcome.status === 'rejected' && isCancelled(outcome.reason));
  }
}
