/**
 * The SQLite index: better-sqlite3, WAL, `synchronous=NORMAL` by default. In WAL mode NORMAL
 * keeps the database consistent after a crash but may lose the last commits on power loss, which
 * is fine for a cache of facts that can be rebuilt. The one commit that must survive power loss,
 * the one that permits a POP3 DELE, goes through `commitDurably` (synchronous=FULL: the WAL is
 * synced at that commit).
 */
import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { MailError } from '../../shared/errors';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations';

export interface IndexDatabase {
  readonly db: Database.Database;
  /** True when the file was created (or replaced) by this open: the caller rebuilds from the Maildir. */
  readonly createdFresh: boolean;
  /** Runs `work` in a transaction with the default durability. */
  transaction<T>(work: () => T): T;
  /** Runs `work` in a transaction whose commit is synced to disk before this returns. */
  commitDurably<T>(work: () => T): T;
  close(): void;
}

const BUSY_TIMEOUT_MS = 5_000;
/**
 * SQLite's page cache. 16 MiB rather than 32: the cache fills during a first sync and is part of the
 * process's peak memory (figure (8), < 300 MB); with 16 MiB that peak fell by ≈ 13 MB (medians of
 * five CLI syncs, 251 vs 264 MB) while sync, search and listing times stayed within noise.
 */
const PAGE_CACHE_KIBIBYTES = 16 * 1024;

/** SQLite's "database or disk is full" as the error the user can act on. */
export function translateSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE') {
    return new MailError(
      'DISK_FULL',
      'The disk is full, so the mail index could not be updated. Nothing was lost: free some disk space and try again.',
    );
  }
  return error;
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

function configure(db: Database.Database): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // SQLite's default page cache is 2 MB; the indexes of a 100k-message folder do not fit, and
  // inserts then read pages back from the OS for every row.
  db.pragma(`cache_size = -${PAGE_CACHE_KIBIBYTES}`);
  db.pragma('temp_store = MEMORY');
}

/** Applies the migrations above the file's `user_version`, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new MailError(
      'INTERNAL',
      `The mail index was written by a newer version of Whereabouts (schema ${current}, this version knows ${SCHEMA_VERSION}). Update Whereabouts to open it.`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
}

function openAndMigrate(file: string): Database.Database {
  const db = new Database(file);
  try {
    configure(db);
    migrate(db);
    // Reading the schema touches every page header SQLite needs; a damaged file fails here.
    db.prepare('SELECT count(*) FROM sqlite_schema').get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens (creating when missing) and migrates the index. A file SQLite cannot read is moved aside
 * (`index.sqlite.damaged-<time>`, kept for inspection) and a fresh one is created, which the
 * caller then fills from the Maildir: a damaged index never makes mail unreachable.
 */
export function openIndexDatabase(file: string): IndexDatabase {
  let createdFresh = !existsSync(file);
  let db: Database.Database;
  try {
    db = openAndMigrate(file);
  } catch (error) {
    if (!isCorruption(error)) throw error;
    const aside = `${file}.damaged-${Date.now()}`;
    renameSync(file, aside);
    for (const suffix of ['-wal', '-shm']) {
      if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    }
    db = openAndMigrate(file);
    createdFresh = true;
  }

  const commitDurably = <T>(work: () => T): T => {
    if (db.inTransaction) {
      throw new MailError('INTERNAL', 'A durable commit cannot be nested inside another transaction.');
    }
    db.pragma('synchronous = FULL');
    try {
      return db.transaction(work)();
    } catch (error) {
      throw translateSqliteError(error);
    } finally {
      db.pragma('synchronous = NORMAL');
    }
  };

  return {
    db,
    createdFresh,
    transaction: <T>(work: () => T): T => {
      try {
        return db.transaction(work)();
      } catch (error) {
        throw translateSqliteError(error);
      }
    },
    commitDurably,
    close: () => {
      if (db.open) db.close();
    },
  };
}
