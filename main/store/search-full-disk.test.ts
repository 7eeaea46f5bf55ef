/**
 * Searching on a full disk. Before a search, rows still waiting for their search entry (the headers
 * of a sync whose bodies have not come yet) get it (indexPendingSearch, a small write). On a full
 * disk that write fails; the search, and the opening of the store, which makes them too, must still
 * work from what is indexed, not fail with DISK_FULL, and the waiting rows must be found once there
 * is space again. The profile is a real 4 MB file
 * system (tmpfs, mounted here: the tests run as root, as the test mail servers need).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageStore } from './message-store';
import { buildMessage, openTestStore, testAccount } from './test-fixtures';

let mountPoint = '';
let mounted = false;
let store: MessageStore | null = null;

beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), 'wb-search-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  mounted = true;
});

afterAll(async () => {
  store?.close();
  if (mounted) execFileSync('umount', [mountPoint]);
  if (mountPoint) await rm(mountPoint, { recursive: true, force: true });
});

/** Writes zeros into `path` until the file system refuses: the disk is full. */
function fillDisk(path: string): void {
  const chunk = Buffer.alloc(64 * 1024);
  const descriptor = openSync(path, 'w');
  try {
    for (;;) {
      try {
        writeSync(descriptor, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw error;
      }
    }
    // Single pages too, so that not even a small write fits.
    const page = Buffer.alloc(512);
    for (;;) {
      try {
        writeSync(descriptor, page);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw error;
      }
    }
  } finally {
    closeSync(descriptor);
  }
}

describe('search on a full disk', () => {
  it('answers from what is indexed, and finds the waiting rows once there is space again', async () => {
    store = await openTestStore(join(mountPoint, 'profile'));
    await store.upsertAccount(testAccount('imap-account', 'imap'));
    const inbox = await store.upsertFolder({ accountId: 'imap-account', kind: 'server', path: 'INBOX', role: 'inbox' });
    const whole = await store.insertMessage({
      folderId: inbox.id,
      source: buildMessage({ subject: 'Kumquat harvest', body: 'The kumquat trees are ready.' }),
      imap: { uidvalidity: 1, uid: 1 },
    });
    // Headers listed in a sync of a folder kept offline: their search entry waits for the body.
    const [waiting] = store.insertHeaderOnlyBatch(
      [
        {
          folderId: inbox.id,
          imap: { uidvalidity: 1, uid: 2 },
          envelope: {
            messageId: '<waiting@example.org>',
            inReplyTo: null,
            references: [],
            subject: 'Kumquat jam recipe',
            from: { name: 'Cook', address: 'cook@example.org' },
            to: [{ name: '', address: 'me@example.org' }],
            cc: [],
            bcc: [],
            replyTo: [],
            date: '2024-01-02T10:00:00.000Z',
          },
          size: 2_000,
          flags: [],
        },
      ],
      { deferSearch: true },
    );

    const filler = join(mountPoint, 'filler');
    fillDisk(filler);
    expect(store.search('kumquat').map((summary) => summary.id)).toEqual([whole.record.id]);
    // The store opens on a full disk too (it makes the waiting entries when it opens, if it can).
    store.close();
    store = await openTestStore(join(mountPoint, 'profile'));
    expect(store.search('kumquat').map((summary) => summary.id)).toEqual([whole.record.id]);

    await rm(filler);
    expect(
      store
        .search('kumquat')
        .map((summary) => summary.id)
        .sort(),
    ).toEqual([whole.record.id, waiting.id].sort());
  });
});
