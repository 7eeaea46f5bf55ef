import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatMaildirName, parseMaildirName } from './maildir-name';
import type { MessageStore } from './message-store';
import { buildMessage, crashTestMessages, openTestStore, temporaryProfile, testAccount } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

const CHILD = join(import.meta.dirname, 'crash-child.ts');
const { first, second } = crashTestMessages();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const KNOWN_CONTENT = new Set([sha256(first), sha256(second)]);

function runChild(profileDir: string, crashAt: string): void {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, WB_PROFILE: profileDir, WB_CRASH_AT: crashAt },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.signal, `the child should have been killed at ${crashAt}`).toBe('SIGKILL');
}

function inboxDir(profileDir: string): string {
  const accountDir = join(profileDir, 'mail', 'pop');
  const folder = readdirSync(accountDir).find((name) => !name.startsWith('.'));
  if (!folder) throw new Error('no folder was created');
  return join(accountDir, folder);
}

/** What must hold after any crash, once the store has been opened again. */
function expectConsistent(store: MessageStore, folderDir: string): void {
  expect(readdirSync(join(folderDir, 'tmp'))).toEqual([]);
  for (const fileName of readdirSync(join(folderDir, 'cur'))) {
    const bytes = readFileSync(join(folderDir, 'cur', fileName));
    expect(parseMaildirName(fileName)?.size).toBe(bytes.length);
    expect(KNOWN_CONTENT.has(sha256(bytes)), `${fileName} is a complete message`).toBe(true);
  }
  const folderId = basename(folderDir);
  const items = store.listMessages({ folderId, offset: 0, limit: 100 }).items;
  for (const item of items) {
    const record = store.getMessageRecord(item.id);
    expect(record?.localPath).not.toBeNull();
    expect(existsSync(record?.localPath ?? ''), `row ${item.id} points at a file`).toBe(true);
    expect(sha256(readFileSync(record?.localPath ?? ''))).toBe(record?.sha256);
  }
  expect(items.map((item) => item.subject)).toContain('stored before the crash');
}

describe('a process killed while storing a message', () => {
  const notStored = ['during-write', 'after-tmp-write', 'after-fsync'] as const;
  for (const step of notStored) {
    it(`${step}: leaves no visible file, sweeps tmp/ and does not know the UIDL (it downloads again)`, async () => {
      const profile = temporaryProfile('wb-crash-');
      cleanups.push(profile.remove);
      runChild(profile.directory, step);
      const folderDir = inboxDir(profile.directory);
      const orphans = readdirSync(join(folderDir, 'tmp'));
      expect(orphans).toHaveLength(1);
      const orphanSize = statSync(join(folderDir, 'tmp', orphans[0])).size;
      if (step === 'during-write') expect(orphanSize).toBeLessThan(second.length);
      else expect(orphanSize).toBe(second.length);
      expect(readdirSync(join(folderDir, 'cur'))).toHaveLength(1);

      const store = await openTestStore(profile.directory);
      cleanups.push(() => store.close());
      expect(store.lastReconcile).toMatchObject({ sweptTmpFiles: 1, indexedFiles: 0 });
      expectConsistent(store, folderDir);
      expect(store.listMessages({ folderId: basename(folderDir), offset: 0, limit: 10 }).total).toBe(1);
      expect(store.isPopUidlKnown('pop', 'uidl-second')).toBe(false);
      expect(store.isPopUidlKnown('pop', 'uidl-first')).toBe(true);
    });
  }

  it('after-rename: the complete file is indexed at the next open, with its UIDL (no second download)', async () => {
    const profile = temporaryProfile('wb-crash-');
    cleanups.push(profile.remove);
    runChild(profile.directory, 'after-rename');
    const folderDir = inboxDir(profile.directory);
    expect(readdirSync(join(folderDir, 'cur'))).toHaveLength(2);

    const store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.lastReconcile).toMatchObject({ sweptTmpFiles: 0, indexedFiles: 1 });
    expectConsistent(store, folderDir);
    const found = store.findByPopUidl('pop', 'uidl-second');
    expect(found).toMatchObject({ subject: 'stored during the crash', residency: 'both', size: second.length });
    expect(store.isPopUidlKnown('pop', 'uidl-second')).toBe(true);
  });

  it('after-index-commit: everything is there and nothing needs repair', async () => {
    const profile = temporaryProfile('wb-crash-');
    cleanups.push(profile.remove);
    runChild(profile.directory, 'after-index-commit');
    const folderDir = inboxDir(profile.directory);

    const store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.lastReconcile).toMatchObject({ sweptTmpFiles: 0, indexedFiles: 0, relinkedRows: 0, removedRows: 0 });
    expectConsistent(store, folderDir);
    expect(store.findByPopUidl('pop', 'uidl-second')?.sha256).toBe(sha256(second));
  });
});

describe('a process stopped between a rename or unlink and the index update', () => {
  it('re-points a row at its renamed file (flag change) and takes the flags from the name', async () => {
    const profile = temporaryProfile('wb-crash-');
    cleanups.push(profile.remove);
    let store = await openTestStore(profile.directory);
    await store.upsertAccount(testAccount('imap'));
    const inbox = await store.upsertFolder({ accountId: 'imap', kind: 'server', path: 'INBOX' });
    const { record } = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({}),
      imap: { uidvalidity: 2, uid: 8 },
    });
    store.close();
    const path = record.localPath ?? '';
    const name = parseMaildirName(basename(path));
    if (!name) throw new Error('unexpected name');
    renameSync(path, join(dirname(path), formatMaildirName({ ...name, flags: ['\\Seen', '\\Flagged'] })));

    store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.lastReconcile).toMatchObject({ relinkedRows: 1, indexedFiles: 0 });
    expect(store.getMessageRecord(record.id)).toMatchObject({ flags: ['\\Flagged', '\\Seen'], imap: { uid: 8 } });
    expect(store.folderCounts(inbox.id).unread).toBe(0);
    expect((await store.readRaw(record.id)).length).toBe(record.size);
  });

  it('drops the row of a deleted local-only file, and keeps a server message as header-only', async () => {
    const profile = temporaryProfile('wb-crash-');
    cleanups.push(profile.remove);
    let store = await openTestStore(profile.directory);
    await store.upsertAccount(testAccount('imap'));
    const inbox = await store.upsertFolder({ accountId: 'imap', kind: 'server', path: 'INBOX' });
    const local = await store.upsertFolder({ accountId: 'imap', kind: 'local', path: 'Local' });
    const onServer = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({}),
      imap: { uidvalidity: 2, uid: 9 },
    });
    const localOnly = await store.insertMessage({ folderId: local.id, source: buildMessage({}) });
    store.close();
    unlinkSync(onServer.record.localPath ?? '');
    unlinkSync(localOnly.record.localPath ?? '');

    store = await openTestStore(profile.directory);
    cleanups.push(() => store.close());
    expect(store.lastReconcile).toMatchObject({ headerOnlyRows: 1, removedRows: 1 });
    expect(store.getMessageRecord(localOnly.record.id)).toBeNull();
    expect(store.getMessageRecord(onServer.record.id)).toMatchObject({ residency: 'server', localPath: null });
  });
});
