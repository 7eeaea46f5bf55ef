/**
 * Bodies for offline reading in batches (body-download.ts) against the real test Dovecot: many
 * small messages several per UID FETCH, some large ones streamed one by one, all stored byte for
 * byte as Dovecot holds them (SEMANTICS: "Bytes are kept exactly as the server sent them"),
 * without setting \Seen, with progress per batch, and nothing downloaded twice.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { SyncProgress } from '../../../shared/model';
import type { ImapConnectOptions, ImapSession } from '../../protocols/imap/imap-mailbox';
import { connectImap } from '../../protocols/imap/connect-imap';
import { downloadFolderBodies } from './body-download';
import {
  CRLF,
  folderByPath,
  openProfile,
  removeDirectory,
  sha256,
  testMessage,
  withOtherClient,
  type TestProfile,
} from './engine-test-support';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Small enough for a test, large enough that many bodies go in several FETCHes. */
const SMALL_BODY_MAX_BYTES = 64 * 1024;
const BODY_BATCH_BYTES = 48 * 1024;

/** Bodies that are easy to get wrong: 8-bit, lone dots, IMAP lookalikes, no final CRLF, sizes. */
function smallMessage(index: number): Buffer {
  const { raw } = testMessage(`small ${index}`, `Body ${index}: caf\xe9 \xff\xfe${CRLF}.${CRLF}..x${CRLF}A1 OK{3}`);
  const filler = Buffer.from(`${'line '.repeat(12)}${index}${CRLF}`.repeat(index % 40), 'latin1');
  const parts = [raw, filler];
  if (index % 7 === 0) parts.push(Buffer.from('last line without CRLF', 'latin1'));
  return Buffer.concat(parts);
}

function largeMessage(index: number, bytes: number): Buffer {
  const { raw } = testMessage(`large ${index}`, 'see below');
  const line = `${index} ${'0123456789abcdef'.repeat(6)}${CRLF}`;
  return Buffer.concat([raw, Buffer.from(line.repeat(Math.ceil(bytes / line.length)), 'latin1')]);
}

async function profileFor(...args: Parameters<typeof openProfile>): Promise<TestProfile> {
  const profile = await openProfile(...args);
  cleanups.push(() => removeDirectory(profile.directory));
  cleanups.push(() => profile.close());
  return profile;
}

describe('IMAP bodies for offline reading, batched', () => {
  it('many small bodies per FETCH and some large ones streamed: byte-exact with Dovecot, \\Seen untouched', async () => {
    const user = await createTestUser(info);
    const messages: Buffer[] = [];
    for (let index = 1; index <= 150; index += 1) {
      // A large one every 40 messages, so large and small alternate in UID order.
      messages.push(index % 40 === 0 ? largeMessage(index, 100 * 1024 + index) : smallMessage(index));
    }
    // Just under the limit still goes in a batch; just over it is streamed.
    messages.push(largeMessage(151, SMALL_BODY_MAX_BYTES - 4_000), largeMessage(152, SMALL_BODY_MAX_BYTES + 4_000));
    await putMessages(info, user, messages);
    const server = await readServerMessages(info, user, 'INBOX');
    expect(server).toHaveLength(messages.length);
    const large = server.filter((bytes) => bytes.length > SMALL_BODY_MAX_BYTES).length;
    expect(large).toBe(4);

    const batches: number[][] = [];
    const connect = async (options: ImapConnectOptions): Promise<ImapSession> => {
      const session = await connectImap(options);
      const fetchRawBatch = session.fetchRawBatch.bind(session);
      session.fetchRawBatch = async (path, uids, onMessage) => {
        batches.push([...uids]);
        return fetchRawBatch(path, uids, onMessage);
      };
      return session;
    };
    const profile = await profileFor(info, user, {
      engine: { connect, smallBodyMaxBytes: SMALL_BODY_MAX_BYTES, bodyBatchBytes: BODY_BATCH_BYTES },
    });
    await profile.engine.syncOnce();

    const inbox = folderByPath(profile.store, profile.account.id, 'INBOX');
    const records = profile.store.listFolderMessages(inbox.id);
    expect(records).toHaveLength(server.length);
    for (const record of records) {
      const uid = record.imap?.uid ?? 0;
      const expected = server[uid - 1];
      expect(record.residency, `UID ${uid}`).toBe('both');
      expect(record.localPath).not.toBeNull();
      const stored = readFileSync(record.localPath ?? '');
      expect(stored.equals(expected), `UID ${uid} is byte-exact`).toBe(true);
      expect(record.sha256).toBe(sha256(expected));
      expect(record.size).toBe(expected.length);
      expect(record.flags).toEqual([]);
    }
    const folderDir = join(profile.directory, 'mail', profile.account.id, inbox.id);
    expect(readdirSync(join(folderDir, 'cur'))).toHaveLength(server.length);
    expect(existsSync(join(folderDir, 'tmp')) ? readdirSync(join(folderDir, 'tmp')) : []).toEqual([]);

    // Small bodies came several per FETCH, each FETCH within the byte budget, each UID once.
    const smallCount = server.length - large;
    const sizeOf = (uid: number): number => server[uid - 1].length;
    expect(batches.flat().sort((left, right) => left - right)).toEqual(
      server.flatMap((bytes, index) => (bytes.length <= SMALL_BODY_MAX_BYTES ? [index + 1] : [])),
    );
    expect(batches.length).toBeLessThan(smallCount / 4);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, uid) => sum + sizeOf(uid), 0);
      if (batch.length > 1) expect(bytes).toBeLessThanOrEqual(BODY_BATCH_BYTES);
    }
    // Every body once over the network: the batched ones and the streamed large ones.
    expect(profile.downloads()).toBe(server.length);

    // Progress per batch, up to every message and every byte.
    const progress = profile.events
      .filter((event) => event.name === 'syncProgress')
      .map((event) => event.payload as SyncProgress)
      .filter((event) => event.phase === 'bodies');
    expect(progress.length).toBe(batches.length + large);
    expect(progress.every((event) => event.total === server.length && event.folder === 'INBOX')).toBe(true);
    const done = progress.map((event) => event.done);
    expect(done).toEqual([...done].sort((left, right) => left - right));
    expect(progress.at(-1)).toMatchObject({
      done: server.length,
      bytes: server.reduce((sum, bytes) => sum + bytes.length, 0),
    });

    // BODY.PEEK[]: reading them did not mark them read on the server.
    const seen = await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('INBOX', { readOnly: true });
      const flagged: number[] = [];
      for await (const message of client.fetch('1:*', { flags: true, uid: true })) {
        if (message.flags?.has('\\Seen')) flagged.push(message.uid);
      }
      return flagged;
    });
    expect(seen).toEqual([]);

    // A second pass has nothing to download.
    await profile.engine.syncOnce();
    expect(profile.downloads()).toBe(server.length);
  });

  it('a message deleted on the server before its batch: the others are stored, its header-only row goes', async () => {
    const user = await createTestUser(info);
    await putMessages(
      info,
      user,
      [1, 2, 3, 4, 5, 6].map((index) => smallMessage(index)),
      'Later',
    );
    // Headers only: a folder that is not kept for offline reading.
    const profile = await profileFor(info, user);
    await profile.engine.syncOnce();
    const folder = folderByPath(profile.store, profile.account.id, 'Later');
    expect(folder.keepOffline).toBe(false);
    expect(profile.downloads()).toBe(0);
    await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('Later');
      await client.messageDelete('2,5', { uid: true });
    });
    const missing = profile.store.listMissingBodies(folder.id, folder.uidvalidity ?? 0);
    expect(missing.map((body) => body.uid)).toEqual([6, 5, 4, 3, 2, 1]);
    const session = await connectImap({
      endpoint: profile.account.imap ?? { host: '', port: 0, security: 'tls' },
      username: user.username,
      password: user.password,
    });
    cleanups.push(() => session.close());
    const progress: Array<[number, number]> = [];
    const result = await downloadFolderBodies({
      session,
      store: profile.store,
      folder,
      missing,
      batchMaxBytes: 1024 * 1024,
      downloadLarge: () => Promise.reject(new Error('no large body here')),
      onProgress: (done, bytes) => progress.push([done, bytes]),
      stopped: () => false,
    });
    expect(result).toMatchObject({ stored: 4, removed: 2, failures: [] });
    const records = profile.store.listFolderMessages(folder.id);
    expect(records.map((record) => record.imap?.uid).sort()).toEqual([1, 3, 4, 6]);
    const server = await readServerMessages(info, user, 'Later');
    expect(records.map((record) => record.sha256).sort()).toEqual(server.map(sha256).sort());
    expect(records.every((record) => record.residency === 'both')).toBe(true);
    // One batch: all six asked for at once, progress once.
    expect(progress).toEqual([[6, server.reduce((sum, bytes) => sum + bytes.length, 0)]]);
  });
});
