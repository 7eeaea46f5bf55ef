/**
 * What lets the reconcile at open skip folders nothing touched: at a clean close the store
 * records, per folder directory, the modification times of its tmp/, new/ and cur/ (a file
 * created, renamed or removed in a directory changes that directory's mtime). At the next open a
 * folder whose three stamps are unchanged holds exactly the files the index knows, and is not
 * walked. Everything else is reconciled as before: folders without a stamp, folders another tool
 * changed meanwhile, and after a crash every folder (the record is removed at open, so only a
 * clean close leaves one).
 *
 * File systems keep times at the granularity of the kernel's clock tick, so a change in the same
 * tick as the stamp would keep the stamp. A directory changed less than RACY_MS before the close
 * is therefore not stamped (the same rule as Git's "racy" index entries): it is walked next time.
 * For a large folder (a walk of thousands of files) the close waits out the rest of RACY_MS
 * instead, and stamps it then.
 */
import { readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The settings key of the record (index only: a new or replaced index has none). */
export const CLEAN_CLOSE_KEY = 'clean-close';
/** Directories changed this recently before the close are not trusted to show a later change. */
const RACY_MS = 50n;
const NANOSECONDS_PER_MILLISECOND = 1_000_000n;
const SUBDIRECTORIES = ['tmp', 'new', 'cur'] as const;
/** A cur/ this large (about a thousand names on ext4) is worth a wait of at most RACY_MS at close. */
const LARGE_DIRECTORY_BYTES = 64 * 1024;

export interface CleanCloseRecord {
  /** `accountId/folderId` → stamp of the folder directory. */
  stamps: Record<string, string>;
}

export function isCleanCloseRecord(value: unknown): value is CleanCloseRecord {
  if (typeof value !== 'object' || value === null) return false;
  const stamps = (value as { stamps?: unknown }).stamps;
  return (
    typeof stamps === 'object' && stamps !== null && Object.values(stamps).every((stamp) => typeof stamp === 'string')
  );
}

function stampOf(times: ReadonlyArray<{ mtimeNs: bigint; ino: bigint }>): string {
  return times.map((time) => `${time.ino}:${time.mtimeNs}`).join('/');
}

/** The stamp of a folder directory now, or null when a subdirectory is missing. */
export async function folderStamp(folderDir: string): Promise<string | null> {
  try {
    const times = await Promise.all(SUBDIRECTORIES.map((name) => stat(join(folderDir, name), { bigint: true })));
    return stampOf(times);
  } catch {
    return null;
  }
}

/**
 * Stamps of every folder directory under the mail root that was not changed within RACY_MS of
 * now. Synchronous: it runs in the store's close().
 */
export function collectStamps(mailRoot: string, isFolderDirectory: (name: string) => boolean): CleanCloseRecord {
  const stamps: Record<string, string> = {};
  const racy: Array<{ key: string; folderDir: string }> = [];
  let waitUntil = 0n;
  const stampNow = (folderDir: string): { stamp: string; racyUntil: bigint; large: boolean } => {
    const now = BigInt(Date.now()) * NANOSECONDS_PER_MILLISECOND;
    const times = SUBDIRECTORIES.map((name) => statSync(join(folderDir, name), { bigint: true }));
    const newest = times.reduce((max, time) => (time.mtimeNs > max ? time.mtimeNs : max), 0n);
    const racyUntil = newest + RACY_MS * NANOSECONDS_PER_MILLISECOND;
    return {
      stamp: racyUntil < now ? stampOf(times) : '',
      racyUntil: racyUntil - now,
      large: times[2].size >= LARGE_DIRECTORY_BYTES,
    };
  };
  for (const account of readdirSync(mailRoot, { withFileTypes: true })) {
    if (!account.isDirectory()) continue;
    const accountDir = join(mailRoot, account.name);
    for (const folder of readdirSync(accountDir, { withFileTypes: true })) {
      if (!folder.isDirectory() || !isFolderDirectory(folder.name)) continue;
      const key = `${account.name}/${folder.name}`;
      const folderDir = join(accountDir, folder.name);
      try {
        const { stamp, racyUntil, large } = stampNow(folderDir);
        if (stamp) stamps[key] = stamp;
        else if (large && racyUntil <= RACY_MS * NANOSECONDS_PER_MILLISECOND) {
          racy.push({ key, folderDir });
          if (racyUntil > waitUntil) waitUntil = racyUntil;
        }
      } catch {
        // No stamp: the folder is walked at the next open.
      }
    }
  }
  if (racy.length > 0) {
    const milliseconds = Number(waitUntil / NANOSECONDS_PER_MILLISECOND) + 1;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
    for (const { key, folderDir } of racy) {
      try {
        const { stamp } = stampNow(folderDir);
        if (stamp) stamps[key] = stamp;
      } catch {
        // As above.
      }
    }
  }
  return { stamps };
}
