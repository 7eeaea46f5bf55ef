/**
 * RETR streamed into the store's durable write, for messages too large to hold in memory: the
 * bytes go from the socket through `retrieveTo` into the store's tmp/ file as they arrive, so a
 * 200 MB message takes a few socket and file buffers, not 200 MB (or twice that while a Buffer is
 * assembled). Small messages still go through the pipelined `retrieveMany`, which is faster.
 *
 * A download that breaks off stores nothing: the stream is destroyed with the error, the store
 * removes its tmp/ file, and the message stays on the server (nothing was recorded, so no DELE).
 */
import { PassThrough, type Readable } from 'node:stream';
import { MailError } from '../../../shared/errors';
import type { Pop3Mailbox } from '../../protocols/pop3/pop3-mailbox';
import type { MessageRecord } from '../../store/message-store';

/**
 * Messages above this LIST size are streamed. Below it, the pipelined Buffers stay within the
 * adapter's pipelining window (16 MiB) and a parse of the whole Buffer costs little.
 */
export const STREAMED_MESSAGE_MIN_BYTES = 8 * 1024 * 1024;

/** Downloads message `messageNumber` into `store(source)` (insertMessage or attachBody with a stream). */
export async function retrieveIntoStore(
  mailbox: Pop3Mailbox,
  messageNumber: number,
  store: (source: Readable) => Promise<MessageRecord>,
): Promise<{ record: MessageRecord; bytes: number }> {
  const stream = new PassThrough();
  // The store may not be reading yet when the download fails; this keeps the error of the
  // destroyed stream from becoming an uncaught exception (the store sees it through the stream).
  stream.on('error', () => undefined);
  const storing = store(stream);
  // Awaited below in every path; never left unhandled meanwhile (the store may fail first).
  storing.catch(() => undefined);
  let bytes: number;
  try {
    bytes = await mailbox.retrieveTo(messageNumber, stream);
  } catch (error) {
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
    const refusal = await storing.then(
      () => null,
      (reason: unknown) => reason,
    );
    // The store gave up first (the disk is full): its error says what happened; the download
    // error is only the consequence (its destination went away).
    const sizeMismatch = error instanceof MailError && error.code === 'SIZE_MISMATCH';
    if (!sizeMismatch && refusal instanceof MailError && refusal.code === 'DISK_FULL') throw refusal;
    throw error;
  }
  stream.end();
  return { record: await storing, bytes };
}
