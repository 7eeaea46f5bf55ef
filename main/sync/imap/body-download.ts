/**
 * Makes a header-only message whole: the server's exact bytes (BODY.PEEK[], so \Seen is not set
 * by reading, RFC 3501 section 6.4.5) stream from the adapter's downloadRaw straight into the
 * store's durable write (tmp/ → fsync → rename → index). Nothing is held in memory whole, and a
 * download that breaks off stores nothing: the stream is destroyed, the store removes its tmp/
 * file, and the row stays header-only.
 */
import { PassThrough } from 'node:stream';
import { MailError } from '../../../shared/errors';
import type { ImapSession } from '../../protocols/imap/imap-mailbox';
import type { FolderRecord, MessageRecord, MessageStore } from '../../store/message-store';

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
