/**
 * Many messages written durably into one Maildir folder at once, for the hot paths of a download
 * (a POP3 pass, a batch of IMAP bodies): every file goes through tmp/ → write → fsync → rename into
 * cur/ as in `writeMessage` (maildir.ts), but the files are written in parallel (each fsync runs in
 * libuv's thread pool, so several are in the disk's queue at once) and the renames into cur/ are
 * made durable by ONE directory fsync for the whole batch instead of one per message. A file is in
 * cur/ for good only once that directory fsync has returned.
 *
 * Two shapes: `writeFilesInParallel` gives each file its own outcome (one that fails leaves nothing
 * behind and does not stop the others: attachBodies); `writeMessageBatch` is all or nothing (new
 * messages of insertMessageBatch, whose rows are committed together).
 */
import * as fs from 'node:fs';
import { unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MailError } from '../../shared/errors';
import type { ParsedMessage } from '../mime/parse';
import { syncDirectory, type WriteStep, type WrittenMessage } from './maildir';
import { formatMaildirName, formatTmpName, newMessageId, type ImapIdentity } from './maildir-name';

/** Files written at once: more than libuv's 4 threads, so they stay busy while the main thread hands out work. */
export const BATCH_WRITE_CONCURRENCY = 8;

const FILE_MODE = 0o600;

export interface BatchFile {
  /** The message id, part of the file name (and of the row that will point at it). */
  id: string;
  source: Buffer;
  flags: readonly string[];
  imap: ImapIdentity | null;
  popUidl: string | null;
  /** Kept as the file's mtime, as Dovecot does (IMAP INTERNALDATE); null: the time of the write. */
  receivedAt: Date | null;
}

/**
 * A written file and its modification time in milliseconds (the received time of the row). Its
 * SHA-256 is not computed here: the store has it from the parse worker (ParseOptions.digest).
 */
export interface BatchWritten extends Omit<WrittenMessage, 'sha256'> {
  mtimeMs: number;
}

export type BatchFileResult = { id: string; written: BatchWritten } | { id: string; error: MailError | Error };

export interface BatchWriteOptions {
  host?: string;
  /** Called at each durability step of each file (crash tests); 'after-rename' once cur/ is synced. */
  onStep?: (step: WriteStep) => void;
  concurrency?: number;
  /** All or nothing: after the first failure no further file is started. */
  stopAtFirstFailure?: boolean;
}

function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function storingError(error: unknown, size: number): MailError | Error {
  if (isDiskFull(error)) {
    return new MailError(
      'DISK_FULL',
      `The disk is full, so a message (${Math.ceil(size / 1024)} KB) could not be saved. Nothing was lost: free some disk space and try again.`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Already gone, or the disk refuses even that: the tmp sweep at the next start removes it.
  }
}

/**
 * The file-system calls of writeOne, on descriptors through fs's callback API: each is one request
 * to libuv's thread pool, without the FileHandle bookkeeping of fs/promises, which cost the main
 * thread ≈ 40 % more per file (issue #7: 10,000 files per full sync).
 */
const fileCalls = {
  open: promisify(fs.open),
  write: promisify(fs.write),
  futimes: promisify(fs.futimes),
  fsync: promisify(fs.fsync),
  fstat: promisify(fs.fstat),
  close: promisify(fs.close),
  rename: promisify(fs.rename),
};

/** One file: tmp/, write, mtime, fsync, close, rename into cur/. Not yet durable in cur/. */
async function writeOne(
  folderDir: string,
  file: BatchFile,
  host: string,
  time: number,
  onStep: BatchWriteOptions['onStep'],
): Promise<BatchWritten> {
  const tmpPath = join(folderDir, 'tmp', formatTmpName(time, file.id, host));
  let fd: number | null = null;
  let renamed = false;
  try {
    fd = await fileCalls.open(tmpPath, 'wx', FILE_MODE);
    let written = 0;
    while (written < file.source.length) {
      written += (await fileCalls.write(fd, file.source, written, file.source.length - written, null)).bytesWritten;
    }
    onStep?.('after-tmp-write');
    const receivedAt = file.receivedAt && Number.isFinite(file.receivedAt.getTime()) ? file.receivedAt : null;
    // Set before the fsync, so that the fsync also makes the mtime durable.
    if (receivedAt) await fileCalls.futimes(fd, receivedAt, receivedAt);
    await fileCalls.fsync(fd);
    onStep?.('after-fsync');
    const mtimeMs = receivedAt ? receivedAt.getTime() : Math.round((await fileCalls.fstat(fd)).mtimeMs);
    const closing = fd;
    fd = null;
    await fileCalls.close(closing);
    const size = file.source.length;
    const fileName = formatMaildirName({
      time,
      id: file.id,
      host,
      size,
      imap: file.imap,
      popUidl: file.popUidl,
      flags: [...file.flags],
    });
    const finalPath = join(folderDir, 'cur', fileName);
    await fileCalls.rename(tmpPath, finalPath);
    renamed = true;
    return { path: finalPath, fileName, id: file.id, size, time, mtimeMs };
  } catch (error) {
    if (fd !== null) await fileCalls.close(fd).catch(() => undefined);
    if (!renamed) await removeQuietly(tmpPath);
    throw storingError(error, file.source.length);
  }
}

/**
 * Writes `files` into `folderDir/cur` (the folder's Maildir must exist), in parallel, then fsyncs
 * cur/ once. One result per file, in input order: a file that could not be written (disk full…)
 * leaves nothing behind and does not stop the others. If the directory fsync itself fails, no
 * file of the batch is reported written (they are taken out again: none may count as stored).
 */
export async function writeFilesInParallel(
  folderDir: string,
  files: readonly BatchFile[],
  options: BatchWriteOptions = {},
): Promise<BatchFileResult[]> {
  const host = options.host ?? hostname();
  const time = Math.floor(Date.now() / 1000);
  const results: BatchFileResult[] = new Array<BatchFileResult>(files.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < files.length && !(failed && options.stopAtFirstFailure)) {
      const index = next;
      next += 1;
      const file = files[index];
      try {
        results[index] = { id: file.id, written: await writeOne(folderDir, file, host, time, options.onStep) };
      } catch (error) {
        failed = true;
        results[index] = { id: file.id, error: error instanceof Error ? error : new Error(String(error)) };
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? BATCH_WRITE_CONCURRENCY, files.length));
  await Promise.all(Array.from({ length: workers }, worker));
  const renamed = results.filter((result): result is Extract<BatchFileResult, { written: unknown }> =>
    Boolean(result && 'written' in result),
  );
  if (renamed.length === 0) return results;
  try {
    await syncDirectory(join(folderDir, 'cur'));
  } catch (error) {
    const failure = storingError(error, 0);
    await Promise.all(renamed.map((result) => removeQuietly(result.written.path)));
    return results.map((result) => (result && 'written' in result ? { id: result.id, error: failure } : result));
  }
  for (let index = 0; index < renamed.length; index += 1) options.onStep?.('after-rename');
  return results;
}

/** A new message of writeMessageBatch: its id is made here. */
export type NewBatchFile = Omit<BatchFile, 'id'>;

/**
 * Writes new messages all or nothing: resolves once every file and its name in cur/ are durable;
 * when one fails, none of the batch is left behind (tmp/ or cur/), so the caller's index and the
 * Maildir stay in step.
 */
export async function writeMessageBatch(
  folderDir: string,
  files: readonly NewBatchFile[],
  options: Omit<BatchWriteOptions, 'stopAtFirstFailure'> = {},
): Promise<BatchWritten[]> {
  const results = await writeFilesInParallel(
    folderDir,
    files.map((file) => ({ ...file, id: newMessageId() })),
    { ...options, stopAtFirstFailure: true },
  );
  const failure = results.find((result) => result === undefined || 'error' in result);
  if (failure === undefined) return results.map((result) => (result as { written: BatchWritten }).written);
  // Nothing of a failed batch stays: a file in cur/ without its row would be indexed only at the
  // next start, and downloaded again meanwhile.
  const written = results.filter((result): result is { id: string; written: BatchWritten } =>
    Boolean(result && 'written' in result),
  );
  await Promise.all(written.map((result) => removeQuietly(result.written.path)));
  await syncDirectory(join(folderDir, 'cur')).catch(() => undefined);
  const error = failure && 'error' in failure ? failure.error : new Error('a message of the batch was not written');
  if (error instanceof MailError && error.code === 'DISK_FULL') {
    throw new MailError(
      'DISK_FULL',
      `The disk is full, so ${files.length} messages could not be saved. Nothing was lost: free some disk space and try again.`,
    );
  }
  throw error;
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
  /** Its parse, when the caller started it as the bytes arrived (parse-pool.ts); else it starts in the store. */
  parsed?: Promise<ParsedMessage>;
}
