/**
 * Replacing a small file so that after a crash or power loss it holds either the old or the new
 * contents, never a mix: write a temporary file beside it, fsync, rename over the target, fsync the
 * folder (the rename lives in the folder's entry, so without that it may not survive a crash).
 */
import { randomBytes } from 'node:crypto';
import { chmod, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { MailError } from '../../shared/errors';

/** Only the user may read or write settings and secrets. */
export const PRIVATE_FILE_MODE = 0o600;

function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** Maps a file-system failure to a message that says which file and what to do. */
export function fileError(error: unknown, filePath: string, doing: string): MailError {
  if (error instanceof MailError) return error;
  const code = errorCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MailError(
      'DISK_FULL',
      `The disk is full: could not ${doing} ${filePath}. Free some space and try again.`,
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new MailError(
      'INTERNAL',
      `Whereabouts is not allowed to ${doing} ${filePath} (${code}). Check its permissions.`,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new MailError('INTERNAL', `Could not ${doing} ${filePath}: ${reason}`);
}

export async function writeFileAtomic(
  filePath: string,
  data: Buffer | string,
  mode = PRIVATE_FILE_MODE,
): Promise<void> {
  const directory = path.dirname(filePath);
  const temporary = path.join(
    directory,
    `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(data);
      // The process umask may have narrowed the mode further; never let it be wider than asked.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, filePath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw fileError(error, filePath, 'write');
  }
  await syncDirectory(directory);
}

async function syncDirectory(directory: string): Promise<void> {
  // Windows cannot open a folder for fsync; there the rename is as durable as NTFS makes it.
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Narrows an existing file's mode to the user only (e.g. one copied in with wider permissions). */
export async function restrictToOwner(filePath: string): Promise<void> {
  if (process.platform === 'win32') return;
  await chmod(filePath, PRIVATE_FILE_MODE);
}

/** Runs async tasks one at a time, in order: read-modify-write of one file must not interleave. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
