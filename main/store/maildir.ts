/**
 * Durable Maildir file operations. A message becomes visible in cur/ only complete and synced:
 * it is written to tmp/, fsynced, renamed into cur/ (rename is atomic on POSIX), and then the
 * directory is fsynced so the rename itself survives a power loss. Every other change (flags,
 * identity, move, delete) is one rename or unlink followed by the directory fsync.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { MailError } from '../../shared/errors';
import { formatMaildirName, formatTmpName, newMessageId, parseMaildirName, type ImapIdentity } from './maildir-name';

/** The points of a write, reported in order; tests stop a process at each one. */
export type WriteStep = 'after-tmp-write' | 'after-fsync' | 'after-rename';

export interface WriteOptions {
  id?: string;
  flags?: readonly string[];
  imap?: ImapIdentity | null;
  popUidl?: string | null;
  /** When the server received the message (IMAP INTERNALDATE); kept as the file's mtime, as Dovecot does. */
  receivedAt?: Date | null;
  host?: string;
  /** Called at each durability step (used by crash tests; never needed in normal operation). */
  onStep?: (step: WriteStep) => void;
}

export interface WrittenMessage {
  /** Absolute path of the file in cur/. */
  path: string;
  fileName: string;
  id: string;
  size: number;
  sha256: string;
  /** Seconds since the epoch: the TIME field of the name. */
  time: number;
}

const FILE_MODE = 0o600;
const DIRECTORY_MODE = 0o700;
const WRITE_CHUNK_BYTES = 1024 * 1024;

function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function diskFullError(what: string): MailError {
  return new MailError(
    'DISK_FULL',
    `The disk is full, so ${what} could not be saved. Nothing was lost: free some disk space and try again.`,
  );
}

/** Creates tmp/, new/ and cur/ of a Maildir folder. */
export async function ensureMaildir(folderDir: string): Promise<void> {
  for (const sub of ['tmp', 'new', 'cur']) {
    await mkdir(join(folderDir, sub), { recursive: true, mode: DIRECTORY_MODE });
  }
}

/** fsync of a directory, so that a rename or unlink inside it is durable (POSIX requires it). */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    // Already gone, or the disk refuses even that: the tmp sweep at the next start removes it.
  }
}

/**
 * Writes a message durably into `folderDir/cur`, byte for byte. A stream is written as it
 * arrives (never held whole in memory) and hashed on the way.
 */
export async function writeMessage(
  folderDir: string,
  source: Buffer | Readable,
  options: WriteOptions = {},
): Promise<WrittenMessage> {
  const id = options.id ?? newMessageId();
  const host = options.host ?? hostname();
  const time = Math.floor(Date.now() / 1000);
  const tmpPath = join(folderDir, 'tmp', formatTmpName(time, id, host));
  const hash = createHash('sha256');
  let size = 0;
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(tmpPath, 'wx', FILE_MODE);
    const writeAll = async (chunk: Buffer): Promise<void> => {
      for (let offset = 0; offset < chunk.length; offset += WRITE_CHUNK_BYTES) {
        const piece = chunk.subarray(offset, offset + WRITE_CHUNK_BYTES);
        let written = 0;
        while (written < piece.length) {
          const result = await handle!.write(piece, written, piece.length - written);
          written += result.bytesWritten;
        }
      }
      hash.update(chunk);
      size += chunk.length;
    };
    if (Buffer.isBuffer(source)) {
      await writeAll(source);
    } else {
      for await (const chunk of source) {
        await writeAll(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      }
    }
    options.onStep?.('after-tmp-write');
    await handle.sync();
    options.onStep?.('after-fsync');
    await handle.close();
    handle = null;
    if (options.receivedAt && Number.isFinite(options.receivedAt.getTime())) {
      await utimes(tmpPath, options.receivedAt, options.receivedAt);
    }
    const fileName = formatMaildirName({
      time,
      id,
      host,
      size,
      imap: options.imap ?? null,
      popUidl: options.popUidl ?? null,
      flags: [...(options.flags ?? [])],
    });
    const finalPath = join(folderDir, 'cur', fileName);
    await rename(tmpPath, finalPath);
    await syncDirectory(join(folderDir, 'cur'));
    options.onStep?.('after-rename');
    return { path: finalPath, fileName, id, size, sha256: hash.digest('hex'), time };
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
    await removeQuietly(tmpPath);
    if (!Buffer.isBuffer(source)) source.destroy();
    if (isDiskFull(error)) throw diskFullError(`a message (${Math.ceil(size / 1024)} KB so far)`);
    throw error;
  }
}

/** Removes whatever a crashed write left in tmp/. Returns how many files were removed. */
export async function sweepTmp(folderDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(join(folderDir, 'tmp'));
  } catch {
    return 0;
  }
  for (const name of names) await removeQuietly(join(folderDir, 'tmp', name));
  if (names.length > 0) await syncDirectory(join(folderDir, 'tmp'));
  return names.length;
}

export async function readMessage(path: string): Promise<Buffer> {
  return readFile(path);
}

export function openStream(path: string): ReadStream {
  return createReadStream(path);
}

/** Unlinks a message durably. A file that is already gone counts as deleted. */
export async function deleteMessage(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
  await syncDirectory(dirname(path));
}

/** Renames a message to carry other flags or another identity. Returns the new path. */
export async function renameMessage(
  path: string,
  change: { flags?: readonly string[]; imap?: ImapIdentity | null; popUidl?: string | null },
  targetFolderDir?: string,
): Promise<string> {
  const parsed = parseMaildirName(basename(path));
  if (!parsed) throw new MailError('INTERNAL', `The stored message ${basename(path)} has an unexpected file name.`);
  const fileName = formatMaildirName({
    ...parsed,
    flags: change.flags ? [...change.flags] : parsed.flags,
    imap: change.imap !== undefined ? change.imap : parsed.imap,
    popUidl: change.popUidl !== undefined ? change.popUidl : parsed.popUidl,
  });
  const targetDirectory = targetFolderDir ? join(targetFolderDir, 'cur') : dirname(path);
  const target = join(targetDirectory, fileName);
  if (target === path) return path;
  await rename(path, target);
  await syncDirectory(targetDirectory);
  if (targetDirectory !== dirname(path)) await syncDirectory(dirname(path));
  return target;
}

/** Flags → new name (Maildir keeps flags in the name, so this is a rename). */
export async function setFlags(path: string, flags: readonly string[]): Promise<string> {
  return renameMessage(path, { flags });
}

/** Moves a message file to another Maildir folder (same file system: one atomic rename). */
export async function moveMessageFile(
  path: string,
  targetFolderDir: string,
  change: { flags?: readonly string[]; imap?: ImapIdentity | null; popUidl?: string | null } = {},
): Promise<string> {
  return renameMessage(path, change, targetFolderDir);
}

/**
 * Writes a small file atomically and durably (tmp name, fsync, rename, fsync directory); used
 * for the folder and account sidecars.
 */
export async function writeFileDurably(path: string, content: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(temporary, 'w', FILE_MODE);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(temporary, path);
    await syncDirectory(dirname(path));
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
    await removeQuietly(temporary);
    if (isDiskFull(error)) throw diskFullError('the mail folder settings');
    throw error;
  }
}

/** Appends one line and fsyncs (the POP3 UIDL journal). */
export async function appendLineDurably(path: string, line: string): Promise<void> {
  const handle = await open(path, 'a', FILE_MODE);
  try {
    await handle.write(`${line}\n`);
    await handle.sync();
    // The first append creates the file; its directory entry must be durable too.
    await syncDirectory(dirname(path));
  } catch (error) {
    if (isDiskFull(error)) throw diskFullError('the list of messages left on the server');
    throw error;
  } finally {
    await handle.close();
  }
}
