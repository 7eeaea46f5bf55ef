import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openIndexDatabase } from './database';
import { FTS_DELETE_MERGE_PERCENT, SCHEMA_VERSION } from './migrations';
import { temporaryProfile } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function profile(): string {
  const created = temporaryProfile('wb-db-');
  cleanups.push(created.remove);
  return created.directory;
}

const SYNCHRONOUS_NORMAL = 1;
const SYNCHRONOUS_FULL = 2;

describe('the index database', () => {
  it('answers "which rows still need a body" from the rows missing one, not from the whole folder', () => {
    const index = openIndexDatabase(join(profile(), 'index.sqlite'));
    cleanups.push(() => index.close());
    const plan = index.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id, remote_uid AS uid, size FROM messages
         WHERE folder_id = ? AND remote_uidvalidity = ? AND remote_uid IS NOT NULL AND local_path IS NULL
         ORDER BY remote_uid DESC`,
      )
      .all('folder', 1) as Array<{ detail: string }>;
    expect(plan.map((step) => step.detail).join('\n')).toContain('USING INDEX messages_missing_body');
  });

  it('is created in WAL mode at the latest schema, with NORMAL sync by default', () => {
    const index = openIndexDatabase(join(profile(), 'index.sqlite'));
    cleanups.push(() => index.close());
    expect(index.createdFresh).toBe(true);
    expect(index.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(index.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(index.db.pragma('synchronous', { simple: true })).toBe(SYNCHRONOUS_NORMAL);
    // Search entries replaced when bodies arrive do not make FTS5 re-merge a segment again and again.
    expect(index.db.prepare("SELECT v FROM messages_fts_config WHERE k = 'deletemerge'").get()).toEqual({
      v: FTS_DELETE_MERGE_PERCENT,
    });
  });

  it('commits durably with synchronous=FULL, then returns to NORMAL, and refuses to nest', () => {
    const index = openIndexDatabase(join(profile(), 'index.sqlite'));
    cleanups.push(() => index.close());
    const during = index.commitDurably(() => {
      index.db.prepare("INSERT INTO settings (key, value) VALUES ('k', '1')").run();
      return index.db.pragma('synchronous', { simple: true });
    });
    expect(during).toBe(SYNCHRONOUS_FULL);
    expect(index.db.pragma('synchronous', { simple: true })).toBe(SYNCHRONOUS_NORMAL);
    expect(() => index.transaction(() => index.commitDurably(() => 1))).toThrow(/nested/);
    expect(index.db.prepare("SELECT value FROM settings WHERE key = 'k'").get()).toEqual({ value: '1' });
  });

  it('refuses an index written by a newer version instead of damaging it', () => {
    const file = join(profile(), 'index.sqlite');
    const newer = new Database(file);
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    expect(() => openIndexDatabase(file)).toThrow(/newer version of Whereabouts/);
  });

  it('moves a damaged file aside and starts a fresh index (to be rebuilt from the Maildir)', () => {
    const directory = profile();
    const file = join(directory, 'index.sqlite');
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const index = openIndexDatabase(file);
    cleanups.push(() => index.close());
    expect(index.createdFresh).toBe(true);
    expect(index.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(readdirSync(directory).some((name) => name.startsWith('index.sqlite.damaged-'))).toBe(true);
  });
});
