/**
 * Makes header-only messages whole with the server's exact bytes (BODY.PEEK[], so \Seen is not
 * set by reading, RFC 3501 section 6.4.5).
 *
 * One body (`downloadBody`: a message being opened, or a large one) streams from the adapter's
 * downloadRaw straight into the store's durable write (tmp/ → fsync → rename → index): nothing is
 * held in memory whole, and a download that breaks off stores nothing (the stream is destroyed,
 * the store removes its tmp/ file, the row stays header-only).
 *
 * The bodies of a folder kept for offline reading (`downloadFolderBodies`) come in batches: the
 * small ones (by the RFC822.SIZE the header sync stored) many per `UID FETCH`, a few MiB per
 * command, each checked against the RFC822.SIZE sent with it; the large ones one by one through
 * `downloadBody`. While one batch is written (files in parallel, one directory fsync, one index
 * commit: MessageStore.attachBodies) the next batch's FETCH is already on the wire, so the disk
 * and the network work at the same time. At most two batches are in memory. A batch counts only
 * once committed: a connection cut mid-FETCH loses nothing committed before, and the bodies of
 * the cut batch stay header-only for the next pass.
 */
import { PassThrough } from 'node:stream';
import { MailError } from '../../../shared/errors';
import type { ImapSession, RawBatch } from '../../protocols/imap/imap-mailbox';
import type { ParsedMessage } from '../../mime/parse';
import { sharedParsePool } from '../../mime/parse-pool';
import type { BodyToAttach, FolderRecord, MessageRecord, MessageStore } from '../../store/message-store';
import { isConnectionFailure } from './connectivity';

/** Bodies up to this size (RFC822.SIZE) are fetched many per command; larger ones are streamed. */
export const SMALL_BODY_MAX_BYTES = 1024 * 1024;
/** RFC822.SIZE bytes asked for in one batched FETCH (and so roughly held in memory per batch). */
export const BODY_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** Messages in one batched FETCH, however small they are. */
export const BODY_BATCH_MAX_MESSAGES = 500;
/**
 * The same for a download the user asked for (and watches, with a Cancel button): Cancel takes
 * effect between batches, so these stay small, yet still ten times fewer round trips than one
 * FETCH per message.
 */
export const REQUESTED_BATCH_MAX_MESSAGES = 10;
export const REQUESTED_BATCH_MAX_BYTES = 1024 * 1024;

export interface DownloadedBody {
  record: MessageRecord;
  /** Bytes that came over the network (0 when the body was already here). */
  bytes: number;
}

/**
 * Downloads one body. The caller has checked that the folder's UIDVALIDITY still equals the
 * record's (otherwise UID n may name another message now, RFC 3501 section 2.3.1.1).
 * Throws NOT_FOUND when the server no longer has the message.
 */
export async function downloadBody(
  session: ImapSession,
  store: MessageStore,
  record: MessageRecord,
  folder: FolderRecord,
): Promise<DownloadedBody> {
  if (record.localPath !== null) return { record, bytes: 0 };
  if (record.imap === null || folder.kind !== 'server') {
    throw new MailError(
      'NOT_FOUND',
      `“${record.subject || 'This message'}” is not on the server, so it cannot be downloaded.`,
    );
  }
  const stream = new PassThrough();
  // The store may not be reading yet when a download fails; its reader gets the error through
  // the stream's end, and this listener keeps the 'error' event from becoming an uncaught exception.
  stream.on('error', () => undefined);
  const storing = store.attachBody(record.id, stream);
  // attachBody may fail before the download ends (disk full); it destroys the stream, which makes
  // the download fail too. Its rejection is awaited below, never left unhandled meanwhile.
  storing.catch(() => undefined);
  let downloaded;
  try {
    downloaded = await session.downloadRaw(folder.path, record.imap.uid, stream);
  } catch (error) {
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
    const outcome = await storing.then(
      (stored) => ({ stored, reason: null }),
      (reason: unknown) => ({ stored: null, reason }),
    );
    // Someone else stored the body meanwhile (the store took it before our stream was read).
    if (outcome.stored?.localPath && outcome.stored.size === record.size) return { record: outcome.stored, bytes: 0 };
    // The store refused first (e.g. DISK_FULL): its error is the one that explains what happened.
    if (outcome.reason instanceof MailError && outcome.reason.code === 'DISK_FULL') throw outcome.reason;
    throw error;
  }
  const stored = await storing;
  if (stored.sha256 !== downloaded.sha256 || stored.size !== downloaded.size) {
    // Cannot happen unless something rewrote the stream on the way; never keep such a copy.
    await store.evictLocalCopy(stored.id);
    throw new MailError('SIZE_MISMATCH', 'The downloaded message did not match what the server sent; it was not kept.');
  }
  return { record: stored, bytes: downloaded.size };
}

/** A header-only message whose body is wanted (MessageStore.listMissingBodies). */
export interface MissingBody {
  id: string;
  uid: number;
  /** RFC822.SIZE from the header sync. */
  size: number;
}

export interface FolderBodiesOptions {
  session: ImapSession;
  store: MessageStore;
  /** A server folder whose UIDVALIDITY the bodies' UIDs belong to. */
  folder: FolderRecord;
  /** In the order to download them (newest first). */
  missing: readonly MissingBody[];
  smallBodyMaxBytes?: number;
  batchMaxBytes?: number;
  batchMaxMessages?: number;
  /** Streams one large body into the store; resolves with the bytes stored. */
  downloadLarge: (body: MissingBody) => Promise<number>;
  /** Called with the ids of a batch and its store step while that runs (so others can wait for it). */
  track?: (ids: readonly string[], storing: Promise<unknown>) => void;
  /** After each batch or large body: messages handled (stored or not) and bytes stored. */
  onProgress: (done: number, bytes: number) => void;
  /** Checked between batches: true ends the work early (nothing half-stored is left). */
  stopped: () => boolean;
}

export interface FolderBodiesResult {
  stored: number;
  bytes: number;
  /** Messages whose body could not be stored, with the reason (size mismatch, disk full…). */
  failures: Array<{ id: string; error: Error }>;
  /** Header-only rows removed because the server no longer has their message. */
  removed: number;
}

type Unit = { kind: 'batch'; bodies: MissingBody[] } | { kind: 'large'; body: MissingBody };

/** A batch's bytes, with the parse of each message already under way. */
interface ParsedBatch {
  raw: RawBatch;
  parsing: Map<number, Promise<ParsedMessage>>;
}

/** Newest first, small bodies grouped into batches by bytes and count; large ones alone. */
function planUnits(
  missing: readonly MissingBody[],
  smallMax: number,
  batchMaxBytes: number,
  batchMaxMessages: number,
): Unit[] {
  const units: Unit[] = [];
  let current: MissingBody[] = [];
  let currentBytes = 0;
  const flush = (): void => {
    if (current.length > 0) units.push({ kind: 'batch', bodies: current });
    current = [];
    currentBytes = 0;
  };
  for (const body of missing) {
    if (body.size > smallMax) {
      flush();
      units.push({ kind: 'large', body });
      continue;
    }
    if (current.length > 0 && (currentBytes + body.size > batchMaxBytes || current.length >= batchMaxMessages)) flush();
    current.push(body);
    currentBytes += body.size;
  }
  flush();
  return units;
}

/**
 * Downloads the bodies of `missing` into the store (see the file comment). Resolves when all were
 * handled or `stopped()`; throws only when the connection fails (what was committed stays).
 */
export async function downloadFolderBodies(options: FolderBodiesOptions): Promise<FolderBodiesResult> {
  const { session, store, folder } = options;
  const units = planUnits(
    options.missing,
    options.smallBodyMaxBytes ?? SMALL_BODY_MAX_BYTES,
    options.batchMaxBytes ?? BODY_BATCH_MAX_BYTES,
    options.batchMaxMessages ?? BODY_BATCH_MAX_MESSAGES,
  );
  const result: FolderBodiesResult = { stored: 0, bytes: 0, failures: [], removed: 0 };
  // The parse worker loads (≈ 0.1 s) while the first FETCH is on the wire, not after it arrived.
  if (units.some((unit) => unit.kind === 'batch')) sharedParsePool().warm();
  /**
   * A batch's FETCH. Each message's parse begins on the parse worker as soon as the message has
   * arrived, so the worker parses while the rest of the batch is still on the wire.
   */
  const startFetch = (unit: Extract<Unit, { kind: 'batch' }>): Promise<ParsedBatch> => {
    const parsing = new Map<number, Promise<ParsedMessage>>();
    const fetching = session
      .fetchRawBatch(
        folder.path,
        unit.bodies.map((body) => body.uid),
        (uid, source) => parsing.set(uid, sharedParsePool().parseForIndex(source)),
      )
      .then((raw) => ({ raw, parsing }));
    // Awaited when its turn comes; a failure before then must not be an unhandled rejection.
    fetching.catch(() => undefined);
    return fetching;
  };
  /** The server no longer has it: its deletion wins (another device deleted it), as for one body. */
  const removeGone = async (body: MissingBody): Promise<void> => {
    if (session.closed) return;
    const current = store.getMessageRecord(body.id);
    if (current && current.localPath === null && current.imap?.uid === body.uid) {
      await store.deleteMessage(body.id);
      result.removed += 1;
    }
  };
  const storeBatch = async (unit: Extract<Unit, { kind: 'batch' }>, { raw, parsing }: ParsedBatch): Promise<number> => {
    const items: BodyToAttach[] = [];
    for (const body of unit.bodies) {
      const source = raw.messages.get(body.uid);
      const failed = raw.failed.get(body.uid);
      if (source) items.push({ messageId: body.id, source, parsed: parsing.get(body.uid) });
      else if (failed) result.failures.push({ id: body.id, error: failed });
      else await removeGone(body);
    }
    if (items.length === 0) return 0;
    const storing = store.attachBodies(items);
    options.track?.(
      items.map((item) => item.messageId),
      storing,
    );
    let bytes = 0;
    for (const outcome of await storing) {
      if (outcome.status === 'stored') {
        result.stored += 1;
        bytes += outcome.size;
      } else if (outcome.status === 'failed') result.failures.push({ id: outcome.messageId, error: outcome.error });
    }
    return bytes;
  };

  let prefetch: { unit: Unit; fetching: Promise<ParsedBatch> } | null = null;
  for (let index = 0; index < units.length; index += 1) {
    if (options.stopped()) break;
    const unit = units[index];
    const following = units[index + 1];
    if (unit.kind === 'large') {
      const downloading = options.downloadLarge(unit.body);
      downloading.catch(() => undefined);
      // Queued behind the streamed download on the connection: it runs while that body is fsynced and indexed.
      if (following?.kind === 'batch') prefetch = { unit: following, fetching: startFetch(following) };
      let bytes = 0;
      try {
        bytes = await downloading;
        if (bytes > 0) result.stored += 1;
      } catch (error) {
        if (isConnectionFailure(error) || session.closed) throw error;
        // One message that cannot be stored (deleted meanwhile, disk full…) does not stop the others.
        result.failures.push({ id: unit.body.id, error: error instanceof Error ? error : new Error(String(error)) });
      }
      result.bytes += bytes;
      options.onProgress(1, bytes);
      throwIfDiskFull(result);
      continue;
    }
    const fetching = prefetch?.unit === unit ? prefetch.fetching : startFetch(unit);
    prefetch = null;
    const fetched = await fetching;
    if (options.stopped()) break;
    // The next batch's FETCH goes out now and arrives while this one is written.
    if (following?.kind === 'batch') prefetch = { unit: following, fetching: startFetch(following) };
    let bytes = 0;
    try {
      bytes = await storeBatch(unit, fetched);
    } catch (error) {
      if (isConnectionFailure(error) || session.closed) throw error;
      // The index refused the whole batch (disk full…): its files were taken out, the rest goes on.
      for (const body of unit.bodies) {
        result.failures.push({ id: body.id, error: error instanceof Error ? error : new Error(String(error)) });
      }
    }
    result.bytes += bytes;
    options.onProgress(unit.bodies.length, bytes);
    // A full disk stops the downloads: every further body would fail the same way, and the person
    // must be told (what was stored stays; the rest is fetched once there is space).
    throwIfDiskFull(result);
  }
  return result;
}

function throwIfDiskFull(result: FolderBodiesResult): void {
  const full = result.failures.find(({ error }) => error instanceof MailError && error.code === 'DISK_FULL');
  if (full) throw full.error;
}
