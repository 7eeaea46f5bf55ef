/**
 * MessageStore.insertMessageBatch (the POP3 download's batch path, maildir-batch.ts): byte-exact
 * files, one row each, known UIDLs never stored twice, and all or nothing when the commit fails.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageStore } from './message-store';
import { buildMessage, openTestStore, temporaryProfile, testAccount } from './test-fixtures';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function popStore(): Promise<{ store: MessageStore; directory: string; inboxId: string }> {
  const profile = temporaryProfile('wb-batch-');
  const store = await openTestStore(profile.directory);
  cleanups.push(() => {
    store.close();
    profile.remove();
  });
  await store.upsertAccount(testAccount('pop', 'pop3'));
  const inbox = await store.upsertFolder({ accountId: 'pop', kind: 'local', path: 'INBOX', role: 'inbox' });
  return { store, directory: profile.directory, inboxId: inbox.id };
}

function filesIn(directory: string, inboxId: string, sub: 'cur' | 'tmp'): string[] {
  return readdirSync(join(directory, 'mail', 'pop', inboxId, sub));
}

describe('insertMessageBatch', () => {
  it('stores every message byte-exact with its row and UIDL; a known or repeated UIDL is stored once', async () => {
    const { store, directory, inboxId } = await popStore();
    const sources = Array.from({ length: 40 }, (_, index) =>
      buildMessage({ subject: `Batch ${index}`, body: `word${index} ${'filler '.repeat(index * 50)}` }),
    );
    const first = await store.insertMessageBatch(
      inboxId,
      sources.map((source, index) => ({ source, popUidl: `uidl-${index}`, onServer: true })),
    );
    expect(first.every((result) => result.created)).toBe(true);
    for (const [index, { record }] of first.entries()) {
      expect(record).toMatchObject({ subject: `Batch ${index}`, popUidl: `uidl-${index}`, residency: 'both' });
      expect(record.sha256).toBe(sha256(sources[index]));
      expect((await store.readRaw(record.id)).equals(sources[index])).toBe(true);
    }
    expect(store.popUidlState('pop').map((state) => state.uidl)).toHaveLength(40);
    expect(store.search('word17').map((summary) => summary.id)).toEqual([first[17].record.id]);
    expect(filesIn(directory, inboxId, 'cur')).toHaveLength(40);

    // Again with one new message, one already stored and the new one repeated: one file more.
    const extra = buildMessage({ subject: 'Late' });
    const second = await store.insertMessageBatch(inboxId, [
      { source: sources[3], popUidl: 'uidl-3' },
      { source: extra, popUidl: 'uidl-late' },
      { source: extra, popUidl: 'uidl-late' },
    ]);
    expect(second.map((result) => result.created)).toEqual([false, true, false]);
    expect(second[0].record.id).toBe(first[3].record.id);
    expect(second[2].record.id).toBe(second[1].record.id);
    expect(filesIn(directory, inboxId, 'cur')).toHaveLength(41);
    expect(filesIn(directory, inboxId, 'tmp')).toEqual([]);
  });

  it('returns each new message as the index then holds it, with its conversation, local and unread state', async () => {
    const { store, inboxId } = await popStore();
    const older = await store.insertMessageBatch(inboxId, [
      { source: buildMessage({ subject: 'Plans', messageId: '<plans@example.org>' }), popUidl: 'p-1' },
    ]);
    const sources = [
      buildMessage({ subject: 'Re: Plans', messageId: '<re1@example.org>', inReplyTo: '<plans@example.org>' }),
      buildMessage({ subject: 'Re: Re: Plans', messageId: '<re2@example.org>', inReplyTo: '<re1@example.org>' }),
      buildMessage({ subject: 'Alone', html: '<p>Only <b>HTML</b></p>' }),
    ];
    const results = await store.insertMessageBatch(inboxId, [
      { source: sources[0], popUidl: 'p-2', flags: ['\\Seen'] },
      { source: sources[1], popUidl: 'p-3' },
      { source: sources[2], onServer: false },
    ]);
    for (const { record } of results) expect(record).toEqual(store.getMessageRecord(record.id));
    expect(results[0].record.threadId).toBe(older[0].record.threadId);
    expect(results[1].record.threadId).toBe(older[0].record.threadId);
    expect(results[2].record.threadId).not.toBe(older[0].record.threadId);
    expect(results.map(({ record }) => [record.residency, record.flags.includes('\\Seen')])).toEqual([
      ['both', true],
      ['both', false],
      ['local', false],
    ]);
  });

  it('leaves no file behind when the index commit fails', async () => {
    const { store, directory, inboxId } = await popStore();
    const sources = Array.from({ length: 12 }, (_, index) => buildMessage({ subject: `Lost ${index}` }));
    const storing = store.insertMessageBatch(
      inboxId,
      sources.map((source, index) => ({ source, popUidl: `gone-${index}` })),
    );
    // The files are being written; the index goes away before the commit.
    store.close();
    await expect(storing).rejects.toThrow();
    expect(filesIn(directory, inboxId, 'cur')).toEqual([]);
    expect(filesIn(directory, inboxId, 'tmp')).toEqual([]);
  });
});
