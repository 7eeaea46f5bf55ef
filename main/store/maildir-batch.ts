/**
 * Many messages written durably into one Maildir folder at once, for the hot path of a download
 * (a POP3 pass): every file goes through tmp/ → write → fsync → rename into cur/ as in
 * `writeMessage`, but the files are written in parallel (each fsync runs in libuv's thread pool,
 * so several are in the disk's queue at once) and the rename into cur/ is made durable by ONE
 * directory fsync for the whole batch instead of one per message.
 *
 * The guarantee is the same as writeMessage's: when this resolves, every file is complete, synced
 * and durably in cur/. When it fails, none of the batch is left behind (tmp/ or cur/), so the
 * caller's index and the Maildir stay in step.
 */
import { createHash } from 'node:crypto';
import { open, rename, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MailError } from '../../shared/errors';
import { syncDirectory, type WriteStep, type WrittenMessage } from './maildir';
import { formatMaildirName, formatTmpName, newMessageId, type ImapIdentity } from './maildir-name';

export interface BatchFile {
  source: Buffer;
  flags?: readonly string[];
  imap?: ImapIdentity | null;
  popUidl?: string | null;
  /** Kept as the file's mtime, as writeMessage does; null: the time of the write. */
  receivedAt?: Date | null;
}

export interface BatchWriteOptions {
  host?: string;
  /** Called at each durability step of each file ('after-rename' once the batch's rename is durable). */
  onStep?: (step: WriteStep) => void;
}

/** A written file and its modification time in milliseconds (the received time of the row). */
export interface BatchWritten extends WrittenMessage {
  mtimeMs: number;
}

/**
 * Files written at once. libuv runs 4 threads by default; a few more requests than threads keep
 * them all busy while the main thread hands out the next ones.
 */
export const BATCH_WRITE_CONCURRENCY = 8;

const FILE_MODE = 0o600;

interface Placed {
  tmpPath: string;
  finalPath: string | null;
  renamed: boolean;
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Already gone, or the disk refuses even that: the tmp sweep at the next start removes it.
  }
}

async function writeOne(
  folderDir: string,
  file: BatchFile,
  host: string,
  placed: Placed[],
  onStep: BatchWriteOptions['onStep'],
): Promise<BatchWritten> {
  const id = newMessageId();
  const time = Math.floor(Date.now() / 1000);
  const tmpPath = join(folderDir, 'tmp', formatTmpName(time, id, host));
  const place: Placed = { tmpPath, finalPath: null, renamed: false };
  placed.push(place);
  const handle = await open(tmpPath, 'wx', FILE_MODE);
  let mtimeMs: number;
  try {
    let written = 0;
    while (written < file.source.length) {
      const result = await handle.write(file.source, written, file.source.length - written);
      written += result.bytesWritten;
    }
    onStep?.('after-tmp-write');
    await handle.sync();
    onStep?.('after-fsync');
    mtimeMs = (await handle.stat()).mtimeMs;
  } finally {
    await handle.close();
  }
  const receivedAt = file.receivedAt;
  if (receivedAt && Number.isFinite(receivedAt.getTime())) {
    await utimes(tmpPath, receivedAt, receivedAt);
    mtimeMs = receivedAt.getTime();
  }
  const size = file.source.length;
  const fileName = formatMaildirName({
    time,
    id,
    host,
    size,
    imap: file.imap ?? null,
    popUidl: file.popUidl ?? null,
    flags: [...(file.flags ?? [])],
  });
  const finalPath = join(folderDir, 'cur', fileName);
  place.finalPath = finalPath;
  await rename(tmpPath, finalPath);
  place.renamed = true;
  const sha256 = createHash('sha256').update(file.source).digest('hex');
  return { path: finalPath, fileName, id, size, sha256, time, mtimeMs };
}

/**
 * Writes `files` into `folderDir` (which must exist with tmp/ and cur/), in input order of the
 * result. Resolves once every file and its name in cur/ are durable.
 */
export async function writeMessageBatch(
  folderDir: string,
  files: readonly BatchFile[],
  options: BatchWriteOptions = {},
): Promise<BatchWritten[]> {
  const host = options.host ?? hostname();
  const placed: Placed[] = [];
  const results: BatchWritten[] = new Array<BatchWritten>(files.length);
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < files.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await writeOne(folderDir, files[index], host, placed, options.onStep);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  const workers = Array.from({ length: Math.min(BATCH_WRITE_CONCURRENCY, files.length) }, worker);
  await Promise.all(workers);
  try {
    if (failure !== null) throw failure;
    if (files.length > 0) await syncDirectory(join(folderDir, 'cur'));
  } catch (error) {
    // Nothing of a failed batch stays: a file in cur/ without its row would be indexed only at the
    // next start, and downloaded again meanwhile.
    await Promise.all(
      placed.map((place) => removeQuietly(place.renamed && place.finalPath !== null ? place.finalPath : place.tmpPath)),
    );
    await syncDirectory(join(folderDir, 'cur')).catch(() => undefined);
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new MailError(
        'DISK_FULL',
        `The disk is full, so ${files.length} messages could not be saved. Nothing was lost: free some disk space and try again.`,
      );
    }
    throw error;
  }
  for (let index = 0; index < files.length; index += 1) options.onStep?.('after-rename');
  return results;
}

/** One message of MessageStore.insertMessageBatch: NewMessageInput with its bytes in memory. */
export interface BatchMessageInput {
  /** The bytes exactly as the server sent them (POP3 RETR). */
  source: Buffer;
  flags?: readonly string[];
  popUidl?: string | null;
  /** Whether the server holds a copy; default: true when a UIDL is given. */
  onServer?: boolean;
  receivedAt?: string | null;
  serverConfirmedAt?: string | null;
}
