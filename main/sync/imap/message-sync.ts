/**
 * One server folder's messages into the store, as header-only rows (bodies come later, see
 * body-download.ts).
 *
 * - First time (or after a UIDVALIDITY change): a full listing, newest UIDs first, in windows of
 *   UIDs fetched in batches. It can be interrupted: the lowest UID done so far is kept, and the
 *   next run continues below it. After a UIDVALIDITY change (RFC 3501 section 2.3.1.1) every UID
 *   we knew is void: cached messages are re-mapped to the new UIDs by Message-ID + size, keeping
 *   their bodies (nothing is downloaded again) and every local-only row.
 * - Afterwards: incremental. First an EXAMINE (RFC 3501 section 6.3.2): when UIDVALIDITY, UIDNEXT,
 *   HIGHESTMODSEQ (RFC 7162) and the message count are what the last complete pass recorded,
 *   nothing changed on the server and the pass ends there, without reading the index. Otherwise
 *   the adapter's fetchChanges uses CONDSTORE/QRESYNC (CHANGEDSINCE, VANISHED) when the server has
 *   them and compares every known UID's flags otherwise; new messages are the UIDs from the
 *   UIDNEXT of the last sync up. The index is read narrowly: the UIDs (listImapUids), the flags
 *   of what changed (findImapFlags, or listImapFlags for many), and
 *   Message-ID + size only when a new message may be one we hold already (listRemapCandidates).
 *
 * Conflict rules (DESIGN.md "Offline"): the server's deletion wins (a message gone from the
 * server is deleted here); flags of a message with queued actions are left as the user set them,
 * the queue carries them to the server.
 */
import type { HeaderBatch, ImapSession, RemoteMessageHeader } from '../../protocols/imap/imap-mailbox';
import type {
  FolderRecord,
  HeaderOnlyInput,
  ImapIdentity,
  MessageRecord,
  MessageStore,
} from '../../store/message-store';
import { normalizeFlags, parseStrings } from '../../store/records';
import { headerOnlyInput, messageIdOf, SYNC_HEADER_FIELDS } from './header-rows';

/** The widest UID window of a full listing, in multiples of the batch size (sparse UIDs grow the window). */
const MAX_WINDOW_BATCHES = 64;
/** sync_state key prefix of an interrupted full listing. */
const FULL_LISTING_KEY = 'imap-full-listing:';
/** Up to this many changed or vanished UIDs are looked up one by one rather than by reading the folder. */
const POINT_LOOKUPS_MAX = 500;
/** sync_state key prefix of what the server reported at the start of the last complete pass. */
const SERVER_STATE_KEY = 'imap-server-state:';

export interface HeaderProgress {
  folder: string;
  done: number;
  total: number;
  bytes: number;
}

export interface MessageSyncContext {
  session: ImapSession;
  store: MessageStore;
  accountId: string;
  headerBatchSize: number;
  /** Messages with queued server actions: their local flags are the user's newer word. */
  busyMessageIds(): ReadonlySet<string>;
  /** True when nothing is queued for the server (the local view may then be compared with the server's as a whole). */
  queueIsEmpty(): boolean;
  progress(progress: HeaderProgress): void;
  signal?: AbortSignal;
}

export interface NewMessage {
  id: string;
  subject: string;
  seen: boolean;
}

export interface FolderSyncOutcome {
  /** The folder had never been listed before: everything in it is "new" only to this computer. */
  initial: boolean;
  /** Rows created for messages that arrived on the server since the last sync. */
  created: NewMessage[];
}

interface FullListingState {
  uidValidity: number;
  uidNext: number;
  highestModseq: string | null;
  /** Every UID from here up has been listed. */
  below: number;
}

function isFullListingState(value: unknown): value is FullListingState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    typeof state.uidValidity === 'number' &&
    typeof state.uidNext === 'number' &&
    typeof state.below === 'number' &&
    (state.highestModseq === null || typeof state.highestModseq === 'string')
  );
}

/**
 * The server’s view of a folder when the last complete pass started (its EXAMINE), recorded
 * only after that pass had applied every change and found the local count equal to the server's.
 */
interface ServerState {
  uidValidity: number;
  uidNext: number;
  highestModseq: string;
  exists: number;
}

function isServerState(value: unknown): value is ServerState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    typeof state.uidValidity === 'number' &&
    typeof state.uidNext === 'number' &&
    typeof state.highestModseq === 'string' &&
    typeof state.exists === 'number'
  );
}

function sameFlags(left: readonly string[], right: readonly string[]): boolean {
  const a = normalizeFlags(left);
  const b = normalizeFlags(right);
  return a.length === b.length && a.every((flag, index) => flag === b[index]);
}

function parseModseq(value: string | null): bigint | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  return BigInt(value);
}

/** Deletes a row the server no longer has, unless it changed meanwhile (moved by the user, re-mapped). */
async function removeGone(
  store: MessageStore,
  folderId: string,
  record: { id: string; imap: ImapIdentity | null },
): Promise<void> {
  const current = store.getMessageRecord(record.id);
  if (
    !current ||
    current.folderId !== folderId ||
    current.imap === null ||
    record.imap === null ||
    current.imap.uid !== record.imap.uid ||
    current.imap.uidvalidity !== record.imap.uidvalidity
  ) {
    return;
  }
  await store.deleteMessage(record.id);
}

/**
 * Takes header batches of one folder into the store: known UIDs get the server's flags, cached
 * rows without a current UID are re-mapped by Message-ID + size, the rest become header-only rows.
 */
class BatchAbsorber {
  readonly seen = new Set<string>();
  readonly created: NewMessage[] = [];
  maxUid = 0;
  done = 0;
  bytes = 0;
  private candidates: Map<string, string[]> | null = null;

  constructor(
    private readonly context: MessageSyncContext,
    private readonly folder: FolderRecord,
    private readonly uidValidity: number,
  ) {}

  private key(messageId: string, size: number): string {
    return `${messageId}\u0000${size}`;
  }

  /** Rows of this folder the server does not know by a current UID: pending moves and appends, stale UIDs. */
  private takeCandidate(messageId: string | null, size: number): MessageRecord | null {
    if (messageId === null) return null;
    if (this.candidates === null) {
      this.candidates = new Map();
      for (const record of this.context.store.listRemapCandidates(this.folder.id, this.uidValidity)) {
        const key = this.key(record.messageId, record.size);
        const list = this.candidates.get(key) ?? [];
        list.push(record.id);
        this.candidates.set(key, list);
      }
    }
    const list = this.candidates.get(this.key(messageId, size));
    while (list && list.length > 0) {
      const candidate = list.shift() as string;
      const current = this.context.store.getMessageRecord(candidate);
      if (
        current &&
        current.folderId === this.folder.id &&
        (current.imap === null || current.imap.uidvalidity !== this.uidValidity)
      ) {
        return current;
      }
    }
    return null;
  }

  async absorb(batch: HeaderBatch): Promise<void> {
    const { store } = this.context;
    const busy = this.context.busyMessageIds();
    const inserts: HeaderOnlyInput[] = [];
    const insertedHeaders: RemoteMessageHeader[] = [];
    for (const header of batch.messages) {
      this.maxUid = Math.max(this.maxUid, header.uid);
      this.bytes += header.size;
      const identity = { uidvalidity: this.uidValidity, uid: header.uid };
      const existing = store.findByImapIdentity(this.folder.id, identity);
      if (existing) {
        this.seen.add(existing.id);
        if (!busy.has(existing.id) && !sameFlags(existing.flags, header.flags)) {
          await store.setFlags(existing.id, header.flags);
        }
        continue;
      }
      const candidate = this.takeCandidate(messageIdOf(header), header.size);
      if (candidate) {
        // The bytes stay where they are; only the name and the index learn the new UID.
        await store.setRemoteIdentity(candidate.id, identity);
        this.seen.add(candidate.id);
        if (!busy.has(candidate.id) && !sameFlags(candidate.flags, header.flags)) {
          await store.setFlags(candidate.id, header.flags);
        }
        continue;
      }
      inserts.push(headerOnlyInput(this.folder.id, this.uidValidity, header));
      insertedHeaders.push(header);
    }
    if (inserts.length > 0) {
      // In a folder kept for offline reading the bodies follow in this pass: the search entries
      // are made with them (or, if they do not come, at the next search or opening).
      const results = store.insertHeaderOnlyBatch(inserts, { deferSearch: this.folder.keepOffline });
      results.forEach((result, index) => {
        this.seen.add(result.id);
        if (!result.created) return;
        const input = inserts[index];
        this.created.push({
          id: result.id,
          subject: input.envelope.subject,
          seen: normalizeFlags(insertedHeaders[index].flags).includes('\\Seen'),
        });
      });
    }
    this.done += batch.messages.length;
    this.context.progress({ folder: this.folder.path, done: this.done, total: batch.total, bytes: this.bytes });
  }
}

/**
 * Lists the whole folder newest-first and reconciles it with the store. `initial`: the folder
 * was never listed (or its listing was interrupted); otherwise a re-map after UIDVALIDITY changed.
 */
async function fullListing(
  context: MessageSyncContext,
  folder: FolderRecord,
  initial: boolean,
): Promise<FolderSyncOutcome> {
  const { session, store, accountId } = context;
  const status = await session.select(folder.path, { readOnly: true });
  const stateKey = FULL_LISTING_KEY + folder.id;
  const saved = store.getSyncState(accountId, stateKey);
  const resumed = isFullListingState(saved) && saved.uidValidity === status.uidValidity;
  const start: FullListingState = resumed
    ? saved
    : {
        uidValidity: status.uidValidity,
        uidNext: status.uidNext,
        highestModseq: status.highestModseq === null ? null : status.highestModseq.toString(),
        below: status.uidNext,
      };
  store.setSyncState(accountId, stateKey, start);
  const total = status.exists;
  const progress = context.progress;
  const counting: MessageSyncContext = {
    ...context,
    progress: (report) => progress({ ...report, total }),
  };
  const windowed = new BatchAbsorber(counting, folder, status.uidValidity);
  let top = start.below - 1;
  let window = context.headerBatchSize;
  while (top >= 1) {
    context.signal?.throwIfAborted();
    const low = Math.max(1, top - window + 1);
    const summary = await session.fetchHeaders(
      folder.path,
      { from: low, to: top },
      { batchSize: context.headerBatchSize, headerFields: SYNC_HEADER_FIELDS },
      (batch) => windowed.absorb(batch),
    );
    // UIDs are sparse after expunges: an empty window means the next one may look further.
    if (summary.fetched === 0) window = Math.min(window * 2, context.headerBatchSize * MAX_WINDOW_BATCHES);
    top = low - 1;
    store.setSyncState(accountId, stateKey, { ...start, below: low });
  }

  const busy = context.busyMessageIds();
  for (const record of store.listFolderSyncRows(folder.id)) {
    if (record.imap === null || windowed.seen.has(record.id)) continue;
    if (record.imap.uidvalidity === status.uidValidity) {
      // Listed completely in this run and not there: gone from the server (its deletion wins).
      if (!resumed && record.imap.uid < start.uidNext) await removeGone(store, folder.id, record);
      continue;
    }
    // A UID of the old UIDVALIDITY that nothing on the server matched. Keep the bytes if we have
    // them (the server may have lost the message: this may be the only copy); drop bare headers.
    if (busy.has(record.id)) continue;
    if (record.local) await store.markGoneFromServer([record.id]);
    else await removeGone(store, folder.id, record);
  }
  store.setFolderSyncState(folder.id, {
    uidvalidity: start.uidValidity,
    uidnext: start.uidNext,
    highestmodseq: start.highestModseq,
    lastSyncAt: new Date().toISOString(),
  });
  store.setSyncState(accountId, stateKey, null);
  const after = await incremental(context, requireFolder(store, folder.id), false);
  return { initial, created: initial ? [] : [...windowed.created, ...after.created] };
}

function requireFolder(store: MessageStore, folderId: string): FolderRecord {
  const folder = store.getFolder(folderId);
  if (!folder) throw new Error(`The folder ${folderId} disappeared during synchronization.`);
  return folder;
}

/**
 * True when the server reports exactly what the last complete pass recorded: no flag change
 * (HIGHESTMODSEQ), no new message (UIDNEXT), no expunge (the count; with QRESYNC expunges also
 * raise HIGHESTMODSEQ, RFC 7162 section 3.2.10, but CONDSTORE alone does not promise it).
 */
async function unchangedOnServer(context: MessageSyncContext, folder: FolderRecord): Promise<boolean> {
  const { session, store, accountId } = context;
  if (!session.capabilities.has('CONDSTORE')) return false;
  const recorded = store.getSyncState(accountId, SERVER_STATE_KEY + folder.id);
  if (!isServerState(recorded) || recorded.uidValidity !== folder.uidvalidity) return false;
  // EXAMINE, not STATUS: a STATUS of the mailbox this session has selected may answer from the
  // session's own, older view of it (RFC 3501 section 6.3.10 advises against it).
  const current = await session.select(folder.path, { readOnly: true });
  return (
    current.highestModseq !== null &&
    current.highestModseq.toString() === recorded.highestModseq &&
    current.uidValidity === recorded.uidValidity &&
    current.uidNext === recorded.uidNext &&
    current.exists === recorded.exists
  );
}

async function incremental(
  context: MessageSyncContext,
  folder: FolderRecord,
  mayRelist: boolean,
): Promise<FolderSyncOutcome> {
  const { session, store, accountId } = context;
  const uidValidity = folder.uidvalidity as number;
  const stateKey = SERVER_STATE_KEY + folder.id;
  if (mayRelist && (await unchangedOnServer(context, folder))) {
    store.setFolderSyncState(folder.id, { lastSyncAt: new Date().toISOString() });
    return { initial: false, created: [] };
  }
  // The recorded state stays as it is until this pass is complete: whatever changed on the
  // server since raised HIGHESTMODSEQ or UIDNEXT, so a pass stopped halfway cannot make the next
  // one take the shortcut above.

  const changes = await session.fetchChanges(folder.path, {
    uidValidity,
    modseq: parseModseq(folder.highestmodseq),
    knownUids: store.listImapUids(folder.id, uidValidity),
  });
  if (changes.uidValidityChanged) return fullListing(context, folder, false);
  // A few changes (CONDSTORE): looked up one by one. Many (a full comparison): one read of all.
  let byUid: Map<number, { id: string; flagsJson: string }> | null = null;
  if (changes.changed.length + changes.vanished.length > POINT_LOOKUPS_MAX) {
    byUid = new Map(store.listImapFlags(folder.id, uidValidity).map((record) => [record.uid, record]));
  }
  const known = (uid: number): { id: string; flagsJson: string } | null =>
    byUid !== null ? (byUid.get(uid) ?? null) : store.findImapFlags(folder.id, { uidvalidity: uidValidity, uid });

  const busy = context.busyMessageIds();
  const flagChanges: Array<{ messageId: string; folderId: string; imap: ImapIdentity; flags: string[] }> = [];
  for (const change of changes.changed) {
    const record = known(change.uid);
    if (!record || busy.has(record.id) || sameFlags(parseStrings(record.flagsJson), change.flags)) continue;
    flagChanges.push({
      messageId: record.id,
      folderId: folder.id,
      imap: { uidvalidity: uidValidity, uid: change.uid },
      flags: change.flags,
    });
  }
  // One batch: a directory fsync and a commit for all of them, not one per message.
  await store.setServerFlags(flagChanges);
  for (const uid of changes.vanished) {
    const record = known(uid);
    if (record) await removeGone(store, folder.id, { id: record.id, imap: { uidvalidity: uidValidity, uid } });
  }

  const { status } = changes;
  const absorber = new BatchAbsorber(context, folder, uidValidity);
  const from = Math.max(1, folder.uidnext ?? 1);
  // New messages have UIDs from the recorded UIDNEXT up (RFC 3501 section 2.3.1.1); none when
  // UIDNEXT did not move. Mail arriving after the EXAMINE above is picked up by the next pass.
  if (status.uidNext > from) {
    await session.fetchHeaders(
      folder.path,
      { from },
      { batchSize: context.headerBatchSize, headerFields: SYNC_HEADER_FIELDS },
      (batch) => absorber.absorb(batch),
    );
  }
  const uidNext = Math.max(status.uidNext, absorber.maxUid + 1, folder.uidnext ?? 1);
  store.setFolderSyncState(folder.id, {
    uidnext: uidNext,
    highestmodseq: status.highestModseq === null ? null : status.highestModseq.toString(),
    lastSyncAt: new Date().toISOString(),
  });

  // Self-repair: with nothing queued, the server's message count must equal ours. A difference
  // means a message we never listed (a crash between a server change and its record here).
  if (context.queueIsEmpty()) {
    const listed = store.countImapMessages(folder.id, uidValidity, status.uidNext);
    if (listed !== status.exists) {
      if (!mayRelist) return { initial: false, created: absorber.created };
      const relisted = await fullListing(context, requireFolder(store, folder.id), false);
      return { initial: false, created: [...absorber.created, ...relisted.created] };
    }
    if (status.highestModseq !== null) {
      const recorded: ServerState = {
        uidValidity,
        uidNext,
        highestModseq: status.highestModseq.toString(),
        exists: status.exists,
      };
      // Only when nothing beyond what the EXAMINE saw was taken in (else the next pass compares anyway).
      if (uidNext === status.uidNext) store.setSyncState(accountId, stateKey, recorded);
    }
  }
  return { initial: false, created: absorber.created };
}

/** Brings one server folder's messages up to date (see the file comment). */
export async function syncFolderMessages(context: MessageSyncContext, folderId: string): Promise<FolderSyncOutcome> {
  const folder = requireFolder(context.store, folderId);
  if (folder.uidvalidity === null) {
    // Never listed: a full listing. Rows may exist already (a rebuilt index, a switch from POP3):
    // they are matched by UID when it is still valid, by Message-ID + size otherwise.
    return fullListing(context, folder, true);
  }
  return incremental(context, folder, true);
}
