/**
 * The files of MessageStore.attachBodies: the bodies of many header-only rows into one Maildir
 * folder at once, each named with its row's id (so that reconcile pairs a file left by a crash
 * with its row) and each as durable as `writeMessage` (maildir.ts) makes one: tmp/ → write →
 * fsync → rename into cur/, and the rename made durable by an fsync of cur/. What a batch saves is
 * waiting: the files are written and fsynced in parallel (Node runs file system calls on libuv's
 * thread pool, four threads by default), and cur/ is fsynced once for the whole batch instead of
 * once per message. A message is in cur/ for good only once that directory fsync has returned.
 * Unlike maildir-batch.ts (new messages, all or nothing) one file that fails does not fail the
 * others: each keeps its own outcome, like one attachBody each.
 */
import { createHash } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MailError } from '../../shared/errors';
import { syncDirectory, type WriteStep, type WrittenMessage } from './maildir';
import { formatMaildirName, formatTmpName, type ImapIdentity } from './maildir-name';

/** Files written at once: more than libuv's 4 threads, so they stay busy while the main thread hands out work. */
export const ATTACH_WRITE_CONCURRENCY = 8;

const FILE_MODE = 0o600;

export interface AttachFile {
  /** The message id, part of the file name (and of the row that will point at it). */
  id: string;
  source: Buffer;
  flags: readonly string[];
  imap: ImapIdentity | null;
  popUidl: string | null;
  /** Kept as the file's mtime, as Dovecot does (IMAP INTERNALDATE). */
  receivedAt: Date | null;
}

export type AttachFileResult =
  { id: string; written: WrittenMessage & { mtimeMs: number } } | { id: string; error: MailError | Error };

export interface AttachWriteOptions {
  host?: string;
  /** Called at each durability step of each file (crash tests); 'after-rename' once cur/ is synced. */
  onStep?: (step: WriteStep) => void;
  concurrency?: number;
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

/** One file: tmp/, write, mtime, fsync, close, rename into cur/. Not yet durable in cur/. */
async function writeOne(
  folderDir: string,
  file: AttachFile,
  host: string,
  time: number,
  onStep: AttachWriteOptions['onStep'],
): Promise<WrittenMessage & { mtimeMs: number }> {
  const tmpPath = join(folderDir, 'tmp', formatTmpName(time, file.id, host));
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  let renamed = false;
  try {
    handle = await open(tmpPath, 'wx', FILE_MODE);
    let written = 0;
    while (written < file.source.length) {
      const result = await handle.write(file.source, written, file.source.length - written);
      written += result.bytesWritten;
    }
    onStep?.('after-tmp-write');
    const receivedAt = file.receivedAt && Number.isFinite(file.receivedAt.getTime()) ? file.receivedAt : null;
    // Set before the fsync, so that the fsync also makes the mtime durable.
    if (receivedAt) await handle.utimes(receivedAt, receivedAt);
    await handle.sync();
    onStep?.('after-fsync');
    const mtimeMs = receivedAt ? receivedAt.getTime() : Math.round((await handle.stat()).mtimeMs);
    await handle.close();
    handle = null;
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
    await rename(tmpPath, finalPath);
    renamed = true;
    const sha256 = createHash('sha256').update(file.source).digest('hex');
    return { path: finalPath, fileName, id: file.id, size, sha256, time, mtimeMs };
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
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
export async function writeAttachBatch(
  folderDir: string,
  files: readonly AttachFile[],
  options: AttachWriteOptions = {},
): Promise<AttachFileResult[]> {
  const host = options.host ?? hostname();
  const time = Math.floor(Date.now() / 1000);
  const results: AttachFileResult[] = new Array<AttachFileResult>(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const index = next;
      next += 1;
      const file = files[index];
      try {
        results[index] = { id: file.id, written: await writeOne(folderDir, file, host, time, options.onStep) };
      } catch (error) {
        results[index] = { id: file.id, error: error instanceof Error ? error : new Error(String(error)) };
      }
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? ATTACH_WRITE_CONCURRENCY, files.length));
  await Promise.all(Array.from({ length: workers }, worker));
  const renamed = results.filter(
    (result): result is Extract<AttachFileResult, { written: unknown }> => 'written' in result,
  );
  if (renamed.length === 0) return results;
  try {
    await syncDirectory(join(folderDir, 'cur'));
  } catch (error) {
    const failure = storingError(error, 0);
    await Promise.all(renamed.map((result) => removeQuietly(result.written.path)));
    return results.map((result) => ('written' in result ? { id: result.id, error: failure } : result));
  }
  for (let index = 0; index < renamed.length; index += 1) options.onStep?.('after-rename');
  return results;
}

/** One body for MessageStore.attachBodies: the exact bytes of a header-only row's message. */
export interface BodyToAttach {
  messageId: string;
  source: Buffer;
}

/**
 * What attachBodies did with one body. `stored`: durable in cur/ and committed. `present`: the
 * row had its body already (nothing written). `gone`: the row no longer exists. `failed`: this
 * file could not be written (e.g. DISK_FULL); the row stays header-only.
 */
export type AttachOutcome =
  | { messageId: string; status: 'stored' | 'present'; size: number; sha256: string | null }
  | { messageId: string; status: 'gone' }
  | { messageId: string; status: 'failed'; error: Error };
