/**
 * Replays the offline queue on the server, oldest first (RFC 4549, "Synchronization Operations
 * for Disconnected IMAP4 Clients"). The local store already shows every change; this makes the
 * server match it, and where the server moved on meanwhile, the server wins:
 *
 * - Flag changes go out as +FLAGS/-FLAGS (never FLAGS), so they merge with other clients'
 *   changes. On a message another client expunged they are dropped without a word
 *   (RFC 4549 section 4.2.4; UID STORE on a missing UID is not even an error).
 * - A move or copy of a message gone from the server is dropped and reported: the action stays
 *   in the queue as `failed` with a sentence for the user, and the local row follows the server
 *   (it is deleted: the server's deletion wins).
 * - Nothing that may already have run is sent again blindly. Before APPEND, COPY and MOVE the
 *   destination's UIDNEXT is recorded (sync_state); an action found `running` at the start of a
 *   replay was interrupted after it may have reached the server, and the destination is searched
 *   from that UIDNEXT by Message-ID + size (RFC 4549 section 4.2.2) before anything is repeated.
 * - Queued UIDs carry their UIDVALIDITY: after a change the message is found again by
 *   Message-ID + size; appends name no UID at all and survive it unchanged.
 * - Dependent operations fail together: when creating a folder fails, every later action into
 *   that folder fails with it (and a move is undone locally); when a message's move or append
 *   fails, later actions that needed its new UID fail too.
 * - A connection failure stops the replay; the rest stays queued for the next connection.
 */
import { MailError } from '../../../shared/errors';
import type { ImapSession } from '../../protocols/imap/imap-mailbox';
import type { ImapIdentity, MessageRecord, MessageStore, QueuedAction } from '../../store/message-store';
import type { ImapAppendPayload, ImapMessageRef, ServerAction } from '../server-actions';
import { parseServerAction } from './action-payloads';
import { isConnectionFailure, toMailError } from './connectivity';
import { locateMessage, type LocatedMessage } from './message-locator';

/** Consecutive identical flag changes sent as one UID STORE (mark all read). */
const MAX_FLAG_RUN = 500;
/** sync_state key prefix: the destination's UIDNEXT recorded before a command that creates a message. */
const ATTEMPT_KEY = 'imap-replay-attempt:';

export interface ReplayContext {
  session: ImapSession;
  store: MessageStore;
  accountId: string;
  signal?: AbortSignal;
}

export interface ReplayReport {
  /** Carried out on the server. */
  completed: number;
  /** Removed without effect because the server had already moved on (deleted messages). */
  dropped: number;
  /** Kept as `failed`, with a sentence for the user in lastError. */
  failed: number;
}

type Outcome = { kind: 'done' } | { kind: 'dropped' } | { kind: 'failed'; reason: string };

interface ServerLocation {
  path: string;
  uidValidity: number;
  uid: number;
}

/** Thrown while resolving a message that an earlier, failed action was to put in place. */
class DependencyFailure extends Error {}

function isImapAction(action: QueuedAction): boolean {
  return action.kind.startsWith('imap-');
}

function named(record: MessageRecord | null): string {
  return record?.subject ? `“${record.subject}”` : 'A message';
}

function isUnder(path: string, root: string, delimiter: string): boolean {
  return path === root || (delimiter.length > 0 && path.startsWith(root + delimiter));
}

class ReplayRun {
  private readonly failedPaths = new Map<string, string>();
  private readonly failedMessages = new Map<string, string>();
  /** Where replayed moves, copies and appends put each message (local id → server location). */
  private readonly locations = new Map<string, ServerLocation>();
  private readonly uidValidities = new Map<string, number | null>();
  readonly report: ReplayReport = { completed: 0, dropped: 0, failed: 0 };
  /** The server's hierarchy delimiter (RFC 3501 section 6.3.8), as the folder list recorded it. */
  private readonly delimiter: string;

  constructor(private readonly context: ReplayContext) {
    const serverFolder = context.store.listFolderRecords(context.accountId).find((folder) => folder.kind === 'server');
    this.delimiter = serverFolder?.delimiter ?? '/';
  }

  private get session(): ImapSession {
    return this.context.session;
  }

  private get store(): MessageStore {
    return this.context.store;
  }

  async run(): Promise<ReplayReport> {
    const actions = this.store.listActions(this.context.accountId, ['pending', 'running']).filter(isImapAction);
    for (let index = 0; index < actions.length;) {
      if (this.context.signal?.aborted) break;
      const action = actions[index];
      const parsed = parseServerAction(action);
      if (parsed?.kind === 'imap-flags') {
        const runLength = this.flagRunLength(actions, index, parsed);
        await this.replayFlags(actions.slice(index, index + runLength));
        index += runLength;
        continue;
      }
      await this.replayOne(action, parsed);
      index += 1;
    }
    return this.report;
  }

  private flagRunLength(actions: QueuedAction[], start: number, first: ServerAction & { kind: 'imap-flags' }): number {
    const key = (payload: { folderPath: string; add: string[]; remove: string[] }): string =>
      JSON.stringify([payload.folderPath, [...payload.add].sort(), [...payload.remove].sort()]);
    const firstKey = key(first.payload);
    let length = 1;
    while (start + length < actions.length && length < MAX_FLAG_RUN) {
      const next = parseServerAction(actions[start + length]);
      if (next?.kind !== 'imap-flags' || key(next.payload) !== firstKey) break;
      length += 1;
    }
    return length;
  }

  // ---- bookkeeping ----------------------------------------------------------------------

  /**
   * A server may refuse a command and then hang up (Dovecot: "Mailbox was deleted under us",
   * then BYE). Such a refusal says nothing about the action itself: before an action is marked
   * failed, the connection must prove it is still there; if it is not, the action stays queued.
   */
  private async confirmConnection(): Promise<void> {
    let alive = true;
    try {
      await this.session.status('INBOX');
    } catch {
      alive = false;
    }
    if (!alive || this.session.closed) {
      throw new MailError('CONNECTION_LOST', 'The server closed the connection during the replay; it will be resumed.');
    }
  }

  private begin(action: QueuedAction): void {
    this.store.updateAction(action.id, { state: 'running', attempts: action.attempts + 1 });
  }

  private settle(action: QueuedAction, outcome: Outcome): void {
    if (outcome.kind === 'failed') {
      this.store.updateAction(action.id, { state: 'failed', lastError: outcome.reason });
      this.report.failed += 1;
    } else {
      this.store.removeAction(action.id);
      if (outcome.kind === 'done') this.report.completed += 1;
      else this.report.dropped += 1;
    }
    if (this.store.getSyncState(this.context.accountId, ATTEMPT_KEY + action.id) !== null) {
      this.store.setSyncState(this.context.accountId, ATTEMPT_KEY + action.id, null);
    }
  }

  /** Records the destination's UIDNEXT before a command that creates a message there. */
  private recordAttempt(action: QueuedAction, uidNext: number): void {
    this.store.setSyncState(this.context.accountId, ATTEMPT_KEY + action.id, { uidNext });
  }

  private recordedUidNext(action: QueuedAction): number {
    const saved = this.store.getSyncState(this.context.accountId, ATTEMPT_KEY + action.id) as {
      uidNext?: unknown;
    } | null;
    return typeof saved?.uidNext === 'number' && saved.uidNext >= 1 ? saved.uidNext : 1;
  }

  private async replayOne(action: QueuedAction, parsed: ServerAction | null): Promise<void> {
    const mayHaveRun = action.state === 'running';
    this.begin(action);
    let outcome: Outcome;
    try {
      if (!parsed) {
        outcome = { kind: 'failed', reason: 'This queued change could not be read, so it was not sent to the server.' };
      } else {
        outcome = await this.execute(action, parsed, mayHaveRun);
      }
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      outcome = { kind: 'failed', reason: toMailError(error).message };
    }
    if (outcome.kind === 'failed') await this.confirmConnection();
    this.settle(action, outcome);
  }

  private execute(action: QueuedAction, parsed: ServerAction, mayHaveRun: boolean): Promise<Outcome> {
    switch (parsed.kind) {
      case 'imap-move':
        return this.move(action, parsed.payload, mayHaveRun);
      case 'imap-copy':
        return this.copy(action, parsed.payload, mayHaveRun);
      case 'imap-delete':
        return this.remove(action, parsed.payload, mayHaveRun);
      case 'imap-append':
        return this.append(action, parsed.payload, mayHaveRun);
      case 'imap-create-folder':
        return this.createFolder(parsed.payload.path);
      case 'imap-rename-folder':
        return this.renameFolder(parsed.payload.path, parsed.payload.newPath);
      case 'imap-delete-folder':
        return this.deleteFolder(parsed.payload.path);
      case 'imap-flags':
      case 'pop3-delete':
        return Promise.resolve({ kind: 'failed', reason: 'This queued change belongs to another kind of replay.' });
    }
  }

  // ---- resolving messages ------------------------------------------------------------------

  private failedFolderReason(path: string): string | null {
    for (const [root, reason] of this.failedPaths) if (isUnder(path, root, this.delimiter)) return reason;
    return null;
  }

  /** The folder's UIDVALIDITY now, or null when the folder does not exist on the server. */
  private async uidValidityOf(path: string): Promise<number | null> {
    if (this.uidValidities.has(path)) return this.uidValidities.get(path) ?? null;
    let value: number | null;
    try {
      value = (await this.session.status(path)).uidValidity;
    } catch (error) {
      if (!(error instanceof MailError) || error.code !== 'NOT_FOUND') throw error;
      value = null;
    }
    this.uidValidities.set(path, value);
    return value;
  }

  private async folderStatus(path: string): Promise<{ uidNext: number; uidValidity: number }> {
    const status = await this.session.status(path);
    this.uidValidities.set(path, status.uidValidity);
    return { uidNext: status.uidNext, uidValidity: status.uidValidity };
  }

  private async locate(
    path: string,
    ref: Pick<ImapMessageRef, 'messageIdHeader' | 'size'>,
    fromUid = 1,
  ): Promise<LocatedMessage | null> {
    return locateMessage(this.session, { path, messageIdHeader: ref.messageIdHeader, size: ref.size || null, fromUid });
  }

  /**
   * Where the server holds the message the action names now, or null when it is gone. Throws
   * DependencyFailure when the earlier action that was to put it there failed.
   */
  private async resolve(ref: ImapMessageRef): Promise<ServerLocation | null> {
    const current = await this.uidValidityOf(ref.folderPath);
    if (current === null) return null;
    if (ref.uid !== null && ref.uidValidity !== null) {
      if (ref.uidValidity === current) return { path: ref.folderPath, uidValidity: current, uid: ref.uid };
      // UIDVALIDITY changed since the action was queued: the UID means nothing now.
      const found = await this.locate(ref.folderPath, ref);
      return found ? { path: ref.folderPath, uidValidity: found.uidValidity, uid: found.uid } : null;
    }
    const failure = this.failedMessages.get(ref.messageId);
    if (failure !== undefined) throw new DependencyFailure(failure);
    const known = this.locations.get(ref.messageId);
    if (known && known.path === ref.folderPath && known.uidValidity === current) return known;
    const record = this.store.getMessageRecord(ref.messageId);
    const folder = record ? this.store.getFolder(record.folderId) : null;
    if (
      record?.imap &&
      folder?.kind === 'server' &&
      folder.path === ref.folderPath &&
      record.imap.uidvalidity === current
    ) {
      return { path: ref.folderPath, uidValidity: current, uid: record.imap.uid };
    }
    const found = await this.locate(ref.folderPath, ref);
    return found ? { path: ref.folderPath, uidValidity: found.uidValidity, uid: found.uid } : null;
  }

  /** Gives the local row its new UID, if it still waits for one in that folder. */
  private async bind(messageId: string, location: ServerLocation): Promise<void> {
    this.locations.set(messageId, location);
    const record = this.store.getMessageRecord(messageId);
    if (!record || record.imap !== null) return;
    await this.bindRecord(record, location);
  }

  private async bindRecord(record: MessageRecord, location: ServerLocation): Promise<void> {
    const folder = this.store.getFolder(record.folderId);
    if (!folder || folder.kind !== 'server' || folder.path !== location.path) return;
    const identity: ImapIdentity = { uidvalidity: location.uidValidity, uid: location.uid };
    const duplicate = this.store.findByImapIdentity(folder.id, identity);
    if (duplicate && duplicate.id !== record.id) {
      // A sync listed the new UID before we could bind it (after a crash): one row is enough.
      if (duplicate.localPath !== null) return;
      await this.store.deleteMessage(duplicate.id);
    }
    await this.store.setRemoteIdentity(record.id, identity);
  }

  /** The server's deletion wins: the local row waiting for this message goes too. */
  private async followServerDeletion(messageId: string, expectedPath: string): Promise<void> {
    const record = this.store.getMessageRecord(messageId);
    if (!record || record.imap !== null || !record.onServer) return;
    const folder = this.store.getFolder(record.folderId);
    if (folder?.kind === 'server' && folder.path === expectedPath) await this.store.deleteMessage(record.id);
  }

  /** Puts a locally moved row back where the server still holds it (the move failed). */
  private async undoLocalMove(ref: ImapMessageRef, movedTo: string): Promise<void> {
    if (ref.uid === null || ref.uidValidity === null) return;
    const record = this.store.getMessageRecord(ref.messageId);
    if (!record || record.imap !== null) return;
    const folder = this.store.getFolder(record.folderId);
    if (!folder || folder.path !== movedTo) return;
    const source = this.store.findFolder(this.context.accountId, 'server', ref.folderPath);
    if (!source) return;
    const identity = { uidvalidity: ref.uidValidity, uid: ref.uid };
    if (this.store.findByImapIdentity(source.id, identity)) return;
    await this.store.moveMessage(record.id, source.id, { onServer: true });
    await this.store.setRemoteIdentity(record.id, identity);
  }

  // ---- message actions -----------------------------------------------------------------------

  private async replayFlags(actions: QueuedAction[]): Promise<void> {
    const uids: number[] = [];
    let path: string | null = null;
    let add: string[] = [];
    let remove: string[] = [];
    const resolved: Array<{ action: QueuedAction; outcome: Outcome | null }> = [];
    for (const action of actions) {
      this.begin(action);
      const parsed = parseServerAction(action);
      if (parsed?.kind !== 'imap-flags') {
        resolved.push({ action, outcome: { kind: 'failed', reason: 'This queued change could not be read.' } });
        continue;
      }
      const dependency = this.failedFolderReason(parsed.payload.folderPath);
      if (dependency !== null) {
        resolved.push({ action, outcome: { kind: 'failed', reason: dependency } });
        continue;
      }
      try {
        const location = await this.resolve(parsed.payload);
        if (location === null) {
          // RFC 4549 section 4.2.4: flags of a message another client deleted are dropped.
          resolved.push({ action, outcome: { kind: 'dropped' } });
          continue;
        }
        path = location.path;
        add = parsed.payload.add;
        remove = parsed.payload.remove;
        uids.push(location.uid);
        resolved.push({ action, outcome: null });
      } catch (error) {
        if (error instanceof DependencyFailure) {
          resolved.push({ action, outcome: { kind: 'failed', reason: error.message } });
          continue;
        }
        if (isConnectionFailure(error) || this.session.closed) throw error;
        resolved.push({ action, outcome: { kind: 'failed', reason: toMailError(error).message } });
      }
    }
    let batchOutcome: Outcome = { kind: 'done' };
    if (path !== null && uids.length > 0) {
      try {
        // +FLAGS / -FLAGS, never FLAGS: other clients' changes to other flags survive (RFC 4549 section 4.2.4).
        if (add.length > 0) await this.session.addFlags(path, uids, add);
        if (remove.length > 0) await this.session.removeFlags(path, uids, remove);
      } catch (error) {
        if (isConnectionFailure(error) || this.session.closed) throw error;
        const mapped = toMailError(error);
        // The folder went away meanwhile: so did its messages, and their flags with them.
        batchOutcome = mapped.code === 'NOT_FOUND' ? { kind: 'dropped' } : { kind: 'failed', reason: mapped.message };
      }
    }
    for (const entry of resolved) this.settle(entry.action, entry.outcome ?? batchOutcome);
  }

  private goneReport(record: MessageRecord | null, what: string): Outcome {
    return {
      kind: 'failed',
      reason: `${named(record)} was deleted on the server (perhaps by another device) before it could be ${what}, so it is gone here too.`,
    };
  }

  private async move(
    action: QueuedAction,
    payload: ImapMessageRef & { toPath: string },
    mayHaveRun: boolean,
  ): Promise<Outcome> {
    const record = this.store.getMessageRecord(payload.messageId);
    const dependency = this.failedFolderReason(payload.toPath) ?? this.failedFolderReason(payload.folderPath);
    if (dependency !== null) {
      this.failedMessages.set(payload.messageId, dependency);
      await this.undoLocalMove(payload, payload.toPath);
      return { kind: 'failed', reason: dependency };
    }
    if (mayHaveRun) {
      const found = await this.locate(payload.toPath, payload, this.recordedUidNext(action));
      if (found) {
        await this.bind(payload.messageId, { path: payload.toPath, uidValidity: found.uidValidity, uid: found.uid });
        return { kind: 'done' };
      }
    }
    let source: ServerLocation | null;
    try {
      source = await this.resolve(payload);
    } catch (error) {
      if (!(error instanceof DependencyFailure)) throw error;
      this.failedMessages.set(payload.messageId, error.message);
      return { kind: 'failed', reason: error.message };
    }
    if (source === null) {
      this.failedMessages.set(payload.messageId, 'The message was deleted on the server.');
      await this.followServerDeletion(payload.messageId, payload.toPath);
      return this.goneReport(record, `moved to ${payload.toPath}`);
    }
    if (source.path === payload.toPath) {
      await this.bind(payload.messageId, source);
      return { kind: 'done' };
    }
    let destination;
    try {
      destination = await this.folderStatus(payload.toPath);
      this.recordAttempt(action, destination.uidNext);
      const result = await this.session.move(source.path, [source.uid], payload.toPath);
      let uid = result.uidMap?.get(source.uid) ?? null;
      let uidValidity = result.destinationUidValidity ?? destination.uidValidity;
      if (uid === null) {
        // No COPYUID (RFC 4315): either the server lacks UIDPLUS or nothing matched the UID.
        const found = await this.locate(payload.toPath, payload, destination.uidNext);
        if (!found) {
          this.failedMessages.set(payload.messageId, 'The message was deleted on the server.');
          await this.followServerDeletion(payload.messageId, payload.toPath);
          return this.goneReport(record, `moved to ${payload.toPath}`);
        }
        uid = found.uid;
        uidValidity = found.uidValidity;
      }
      await this.bind(payload.messageId, { path: payload.toPath, uidValidity, uid });
      return { kind: 'done' };
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      const reason = `${named(record)} could not be moved to ${payload.toPath}: ${toMailError(error).message}`;
      this.failedMessages.set(payload.messageId, reason);
      await this.undoLocalMove(payload, payload.toPath);
      return { kind: 'failed', reason };
    }
  }

  private async copy(
    action: QueuedAction,
    payload: ImapMessageRef & { toPath: string; copy: { sha256: string } | null },
    mayHaveRun: boolean,
  ): Promise<Outcome> {
    const record = this.store.getMessageRecord(payload.messageId);
    const dependency = this.failedFolderReason(payload.toPath) ?? this.failedFolderReason(payload.folderPath);
    if (dependency !== null) return { kind: 'failed', reason: dependency };
    const copyRow = (): MessageRecord | null => {
      if (!payload.copy) return null;
      const folder = this.store.findFolder(this.context.accountId, 'server', payload.toPath);
      if (!folder) return null;
      const sha256 = payload.copy.sha256;
      return this.store.listFolderMessages(folder.id).find((row) => row.imap === null && row.sha256 === sha256) ?? null;
    };
    const bindCopy = async (location: ServerLocation): Promise<void> => {
      const row = copyRow();
      if (row) await this.bindRecord(row, location);
    };
    if (mayHaveRun) {
      const found = await this.locate(payload.toPath, payload, this.recordedUidNext(action));
      if (found) {
        await bindCopy({ path: payload.toPath, uidValidity: found.uidValidity, uid: found.uid });
        return { kind: 'done' };
      }
    }
    let source: ServerLocation | null;
    try {
      source = await this.resolve(payload);
    } catch (error) {
      if (!(error instanceof DependencyFailure)) throw error;
      return { kind: 'failed', reason: error.message };
    }
    if (source === null) return this.goneReport(record, `copied to ${payload.toPath}`);
    try {
      const destination = await this.folderStatus(payload.toPath);
      this.recordAttempt(action, destination.uidNext);
      const result = await this.session.copy(source.path, [source.uid], payload.toPath);
      let uid = result.uidMap?.get(source.uid) ?? null;
      let uidValidity = result.destinationUidValidity ?? destination.uidValidity;
      if (uid === null) {
        const found = await this.locate(payload.toPath, payload, destination.uidNext);
        if (!found) return this.goneReport(record, `copied to ${payload.toPath}`);
        uid = found.uid;
        uidValidity = found.uidValidity;
      }
      await bindCopy({ path: payload.toPath, uidValidity, uid });
      return { kind: 'done' };
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      return {
        kind: 'failed',
        reason: `${named(record)} could not be copied to ${payload.toPath}: ${toMailError(error).message}`,
      };
    }
  }

  private async remove(
    action: QueuedAction,
    payload: ImapMessageRef & { expunge: boolean; trashPath: string | null; after?: string | null },
    mayHaveRun: boolean,
  ): Promise<Outcome> {
    // A draft's older version goes only once its newer version reached the server (unless the
    // newer one is itself gone here: replaced again, sent or discarded).
    if (payload.after && this.failedMessages.has(payload.after) && this.store.getMessageRecord(payload.after)) {
      return {
        kind: 'failed',
        reason: `The older version of a draft was kept on the server because the newer one could not be uploaded: ${this.failedMessages.get(payload.after)}`,
      };
    }
    const toTrash = !payload.expunge && payload.trashPath !== null && payload.trashPath !== payload.folderPath;
    if (toTrash && mayHaveRun && payload.trashPath !== null) {
      const found = await this.locate(payload.trashPath, payload, this.recordedUidNext(action));
      if (found) {
        await this.bind(payload.messageId, { path: payload.trashPath, uidValidity: found.uidValidity, uid: found.uid });
        return { kind: 'done' };
      }
    }
    let source: ServerLocation | null;
    try {
      source = await this.resolve(payload);
    } catch (error) {
      if (!(error instanceof DependencyFailure)) throw error;
      source = null;
    }
    // Already gone from the server: the deletion the user wanted has happened.
    if (source === null) {
      if (toTrash && payload.trashPath !== null) await this.followServerDeletion(payload.messageId, payload.trashPath);
      return { kind: 'dropped' };
    }
    if (!toTrash || payload.trashPath === null || source.path === payload.trashPath) {
      await this.session.expungeUids(source.path, [source.uid]);
      return { kind: 'done' };
    }
    const trashPath = payload.trashPath;
    const destination = await this.folderStatus(trashPath);
    this.recordAttempt(action, destination.uidNext);
    const result = await this.session.move(source.path, [source.uid], trashPath);
    let uid = result.uidMap?.get(source.uid) ?? null;
    let uidValidity = result.destinationUidValidity ?? destination.uidValidity;
    if (uid === null) {
      const found = await this.locate(trashPath, payload, destination.uidNext);
      if (!found) {
        await this.followServerDeletion(payload.messageId, trashPath);
        return { kind: 'dropped' };
      }
      uid = found.uid;
      uidValidity = found.uidValidity;
    }
    await this.bind(payload.messageId, { path: trashPath, uidValidity, uid });
    return { kind: 'done' };
  }

  /** The local row an append uploads: by id, or (written in the same transaction) by content. */
  private appendRow(payload: ImapAppendPayload): MessageRecord | null {
    if (payload.messageId !== null) return this.store.getMessageRecord(payload.messageId);
    const folder = this.store.findFolder(this.context.accountId, 'server', payload.toPath);
    if (!folder || !payload.sha256) return null;
    const sha256 = payload.sha256;
    return this.store.listFolderMessages(folder.id).find((row) => row.imap === null && row.sha256 === sha256) ?? null;
  }

  private async append(action: QueuedAction, payload: ImapAppendPayload, mayHaveRun: boolean): Promise<Outcome> {
    const record = this.appendRow(payload);
    // Deleted here before it was uploaded, or already on the server (uploaded, or found there by a sync).
    if (!record || record.imap !== null) return { kind: 'dropped' };
    const folder = this.store.getFolder(record.folderId);
    // Moved back to a local folder before the upload: nothing to do on the server.
    if (!folder || folder.kind !== 'server') return { kind: 'dropped' };
    let path = folder.path;
    // The folder was renamed here after the upload was queued, and the rename (later in the
    // queue) has not reached the server yet: upload under the old name; the rename carries it
    // along and the next sync matches it to this row by Message-ID.
    if (path !== payload.toPath && (await this.uidValidityOf(path)) === null) {
      if ((await this.uidValidityOf(payload.toPath)) !== null) path = payload.toPath;
    }
    const dependency = this.failedFolderReason(path);
    if (dependency !== null) {
      this.failedMessages.set(record.id, dependency);
      return { kind: 'failed', reason: dependency };
    }
    if (record.localPath === null) {
      return {
        kind: 'failed',
        reason: `${named(record)} is not stored on this computer, so it could not be uploaded.`,
      };
    }
    // Deduplicated (DESIGN.md: uploads by Message-ID + size): the folder already holds this
    // message, so the local row joins it instead of a second copy going up.
    const existing =
      record.messageId === null
        ? undefined
        : this.store
            .findByMessageId(this.context.accountId, record.messageId)
            .find(
              (row) =>
                row.id !== record.id && row.folderId === folder.id && row.imap !== null && row.size === record.size,
            );
    if (existing) {
      if (existing.localPath === null) await this.store.attachBody(existing.id, await this.store.readRaw(record.id));
      await this.store.deleteMessage(record.id);
      return { kind: 'done' };
    }
    const lookup = { messageIdHeader: record.messageId, size: record.size };
    try {
      if (mayHaveRun) {
        // The last attempt may have reached the server: look before sending it again.
        const found = await this.locate(path, lookup, this.recordedUidNext(action));
        if (found) {
          await this.bindRecord(record, { path, uidValidity: found.uidValidity, uid: found.uid });
          return { kind: 'done' };
        }
      }
      const destination = await this.folderStatus(path);
      this.recordAttempt(action, destination.uidNext);
      const bytes = await this.store.readRaw(record.id);
      const receivedAt = record.receivedAt ? new Date(record.receivedAt) : undefined;
      const result = await this.session.append(path, bytes, {
        flags: record.flags,
        ...(receivedAt && Number.isFinite(receivedAt.getTime()) ? { internalDate: receivedAt } : {}),
      });
      let uid = result.uid;
      let uidValidity = result.uidValidity ?? destination.uidValidity;
      if (uid === null) {
        // No APPENDUID (RFC 4315 section 3): find what we just stored.
        const found = await this.locate(path, lookup, destination.uidNext);
        uid = found?.uid ?? null;
        if (found) uidValidity = found.uidValidity;
      }
      if (uid !== null) {
        const current = this.store.getMessageRecord(record.id);
        if (current) await this.bindRecord(current, { path, uidValidity, uid });
      }
      return { kind: 'done' };
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      // Deleted here while it was being uploaded (a draft saved again): nothing is left to upload.
      if (!this.store.getMessageRecord(record.id)) return { kind: 'dropped' };
      const reason = `${named(record)} could not be uploaded to ${path}: ${toMailError(error).message}`;
      this.failedMessages.set(record.id, reason);
      return { kind: 'failed', reason };
    }
  }

  // ---- folder actions ------------------------------------------------------------------------

  private async serverPaths(): Promise<Set<string>> {
    return new Set((await this.session.listFolders()).map((folder) => folder.path));
  }

  private async createFolder(path: string): Promise<Outcome> {
    this.uidValidities.clear();
    const parentFailure = this.failedFolderReason(path);
    if (parentFailure !== null) {
      this.failedPaths.set(path, parentFailure);
      return { kind: 'failed', reason: parentFailure };
    }
    try {
      await this.session.createFolder(path);
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      const reason = `The folder ${path} could not be created on the server: ${toMailError(error).message}`;
      this.failedPaths.set(path, reason);
      return { kind: 'failed', reason };
    }
    try {
      // RFC 3501 section 6.3.6: subscribed, so other clients list it too.
      await this.session.setSubscribed(path, true);
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
    }
    return { kind: 'done' };
  }

  private async renameFolder(path: string, newPath: string): Promise<Outcome> {
    this.uidValidities.clear();
    const dependency = this.failedFolderReason(path);
    if (dependency !== null) {
      this.failedPaths.set(newPath, dependency);
      return { kind: 'failed', reason: dependency };
    }
    try {
      await this.session.renameFolder(path, newPath);
      await this.session.setSubscribed(newPath, true).catch((error: unknown) => {
        if (isConnectionFailure(error) || this.session.closed) throw error;
      });
      return { kind: 'done' };
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      const paths = await this.serverPaths();
      if (!paths.has(path) && paths.has(newPath)) return { kind: 'done' };
      const reason = `The folder ${path} could not be renamed to ${newPath} on the server: ${toMailError(error).message}`;
      this.failedPaths.set(newPath, reason);
      // Show the folder under the name the server still uses.
      const local = this.store.findFolder(this.context.accountId, 'server', newPath);
      if (local && paths.has(path) && !this.store.findFolder(this.context.accountId, 'server', path)) {
        await this.store.updateFolder(local.id, { path });
      }
      return { kind: 'failed', reason };
    }
  }

  private async deleteFolder(path: string): Promise<Outcome> {
    this.uidValidities.clear();
    // Its creation failed: there is nothing to delete on the server.
    if (this.failedFolderReason(path) !== null) return { kind: 'dropped' };
    try {
      await this.session.deleteFolder(path);
      return { kind: 'done' };
    } catch (error) {
      if (isConnectionFailure(error) || this.session.closed) throw error;
      if (!(await this.serverPaths()).has(path)) return { kind: 'dropped' };
      return {
        kind: 'failed',
        reason: `The folder ${path} could not be deleted on the server: ${toMailError(error).message}`,
      };
    }
  }
}

/** Replays the account's queued IMAP actions; throws on a connection failure (the rest stays queued). */
export async function replayQueue(context: ReplayContext): Promise<ReplayReport> {
  return new ReplayRun(context).run();
}

/** The ids of messages with queued IMAP actions (their local state is newer than the server's). */
export function messagesWithQueuedActions(store: MessageStore, accountId: string): Set<string> {
  const ids = new Set<string>();
  for (const action of store.listActions(accountId, ['pending', 'running'])) {
    if (!isImapAction(action)) continue;
    const payload = action.payload as { messageId?: unknown } | null;
    if (typeof payload?.messageId === 'string') ids.add(payload.messageId);
  }
  return ids;
}
