/**
 * An IMAP account's sync engine (SEMANTICS S1, S2, S8, S15; DESIGN.md "Sync invariants").
 *
 * One pass (`syncOnce`): replay the offline queue (queue-replay.ts), list the folder tree
 * (folder-sync.ts), bring every folder's headers up to date (message-sync.ts), replay what was
 * queued meanwhile, then download the bodies of folders kept for offline reading
 * (body-download.ts). Passes never overlap; body downloads run after the pass has released the
 * lock, so a push from IDLE is not kept waiting behind a large download.
 *
 * Watching (`startWatching`): a second connection IDLEs on INBOX (RFC 2177) and each change it
 * reports triggers a sync of INBOX over the main connection; the other folders are polled. Local
 * changes are replayed as soon as they are queued. imapflow never reconnects by itself: after a
 * lost connection this engine reconnects with exponential backoff (RECONNECT_MIN_MS doubling up to
 * RECONNECT_MAX_MS) and reports the account offline meanwhile (cached mail stays readable, S2).
 */
import { QUOTA_STATE_KEY, type RecordedQuota } from '../../residency/report';
import { MailError, toErrorPayload } from '../../../shared/errors';
import type { ConnectivityState, SyncProgress } from '../../../shared/model';
import { credentialSourceOf, withCredentials } from '../../oauth/credentials';
import { connectImap } from '../../protocols/imap/connect-imap';
import type { ImapConnectOptions, ImapSession, ImapTimeouts } from '../../protocols/imap/imap-mailbox';
import type { FolderRecord, MessageRecord } from '../../store/message-store';
import {
  isCancelled,
  PassCanceller,
  throwIfCancelled,
  type AccountEngine,
  type EngineContext,
  type SyncOptions,
} from '../engine';
import {
  REQUESTED_BATCH_MAX_BYTES,
  REQUESTED_BATCH_MAX_MESSAGES,
  downloadBody,
  downloadFolderBodies,
  type FolderBodiesOptions,
  type FolderBodiesResult,
  type MissingBody,
} from './body-download';
import { connectivityAfter, isConnectionFailure, toMailError } from './connectivity';
import { syncFolderTree, type PendingFolderChanges } from './folder-sync';
import { syncFolderMessages } from './message-sync';
import { messagesWithQueuedActions, replayQueue } from './queue-replay';

/** First wait before reconnecting after a failure; doubles with each further failure. */
export const RECONNECT_MIN_MS = 1_000;
/** Longest wait between reconnection attempts. */
export const RECONNECT_MAX_MS = 5 * 60_000;
/** How long Cancel waits for the command in flight before closing the connection. */
export const CANCEL_GRACE_MS = 2_000;
/** Messages per header FETCH during a listing. */
export const HEADER_BATCH_SIZE = 250;
/** How long IDLE notifications are gathered before INBOX is synchronized (one sync for a burst). */
const IDLE_SYNC_DELAY_MS = 100;
/** How long local changes are gathered before the queue is replayed. */
const QUEUE_REPLAY_DELAY_MS = 150;
/** Subjects listed in one newMail event. */
const NEW_MAIL_SUBJECTS = 5;
const MILLISECONDS_PER_MINUTE = 60_000;
/** Poll of the folders IDLE does not watch, when the account sets no interval. */
const DEFAULT_POLL_INTERVAL_MS = 5 * MILLISECONDS_PER_MINUTE;

export interface ImapEngineOptions {
  /** Opens a session; the entry points pass nothing (connectImap). Tests wrap it, e.g. to count downloads. */
  connect?: (options: ImapConnectOptions) => Promise<ImapSession>;
  /** Capabilities to act as if the server lacked (see ImapConnectOptions). */
  ignoreCapabilities?: readonly string[];
  /** Poll interval for folders other than INBOX; default: the account's checkIntervalMinutes. */
  pollIntervalMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  headerBatchSize?: number;
  /** Bodies up to this RFC822.SIZE are fetched many per command (default body-download.ts SMALL_BODY_MAX_BYTES). */
  smallBodyMaxBytes?: number;
  /** RFC822.SIZE bytes per batched body FETCH (default body-download.ts BODY_BATCH_MAX_BYTES). */
  bodyBatchBytes?: number;
  timeouts?: ImapTimeouts;
}

function isImapKind(kind: string): boolean {
  return kind.startsWith('imap-');
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, milliseconds);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class ImapAccountEngine implements AccountEngine {
  readonly mode = 'imap' as const;
  readonly accountId: string;
  private session: ImapSession | null = null;
  private connecting: Promise<ImapSession> | null = null;
  private exclusiveTail: Promise<void> = Promise.resolve();
  /**
   * The header pass waiting for the lock, which later requests join, with the signal of the
   * request that queued it: once that is aborted (Cancel), the pass is not joined.
   */
  private queuedPass: { pass: Promise<MailError | null>; signal: AbortSignal | undefined } | null = null;
  private readonly inflightBodies = new Map<string, Promise<MessageRecord>>();
  /** Bodies a batch of downloadOfflineBodies is storing now, by message id (settles when stored or not). */
  private readonly storingBodies = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private watchController: AbortController | null = null;
  private watchLoop: Promise<void> | null = null;
  private idleSession: ImapSession | null = null;
  private unsubscribeStore: (() => void) | null = null;
  private folderSyncTimer: NodeJS.Timeout | null = null;
  private replayTimer: NodeJS.Timeout | null = null;
  private connectivity: { state: ConnectivityState; error: string | null } | null = null;
  private isClosed = false;
  /** The user's "Cancel" of the passes running now (engine.ts). */
  private readonly passes = new PassCanceller();

  constructor(
    private readonly context: EngineContext,
    private readonly options: ImapEngineOptions = {},
  ) {
    this.accountId = context.account().id;
  }

  private get store() {
    return this.context.store;
  }

  // ---- connections -----------------------------------------------------------------------

  private report(state: ConnectivityState, error: unknown = null): void {
    const payload = error === null ? null : toErrorPayload(error);
    const key = payload?.message ?? null;
    if (this.connectivity?.state === state && this.connectivity.error === key) return;
    this.connectivity = { state, error: key };
    this.context.reportConnectivity(state, payload);
  }

  private reportFailure(error: unknown): void {
    const state = connectivityAfter(error);
    if (state !== null) this.report(state, error);
    if (state === 'offline') this.discardSession();
  }

  /**
   * Forgets the main connection after a connection failure: it may not have noticed yet that it
   * is dead (its 'close' comes later), and the next request must not reuse it.
   */
  private discardSession(): void {
    const session = this.session;
    this.session = null;
    if (session && !session.closed) void session.close();
  }

  private async openSession(): Promise<ImapSession> {
    if (this.isClosed) throw new MailError('INTERNAL', 'This account’s connection has been closed.');
    const account = this.context.account();
    if (!account.imap) throw new MailError('INVALID_INPUT', `The account “${account.name}” has no IMAP server set.`);
    if (this.connectivity?.state !== 'online') this.report('connecting');
    const connect = this.options.connect ?? connectImap;
    const endpoint = account.imap;
    const session = await withCredentials(credentialSourceOf(this.context), (credentials) =>
      connect({
        endpoint,
        username: account.username,
        ...credentials,
        ...(this.options.timeouts ? { timeouts: this.options.timeouts } : {}),
        ...(this.options.ignoreCapabilities ? { ignoreCapabilities: this.options.ignoreCapabilities } : {}),
      }),
    );
    // A 'close' always follows an 'error'; the next request reconnects.
    session.on('error', () => undefined);
    if (this.isClosed) {
      await session.close();
      throw new MailError('INTERNAL', 'This account’s connection has been closed.');
    }
    this.report('online');
    return session;
  }

  /** The main connection, opened when first needed and again after it was lost. */
  private async mainSession(): Promise<ImapSession> {
    if (this.session && !this.session.closed) return this.session;
    this.connecting ??= (async () => {
      try {
        const session = await this.openSession();
        session.on('close', () => {
          if (this.session === session) this.session = null;
        });
        this.session = session;
        return session;
      } catch (error) {
        this.reportFailure(error);
        throw toMailError(error);
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  /** Runs `work` after every earlier pass, replay and folder sync has finished. */
  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusiveTail.then(work, work);
    this.exclusiveTail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private emitProgress(progress: Omit<SyncProgress, 'accountId'>): void {
    this.context.emit('syncProgress', { accountId: this.accountId, ...progress });
  }

  // ---- the queue ------------------------------------------------------------------------------

  private pendingImapActions(): number {
    return this.store.listActions(this.accountId, ['pending', 'running']).filter((action) => isImapKind(action.kind))
      .length;
  }

  private pendingFolderChanges(): PendingFolderChanges {
    const appearing = new Set<string>();
    const disappearing = new Set<string>();
    for (const action of this.store.listActions(this.accountId, ['pending', 'running'])) {
      const payload = action.payload as { path?: unknown; newPath?: unknown } | null;
      const path = typeof payload?.path === 'string' ? payload.path : null;
      const newPath = typeof payload?.newPath === 'string' ? payload.newPath : null;
      if (action.kind === 'imap-create-folder' && path) appearing.add(path);
      if (action.kind === 'imap-delete-folder' && path) disappearing.add(path);
      if (action.kind === 'imap-rename-folder' && path && newPath) {
        disappearing.add(path);
        appearing.add(newPath);
      }
    }
    return { appearing, disappearing };
  }

  private async replay(session: ImapSession, signal?: AbortSignal): Promise<void> {
    if (this.pendingImapActions() === 0) return;
    await replayQueue({ session, store: this.store, accountId: this.accountId, signal });
  }

  // ---- one pass -------------------------------------------------------------------------------

  syncOnce(options: SyncOptions = {}): Promise<void> {
    return this.passes.run(async (signal) => {
      await this.syncPass({ signal });
      throwIfCancelled(signal);
    }, options.signal);
  }

  async cancel(): Promise<boolean> {
    const stopping = this.passes.cancel();
    // A command still running after a moment (a large body, a batch on a slow link) is not waited
    // for: its connection is closed. What was stored stays; the next pass connects again.
    const cut = setTimeout(() => this.discardSession(), CANCEL_GRACE_MS);
    try {
      return await stopping;
    } finally {
      clearTimeout(cut);
    }
  }

  private async syncPass(options: SyncOptions): Promise<void> {
    const reusing = this.session !== null && !this.session.closed;
    try {
      await this.passWithBodies(options.signal);
    } catch (error) {
      throwIfCancelled(options.signal); // the user's Cancel (it may have closed the connection): no failure
      // A connection kept open since the last pass may have died unnoticed (sleep, network
      // change): its first command fails. That says nothing about the server; try a fresh one once.
      const stale = reusing && error instanceof MailError && error.code === 'CONNECTION_LOST';
      if (!stale || options.signal?.aborted) {
        this.reportFailure(error);
        throw toMailError(error);
      }
      this.discardSession();
      try {
        await this.passWithBodies(options.signal);
      } catch (retryError) {
        this.reportFailure(retryError);
        throw toMailError(retryError);
      }
    }
  }

  private async passWithBodies(signal?: AbortSignal): Promise<void> {
    const folderFailure = await this.headerPass(signal);
    const session = await this.mainSession();
    await this.downloadOfflineBodies(session, signal);
    this.emitProgress({ phase: 'done', folder: null, done: 0, total: 0, bytes: 0 });
    if (folderFailure) throw folderFailure;
  }

  /**
   * Replay, folders and headers, under the lock. Concurrent requests share one queued pass.
   * Resolves with the first folder-level failure (a folder another client deleted meanwhile…):
   * one folder's problem does not keep the others from being synchronized.
   */
  private headerPass(signal?: AbortSignal): Promise<MailError | null> {
    // A queued pass already cancelled (the user pressed Cancel, then asked again) is not joined:
    // it will end as soon as it starts, and this request wants a pass.
    if (this.queuedPass && !this.queuedPass.signal?.aborted) return this.queuedPass.pass;
    const pass = this.exclusively(async () => {
      if (this.queuedPass?.pass === pass) this.queuedPass = null;
      throwIfCancelled(signal); // cancelled while it waited for the pass before it
      const session = await this.mainSession();
      await this.replay(session, signal);
      this.emitProgress({ phase: 'folders', folder: null, done: 0, total: 0, bytes: 0 });
      const folders = await syncFolderTree(session, this.store, this.context.account(), () =>
        this.pendingFolderChanges(),
      );
      let firstFailure: MailError | null = null;
      for (const folder of folders) {
        if (signal?.aborted) break;
        try {
          await this.syncFolder(session, folder, signal);
        } catch (error) {
          if (isConnectionFailure(error) || session.closed) throw error;
          firstFailure ??= toMailError(error);
        }
      }
      // Changes the user made while the folders were read.
      await this.replay(session, signal);
      await this.recordQuota(session);
      return firstFailure;
    });
    this.queuedPass = { pass, signal };
    pass.catch(() => undefined);
    return pass;
  }

  /**
   * S9: usage and limit of the quota root holding INBOX (RFC 9208), kept for the residency view.
   * A server without QUOTA, or a refusal, leaves the last known figures alone.
   */
  private async recordQuota(session: ImapSession): Promise<void> {
    if (!session.capabilities.has('QUOTA')) return;
    try {
      const quota = await session.quota('INBOX');
      const value: RecordedQuota | null = quota ? { ...quota, checkedAt: new Date().toISOString() } : null;
      this.store.setSyncState(this.accountId, QUOTA_STATE_KEY, value);
    } catch (error) {
      if (isConnectionFailure(error)) throw error;
    }
  }

  private async syncFolder(session: ImapSession, folder: FolderRecord, signal?: AbortSignal): Promise<void> {
    const outcome = await syncFolderMessages(
      {
        session,
        store: this.store,
        accountId: this.accountId,
        headerBatchSize: this.options.headerBatchSize ?? HEADER_BATCH_SIZE,
        busyMessageIds: () => messagesWithQueuedActions(this.store, this.accountId),
        queueIsEmpty: () => this.pendingImapActions() === 0,
        progress: (progress) => this.emitProgress({ phase: 'headers', ...progress }),
        signal,
      },
      folder.id,
    );
    if (outcome.initial || folder.role !== 'inbox') return;
    const unseen = outcome.created.filter((message) => !message.seen);
    if (unseen.length > 0) {
      this.context.emit('newMail', {
        accountId: this.accountId,
        folderId: folder.id,
        count: unseen.length,
        subjects: unseen.slice(0, NEW_MAIL_SUBJECTS).map((message) => message.subject),
      });
    }
  }

  // ---- bodies ---------------------------------------------------------------------------------

  /** One body, shared by everyone who asks for it at the same time. */
  private downloadOne(session: ImapSession, record: MessageRecord, folder: FolderRecord): Promise<MessageRecord> {
    const running = this.inflightBodies.get(record.id);
    if (running) return running;
    const batch = this.storingBodies.get(record.id);
    if (batch) {
      // A batch is storing it right now: take its result, or download it alone if the batch did not store it.
      return batch.then(() => {
        const current = this.store.getMessageRecord(record.id);
        return current?.localPath ? current : this.downloadOne(session, current ?? record, folder);
      });
    }
    const download = (async () => {
      try {
        return (await downloadBody(session, this.store, record, folder)).record;
      } catch (error) {
        if (error instanceof MailError && error.code === 'NOT_FOUND' && !session.closed) {
          // The server no longer has it: its deletion wins (another device deleted it).
          const current = this.store.getMessageRecord(record.id);
          if (current && current.localPath === null && current.imap?.uid === record.imap?.uid) {
            await this.store.deleteMessage(record.id);
          }
        }
        throw error;
      } finally {
        this.inflightBodies.delete(record.id);
      }
    })();
    this.inflightBodies.set(record.id, download);
    return download;
  }

  /**
   * The missing bodies of every folder kept for offline reading, newest first, in pipelined
   * batches (body-download.ts). Only the rows that need a body are read, not whole records.
   */
  private async downloadOfflineBodies(session: ImapSession, signal?: AbortSignal): Promise<void> {
    const work: Array<{ folder: FolderRecord; missing: MissingBody[] }> = [];
    let total = 0;
    for (const folder of this.store.listFolderRecords(this.accountId)) {
      if (folder.kind !== 'server' || !folder.keepOffline || folder.uidvalidity === null) continue;
      const missing = this.store.listMissingBodies(folder.id, folder.uidvalidity);
      if (missing.length === 0) continue;
      work.push({ folder, missing });
      total += missing.length;
    }
    if (total === 0) return;
    let done = 0;
    let bytes = 0;
    const stopped = (): boolean => signal?.aborted === true || this.isClosed;
    for (const { folder, missing } of work) {
      if (stopped()) return;
      await this.downloadBodies(session, folder, missing, {
        batchMaxBytes: this.options.bodyBatchBytes,
        stopped,
        onProgress: (count, stored) => {
          done += count;
          bytes += stored;
          this.emitProgress({ phase: 'bodies', folder: folder.path, done, total, bytes });
        },
      });
    }
  }

  /**
   * Bodies of one folder in pipelined batches (body-download.ts), the large ones streamed one at a
   * time through downloadOne. A large one the server no longer has is removed by downloadOne and
   * counts as removed, as a small one missing from its batch does.
   */
  private downloadBodies(
    session: ImapSession,
    folder: FolderRecord,
    missing: readonly MissingBody[],
    options: Pick<FolderBodiesOptions, 'batchMaxBytes' | 'batchMaxMessages' | 'stopped' | 'onProgress'>,
  ): Promise<FolderBodiesResult> {
    return downloadFolderBodies({
      ...options,
      session,
      store: this.store,
      folder,
      missing,
      smallBodyMaxBytes: this.options.smallBodyMaxBytes,
      downloadLarge: async (body) => {
        const record = this.store.getMessageRecord(body.id);
        if (!record || record.localPath !== null) return 0;
        try {
          return (await this.downloadOne(session, record, folder)).size;
        } catch (error) {
          const removed = this.store.getMessageRecord(body.id) === null;
          if (error instanceof MailError && error.code === 'NOT_FOUND' && removed) return 0;
          throw error;
        }
      },
      track: (ids, storing) => this.trackStoring(ids, storing),
    });
  }

  /** Lets a downloadOne of a message that a batch is storing wait for that batch (see downloadOne). */
  private trackStoring(ids: readonly string[], storing: Promise<unknown>): void {
    const settled = storing.then(
      () => undefined,
      () => undefined,
    );
    for (const id of ids) this.storingBodies.set(id, settled);
    void settled.then(() => {
      for (const id of ids) if (this.storingBodies.get(id) === settled) this.storingBodies.delete(id);
    });
  }

  /**
   * Makes bodies local: one message (opening it) alone; several (a download the user asked for, a
   * mode switch, an export) in pipelined batches per folder, as the offline bodies of a sync, not
   * one FETCH per message (each a round trip to the server). A message the server no longer has
   * is removed here (its deletion wins); one that cannot be stored fails the call, after the
   * others were stored. Cancel (`signal`) takes effect between batches, which are kept small for
   * that (REQUESTED_BATCH_MAX_MESSAGES).
   */
  async fetchBodies(messageIds: readonly string[], options: SyncOptions = {}): Promise<void> {
    const wanted = messageIds
      .map((id) => this.store.getMessageRecord(id))
      .filter((record): record is MessageRecord => record !== null && record.localPath === null);
    if (wanted.length === 0) return;
    try {
      const session = await this.mainSession();
      const byFolder = new Map<string, MessageRecord[]>();
      for (const record of wanted) byFolder.set(record.folderId, [...(byFolder.get(record.folderId) ?? []), record]);
      for (const [folderId, records] of byFolder) {
        if (options.signal?.aborted) return;
        let folder = this.store.getFolder(folderId);
        if (!folder || folder.kind !== 'server') continue;
        // A UID is only meaningful with its UIDVALIDITY (RFC 3501 section 2.3.1.1): if the server
        // renumbered the folder, re-map first, then download by the new UIDs.
        const { uidValidity } = await session.status(folder.path);
        if (records.some((record) => record.imap?.uidvalidity !== uidValidity)) {
          const current = folder;
          await this.exclusively(() => this.syncFolder(session, current, options.signal));
          folder = this.store.getFolder(folderId);
          if (!folder) continue;
        }
        const pending: Array<{ record: MessageRecord; uid: number }> = [];
        for (const stale of records) {
          const record = this.store.getMessageRecord(stale.id);
          if (!record || record.localPath !== null) continue;
          if (record.imap === null || record.imap.uidvalidity !== uidValidity) {
            throw new MailError('NOT_FOUND', `“${record.subject || 'This message'}” is no longer on the server.`);
          }
          pending.push({ record, uid: record.imap.uid });
        }
        if (options.signal?.aborted) return;
        if (pending.length === 1) {
          await this.downloadOne(session, pending[0].record, folder);
          continue;
        }
        const missing = pending.map(({ record, uid }) => ({ id: record.id, uid, size: record.size }));
        const result = await this.downloadBodies(session, folder, missing, {
          batchMaxBytes: Math.min(REQUESTED_BATCH_MAX_BYTES, this.options.bodyBatchBytes ?? REQUESTED_BATCH_MAX_BYTES),
          batchMaxMessages: REQUESTED_BATCH_MAX_MESSAGES,
          stopped: () => options.signal?.aborted === true || this.isClosed,
          onProgress: () => undefined,
        });
        if (result.failures.length > 0) throw result.failures[0].error;
      }
    } catch (error) {
      this.reportFailure(error);
      throw toMailError(error);
    }
  }

  // ---- watching -------------------------------------------------------------------------------

  private pollIntervalMs(): number {
    if (this.options.pollIntervalMs !== undefined) return this.options.pollIntervalMs;
    const minutes = this.context.account().checkIntervalMinutes;
    return Number.isFinite(minutes) && minutes > 0 ? minutes * MILLISECONDS_PER_MINUTE : DEFAULT_POLL_INTERVAL_MS;
  }

  private inboxPath(): string {
    const inbox = this.store
      .listFolderRecords(this.accountId)
      .find((folder) => folder.kind === 'server' && folder.role === 'inbox');
    return inbox?.path ?? 'INBOX';
  }

  private later(delayMs: number, work: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      work();
    }, delayMs);
    this.timers.add(timer);
    return timer;
  }

  /** IDLE said INBOX changed: one INBOX sync for a burst of notifications. */
  private scheduleInboxSync(): void {
    if (this.folderSyncTimer || !this.watchController) return;
    this.folderSyncTimer = this.later(IDLE_SYNC_DELAY_MS, () => {
      this.folderSyncTimer = null;
      const signal = this.watchController?.signal;
      const folder = this.store.findFolder(this.accountId, 'server', this.inboxPath());
      if (!folder || !signal || signal.aborted) return;
      this.passes
        .run(
          (pass) =>
            this.exclusively(async () => {
              const session = await this.mainSession();
              await this.replay(session, pass);
              await this.syncFolder(session, folder, pass);
              return session;
            }).then((session) => this.downloadOfflineBodies(session, pass)),
          signal,
        )
        .catch((error: unknown) => this.reportFailure(error));
    });
  }

  /** Something changed in the store: if it queued server actions, replay them soon. */
  private scheduleReplay(): void {
    if (this.replayTimer || !this.watchController) return;
    this.replayTimer = this.later(QUEUE_REPLAY_DELAY_MS, () => {
      this.replayTimer = null;
      const signal = this.watchController?.signal;
      if (!signal || signal.aborted || this.pendingImapActions() === 0) return;
      // Only while connected: offline, the reconnect loop replays once the server is back.
      if (!this.session || this.session.closed) return;
      this.exclusively(async () => this.replay(await this.mainSession(), signal)).catch((error: unknown) =>
        this.reportFailure(error),
      );
    });
  }

  startWatching(): void {
    if (this.watchController || this.isClosed) return;
    const controller = new AbortController();
    this.watchController = controller;
    this.unsubscribeStore = this.store.onChange((change) => {
      if (change.kind !== 'accounts' && change.accountId === this.accountId) this.scheduleReplay();
    });
    this.watchLoop = this.watch(controller.signal);
  }

  private async watch(signal: AbortSignal): Promise<void> {
    const minimum = this.options.reconnectMinMs ?? RECONNECT_MIN_MS;
    const maximum = this.options.reconnectMaxMs ?? RECONNECT_MAX_MS;
    let delay = minimum;
    while (!signal.aborted) {
      let poll: NodeJS.Timeout | null = null;
      try {
        // A pass the user cancelled is no failure: watching goes on, the next poll syncs again.
        await this.syncOnce({ signal }).catch((error: unknown) => {
          if (!isCancelled(error)) throw error;
        });
        delay = minimum;
        if (signal.aborted) break;
        const idleSession = await this.openSession();
        this.idleSession = idleSession;
        if (signal.aborted) break;
        poll = setInterval(() => {
          this.syncOnce({ signal }).catch(() => undefined);
        }, this.pollIntervalMs());
        await this.idleUntilClosed(idleSession, signal);
      } catch (error) {
        this.reportFailure(error);
      } finally {
        if (poll) clearInterval(poll);
        const idleSession = this.idleSession;
        this.idleSession = null;
        if (idleSession) await idleSession.close();
      }
      if (signal.aborted) break;
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maximum);
    }
  }

  /** IDLE on INBOX until the connection drops or watching stops. */
  private async idleUntilClosed(session: ImapSession, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const stop = new AbortController();
    const onAbort = (): void => stop.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const offClose = session.on('close', () => stop.abort());
    try {
      await session.idle(this.inboxPath(), () => this.scheduleInboxSync(), stop.signal);
    } finally {
      offClose();
      signal.removeEventListener('abort', onAbort);
    }
    if (!signal.aborted) {
      throw new MailError('CONNECTION_LOST', 'The connection that waits for new mail was closed; reconnecting.');
    }
  }

  async stopWatching(): Promise<void> {
    const controller = this.watchController;
    if (!controller) return;
    this.watchController = null;
    controller.abort();
    this.unsubscribeStore?.();
    this.unsubscribeStore = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.folderSyncTimer = null;
    this.replayTimer = null;
    await this.idleSession?.close();
    await this.watchLoop?.catch(() => undefined);
    this.watchLoop = null;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      await this.stopWatching();
    } catch {
      // close() never throws; everything below still runs.
    }
    const session = this.session;
    this.session = null;
    await session?.close();
    await this.connecting?.then((late) => late.close()).catch(() => undefined);
    await this.exclusiveTail;
    await Promise.allSettled([...this.inflightBodies.values(), ...this.storingBodies.values()]);
  }
}

export function createImapEngine(context: EngineContext, options: ImapEngineOptions = {}): ImapAccountEngine {
  return new ImapAccountEngine(context, options);
}
