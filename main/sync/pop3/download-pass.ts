/**
 * One POP3 pass (SEMANTICS S1, S6, S10): list the maildrop, download what is new, delete on the
 * server what the leave-a-copy policy or the user's queued deletions say, and end with QUIT.
 *
 * The order is what makes it safe (DESIGN.md "Sync invariants", mbsync's rule): RETR → the file is
 * written, fsynced and renamed into cur/ → the index row and the UIDL are committed (in batches,
 * download-batches.ts) and that commit is synced to disk (synchronous=FULL, at the batch's commit
 * or by one synced commit before the first DELE) → only then may DELE be sent, and the deletions
 * take effect only when QUIT succeeds (RFC 1939 §6). A crash or a cut connection at any point
 * leaves every message either still on the server or durably here; its UIDL is known only once
 * its bytes are durable, so a restart downloads nothing twice.
 */
import { MailError } from '../../../shared/errors';
import type { LeaveOnServer } from '../../../shared/model';
import { parseMessage, type ParsedMessage } from '../../mime/parse';
import { sharedParsePool } from '../../mime/parse-pool';
import type { Pop3Mailbox } from '../../protocols/pop3/pop3-mailbox';
import type { FolderRecord, MessageRecord, QueuedAction } from '../../store/message-store';
import type { EngineContext } from '../engine';
import { DownloadBatches } from './download-batches';
import { mayDeleteFromServer } from './leave-policy';
import { retrieveIntoStore, STREAMED_MESSAGE_MIN_BYTES } from './streamed-retrieve';
import { ensureLocalFolders } from './local-folders';
import { PopLocalState } from './local-state';
import { downloadsWhole, pop3OptionsOf, type Pop3Options } from './pop3-options';
import {
  HEADER_ONLY_BODY_LINES,
  droppingConnectionOnCancel,
  indexByUidl,
  listServerMessages,
  openAccountMailbox,
  requirePop3Account,
  type ServerMessage,
} from './pop3-session';

/** Engine-level durability steps, after the store's own (StoreStep); crash tests stop there. */
export type Pop3Step = 'after-dele' | 'after-quit';

export interface PassSettings {
  now: () => Date;
  /** RFC 2449 PIPELINING where the server offers it; false: one RETR at a time. */
  pipelining: boolean;
  optionOverrides: Partial<Pop3Options>;
  onStep?: (step: Pop3Step) => void;
  signal?: AbortSignal;
}

export interface PassReport {
  downloaded: number;
  headersOnly: number;
  bytes: number;
  deletedOnServer: number;
}

/** How many subjects a newMail event carries (enough for a notification). */
const NEW_MAIL_SUBJECTS = 10;
/** The action kind this engine carries out (server-actions.ts). */
const POP3_DELETE = 'pop3-delete';

export function queuedDeletionUidl(action: QueuedAction): string | null {
  const payload = action.payload as { uidl?: unknown } | null;
  return typeof payload === 'object' && payload !== null && typeof payload.uidl === 'string' ? payload.uidl : null;
}

interface Download {
  message: ServerMessage;
  /** A header-only row (TOP) that gets its body, instead of a new message. */
  attachTo: string | null;
}

/** A message whose bytes arrived whole, waiting in a batch to be stored. */
interface Arrived {
  download: Download;
  bytes: Buffer;
  /**
   * A new message's parse, begun on the parse worker as it arrived, so that it overlaps the next
   * RETRs and the storing of the batch before (a body for a header-only row is parsed by attachBody).
   */
  parsed?: Promise<ParsedMessage>;
}

class Progress {
  done = 0;
  bytes = 0;

  constructor(
    private readonly context: EngineContext,
    private readonly accountId: string,
    readonly total: number,
  ) {}

  step(bytes: number): void {
    this.stepMany(1, bytes);
  }

  /** Messages stored together (one batch): one event. */
  stepMany(count: number, bytes: number): void {
    this.done += count;
    this.bytes += bytes;
    this.emit('download');
  }

  emit(phase: 'download' | 'done'): void {
    this.context.emit('syncProgress', {
      accountId: this.accountId,
      phase,
      folder: 'INBOX',
      done: this.done,
      total: this.total,
      bytes: this.bytes,
    });
  }
}

export async function runDownloadPass(context: EngineContext, settings: PassSettings): Promise<PassReport> {
  const { store } = context;
  const account = requirePop3Account(context.account());
  if (!store.getAccount(account.id)) await store.upsertAccount(account);
  const inbox = await ensureLocalFolders(store, account.id);
  const options = pop3OptionsOf(account, settings.optionOverrides);
  settings.signal?.throwIfAborted();

  const mailbox = await openAccountMailbox(context);
  const queuedDeletions = store.listActions(account.id).filter((action) => action.kind === POP3_DELETE);
  const deletionsAwaitingQuit: QueuedAction[] = [];
  let quitSucceeded = false;
  try {
    const server = await listServerMessages(mailbox);
    const now = settings.now();
    const local = PopLocalState.load(store, account.id);
    await updateResidency(context, local, server, now);
    await adoptStoredCopies(mailbox, local, server);
    await store.markGoneFromServer(local.strandedIds(), now.toISOString());

    // What to fetch: new messages whole or as headers; header-only rows whose body the options now allow.
    const whole: Download[] = [];
    const headers: ServerMessage[] = [];
    for (const message of server) {
      const copy = local.copyOf(message.uidl);
      if (copy.known) continue;
      if (copy.record !== null) {
        if (downloadsWhole(options, message.size)) whole.push({ message, attachTo: copy.record.id });
      } else if (downloadsWhole(options, message.size)) {
        whole.push({ message, attachTo: null });
      } else {
        headers.push(message);
      }
    }
    const progress = new Progress(context, account.id, whole.length + headers.length);
    if (progress.total > 0) progress.emit('download');
    const created: MessageRecord[] = [];
    // The parse worker loads while the first messages arrive.
    if (whole.length > 0) sharedParsePool().warm();
    const sizeMismatches = await droppingConnectionOnCancel(mailbox, settings.signal, () =>
      downloadWhole(context, mailbox, inbox, whole, local, settings, progress, created),
    );
    for (const message of headers) {
      settings.signal?.throwIfAborted();
      const header = await mailbox.top(message.number, HEADER_ONLY_BODY_LINES);
      const { envelope, hasAttachments } = await parseMessage(header);
      const record = store.insertPopHeaderOnly({
        folderId: inbox.id,
        popUidl: message.uidl,
        envelope,
        size: message.size,
        hasAttachments,
        serverConfirmedAt: now.toISOString(),
      });
      local.noteHeadersListed(message.uidl);
      local.noteStored(message.uidl, record);
      created.push(record);
      progress.step(header.length);
    }
    local.save(new Set(server.map((message) => message.uidl)));
    settings.signal?.throwIfAborted();

    // Deletions: the user's queued ones (S6), then the policy's (S10). Only sent now that every
    // download above is durable; applied by the server only at QUIT.
    const byUidl = indexByUidl(server);
    const deleting = new Map<string, ServerMessage>();
    for (const action of queuedDeletions) {
      const uidl = queuedDeletionUidl(action);
      const message = uidl === null ? undefined : byUidl.get(uidl);
      if (uidl === null) {
        store.updateAction(action.id, { state: 'failed', lastError: 'The queued deletion names no message.' });
      } else if (message === undefined) {
        // Gone from the server already (another client, the server's expiry, or our last QUIT).
        store.updateAction(action.id, { state: 'done', lastError: null });
      } else {
        deleting.set(message.uidl, message);
        deletionsAwaitingQuit.push(action);
      }
    }
    const policy: LeaveOnServer = context.account().leaveOnServer;
    for (const message of server) {
      if (deleting.has(message.uidl)) continue;
      if (mayDeleteFromServer(policy, local.copyOf(message.uidl), now)) deleting.set(message.uidl, message);
    }
    // Every commit this DELE follows must survive a power loss: the batches may have been
    // committed without a sync (leave-a-copy), or in an earlier pass under another policy.
    if (deleting.size > 0) store.makeIndexDurable();
    for (const message of deleting.values()) {
      await mailbox.delete(message.number);
      settings.onStep?.('after-dele');
    }
    await mailbox.quit();
    quitSucceeded = true;
    settings.onStep?.('after-quit');

    // QUIT succeeded: the server has applied the deletions (RFC 1939 §6). Record them.
    if (deleting.size > 0) {
      const deletedAt = new Date().toISOString();
      const uidls = [...deleting.keys()];
      await store.markPopDeletedOnServer(account.id, uidls, deletedAt);
      const adoptedRows = uidls.flatMap((uidl) => {
        const copy = local.copyOf(uidl);
        return copy.adopted && copy.record !== null ? [copy.record.id] : [];
      });
      await store.markGoneFromServer(adoptedRows, deletedAt);
    }
    for (const action of deletionsAwaitingQuit) store.updateAction(action.id, { state: 'done', lastError: null });

    progress.emit('done');
    const unseen = created.filter((record) => !record.flags.includes('\\Seen'));
    if (unseen.length > 0) {
      context.emit('newMail', {
        accountId: account.id,
        folderId: inbox.id,
        count: unseen.length,
        subjects: unseen.slice(0, NEW_MAIL_SUBJECTS).map((record) => record.subject),
      });
    }
    if (sizeMismatches.length > 0) throw sizeMismatches[0];
    return {
      downloaded: whole.length - sizeMismatches.length,
      headersOnly: headers.length,
      bytes: progress.bytes,
      deletedOnServer: deleting.size,
    };
  } catch (error) {
    if (quitSucceeded) throw error;
    // Without a successful QUIT nothing was deleted (RFC 1939 §6): the queued deletions wait.
    mailbox.close();
    const reason = error instanceof Error ? error.message : String(error);
    for (const action of deletionsAwaitingQuit) {
      store.updateAction(action.id, { state: 'pending', attempts: action.attempts + 1, lastError: reason });
    }
    throw error;
  }
}

/**
 * Downloads whole messages, pipelined when allowed (RFC 2449 §6.6): the RETRs run ahead of the
 * disk while earlier messages are stored in batches (download-batches.ts; one durable commit per
 * batch, so every DELE sent later follows the commit of its message); messages above
 * STREAMED_MESSAGE_MIN_BYTES afterwards, one at a time, streamed. A message whose size does not
 * match LIST (SIZE_MISMATCH) is skipped and stays on the server; the session is still in step
 * after it, so the others go on.
 */
async function downloadWhole(
  context: EngineContext,
  mailbox: Pop3Mailbox,
  inbox: FolderRecord,
  downloads: readonly Download[],
  local: PopLocalState,
  settings: PassSettings,
  progress: Progress,
  created: MessageRecord[],
): Promise<MailError[]> {
  const byNumber = new Map(downloads.map((download) => [download.message.number, download]));
  const store = context.store;
  const mismatches: MailError[] = [];
  /** Numbers handed to the batches (whole, size checked); stored once their batch is committed. */
  const received = new Set<number>();
  // Synced at each batch when this pass may delete what it downloads (RFC 1939 leave-a-copy off,
  // or N days); otherwise one sync before the first DELE of a pass covers them (makeIndexDurable).
  const policy = context.account().leaveOnServer.kind;
  const durable = policy === 'off' || policy === 'days';
  const storeBatch = async (batch: readonly Arrived[]): Promise<void> => {
    const confirmedAt = settings.now().toISOString();
    const fresh = batch.filter((item) => item.download.attachTo === null);
    const inputOf = ({ download, bytes, parsed }: Arrived) => ({
      source: bytes,
      parsed,
      popUidl: download.message.uidl,
      onServer: true,
      serverConfirmedAt: confirmedAt,
    });
    /** Stores messages in one transaction; they count (progress, this pass's state) once committed. */
    const storeTogether = async (items: readonly Arrived[]): Promise<void> => {
      const results = await store.insertMessageBatch(inbox.id, items.map(inputOf), { durable });
      let bytes = 0;
      for (const [index, { download, bytes: source }] of items.entries()) {
        const { record, created: isNew } = results[index];
        if (isNew) created.push(record);
        local.noteStored(download.message.uidl, record);
        byNumber.delete(download.message.number);
        bytes += source.length;
      }
      progress.stepMany(items.length, bytes);
    };
    if (fresh.length > 0) {
      try {
        await storeTogether(fresh);
      } catch (error) {
        // A batch that does not fit (a full disk) leaves nothing behind; store it again one message
        // at a time so that what fits is kept, then report the first message that does not.
        if (!(error instanceof MailError) || error.code !== 'DISK_FULL' || fresh.length === 1) throw error;
        for (const item of fresh) await storeTogether([item]);
      }
    }
    // Header-only rows (TOP) getting their body: rare, one at a time.
    for (const { download, bytes: source } of batch) {
      if (download.attachTo === null) continue;
      const record = await store.attachBody(download.attachTo, source);
      local.noteStored(download.message.uidl, record);
      byNumber.delete(download.message.number);
      progress.stepMany(1, source.length);
    }
  };
  const batches = new DownloadBatches<Arrived>(storeBatch);
  const arrive = async (number: number, bytes: Buffer): Promise<void> => {
    settings.signal?.throwIfAborted();
    const download = byNumber.get(number);
    if (!download || received.has(number)) return;
    received.add(number);
    const parsed = download.attachTo === null ? sharedParsePool().parseForIndex(bytes) : undefined;
    await batches.add({ download, bytes, parsed });
  };
  let remaining = downloads
    .filter((download) => download.message.size <= STREAMED_MESSAGE_MIN_BYTES)
    .map((download) => download.message.number);
  try {
    while (remaining.length > 0) {
      try {
        if (settings.pipelining) {
          await mailbox.retrieveMany(remaining, arrive);
        } else {
          for (const number of remaining) await arrive(number, await mailbox.retrieve(number));
        }
        remaining = [];
      } catch (error) {
        if (!(error instanceof MailError) || error.code !== 'SIZE_MISMATCH') throw error;
        mismatches.push(error);
        // The first number not received is the one that failed; the others come after it.
        const failed = remaining.find((number) => !received.has(number));
        remaining = remaining.filter((number) => !received.has(number) && number !== failed);
      }
    }
  } catch (error) {
    // Whatever arrived whole before the failure is still stored (it was checked against LIST);
    // the rest stays on the server for the next pass. A store's failure (a full disk) is the one
    // to report when there is one: the download's error may be only its consequence.
    const storeError = await batches.drain().then(
      () => null,
      (failure: unknown) => failure,
    );
    throw storeError ?? error;
  }
  await batches.drain();
  // Large messages one at a time, streamed from the socket into the store (streamed-retrieve.ts).
  for (const download of downloads) {
    if (download.message.size <= STREAMED_MESSAGE_MIN_BYTES) continue;
    settings.signal?.throwIfAborted();
    const { attachTo } = download;
    try {
      const { record, bytes } = await retrieveIntoStore(mailbox, download.message.number, async (source) => {
        if (attachTo !== null) return store.attachBody(attachTo, source);
        const result = await store.insertMessage({
          folderId: inbox.id,
          source,
          popUidl: download.message.uidl,
          onServer: true,
          serverConfirmedAt: settings.now().toISOString(),
        });
        if (result.created) created.push(result.record);
        return result.record;
      });
      local.noteStored(download.message.uidl, record);
      byNumber.delete(download.message.number);
      progress.step(bytes);
    } catch (error) {
      if (!(error instanceof MailError) || error.code !== 'SIZE_MISMATCH') throw error;
      mismatches.push(error);
    }
  }
  return mismatches;
}

/**
 * Residency stays true (S14): messages here whose server copy is still listed are confirmed; those
 * whose copy vanished (another client, the server's expiry, or our own deletion whose bookkeeping
 * a crash interrupted) become local-only, or disappear if only their headers were here.
 */
async function updateResidency(
  context: EngineContext,
  local: PopLocalState,
  server: readonly ServerMessage[],
  now: Date,
): Promise<void> {
  const onServer = indexByUidl(server);
  const confirmed: string[] = [];
  const gone: string[] = [];
  for (const { uidl, record } of local.carriedUidls()) {
    if (!record.onServer) continue;
    (onServer.has(uidl) ? confirmed : gone).push(record.id);
  }
  context.store.confirmOnServer(confirmed, now.toISOString());
  await context.store.markGoneFromServer(gone, now.toISOString());
  await context.store.notePopServerListing(
    context.account().id,
    server.map((message) => ({ uidl: message.uidl, size: message.size })),
    now.toISOString(),
  );
}

/**
 * After a switch back from IMAP, messages whose bytes are already here have no UIDL yet. A new
 * UIDL whose LIST size equals a stored message's size is checked by its header (TOP n 0): when
 * the stored file starts with exactly those bytes, it is the same message and is adopted instead
 * of downloaded again. The size check first keeps this free for ordinary POP3 accounts.
 */
async function adoptStoredCopies(
  mailbox: Pop3Mailbox,
  local: PopLocalState,
  server: readonly ServerMessage[],
): Promise<void> {
  for (const message of server) {
    if (!local.hasUnclaimedOfSize(message.size)) continue;
    const copy = local.copyOf(message.uidl);
    if (copy.known || copy.record !== null) continue;
    const header = await mailbox.top(message.number, HEADER_ONLY_BODY_LINES);
    const same = await local.findSameMessage(message.size, header);
    if (same) local.adopt(message.uidl, same);
  }
}
