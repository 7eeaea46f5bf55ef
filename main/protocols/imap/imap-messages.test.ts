/**
 * Messages on the real server: header batches, change tracking against a second client
 * (CONDSTORE/QRESYNC and the fallbacks), IDLE, APPEND, flags, and MOVE — including the fallbacks
 * for servers without MOVE or UIDPLUS, where another client's \Deleted message must survive.
 */
import { describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessage, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import type { HeaderBatch, MailboxChange } from './imap-mailbox';
import { eventually, implicitTls, open, simpleMessage, starttls, withSession } from './imap-test-support';

const info = inject('mailServer');

/** A user whose INBOX holds `count` messages, UIDs 1…count, subjects "message 1"…; returns their bytes too. */
async function userWithMessages(count: number): Promise<{ user: TestUser; messages: Buffer[] }> {
  const user = await createTestUser(info);
  const messages: Buffer[] = [];
  for (let index = 1; index <= count; index += 1) {
    const message = simpleMessage(`message ${index}`, `Body ${index}.`, `References: <ref${index}@localhost>\r\n`);
    await putMessage(info, user, message, 'INBOX', { flags: index === 2 ? ['S', 'F'] : [] });
    messages.push(message);
  }
  return { user, messages };
}

async function flagsOf(user: TestUser, path: string): Promise<Map<number, string[]>> {
  return withSession(user, implicitTls(info), async (session) => {
    const flags = new Map<number, string[]>();
    await session.fetchHeaders(path, { from: 1 }, { batchSize: 100 }, (batch) => {
      for (const message of batch.messages) flags.set(message.uid, message.flags);
    });
    return flags;
  });
}

describe('fetchHeaders', () => {
  it('delivers envelope, flags, size, internal date and raw headers in batches', async () => {
    const { user, messages } = await userWithMessages(5);
    await withSession(user, implicitTls(info), async (session) => {
      const batches: HeaderBatch[] = [];
      const summary = await session.fetchHeaders('INBOX', { from: 1 }, { batchSize: 2 }, async (batch) => {
        batches.push(batch);
        // Another command from inside the callback must not deadlock (batches are collected first).
        await session.status('INBOX');
      });
      expect(batches.map((batch) => batch.messages.length)).toEqual([2, 2, 1]);
      expect(batches.map((batch) => batch.done)).toEqual([2, 4, 5]);
      expect(summary).toMatchObject({ fetched: 5, missing: [] });
      const all = batches.flatMap((batch) => batch.messages);
      expect(all.map((message) => message.uid)).toEqual([1, 2, 3, 4, 5]);
      const second = all[1];
      expect(second.envelope.subject).toBe('message 2');
      expect(second.envelope.from).toEqual([{ name: 'Alice Example', address: 'alice@localhost' }]);
      expect(second.envelope.messageId).toMatch(/@test\.localhost>$/);
      expect(second.envelope.date?.toISOString()).toBe('2024-01-02T10:00:00.000Z');
      expect(second.flags.sort()).toEqual(['\\Flagged', '\\Seen']);
      expect(all[0].flags).toEqual([]);
      expect(second.size).toBe(messages[1].length);
      expect(second.internalDate).toBeInstanceOf(Date);
      expect(typeof second.modseq).toBe('bigint');
      expect(second.headers.toString('latin1')).toMatch(/^References: <ref2@localhost>\r\n/m);
      expect(second.headers.toString('latin1')).toMatch(/^Message-ID: /m);
    });
  });

  it('lists only UIDs inside the range ("N:*" never returns the newest message below N)', async () => {
    const { user } = await userWithMessages(3);
    await withSession(user, implicitTls(info), async (session) => {
      const seen: number[] = [];
      const summary = await session.fetchHeaders('INBOX', { from: 4 }, { batchSize: 10 }, (batch) => {
        seen.push(...batch.messages.map((message) => message.uid));
      });
      expect(seen).toEqual([]);
      expect(summary.fetched).toBe(0);
      await session.fetchHeaders('INBOX', { uids: [3, 1, 99] }, { batchSize: 10 }, (batch) => {
        seen.push(...batch.messages.map((message) => message.uid));
      });
      expect(seen).toEqual([1, 3]);
    });
  });
});

describe('fetchChanges', () => {
  for (const variant of [
    { name: 'QRESYNC', ignore: [], method: 'qresync' },
    { name: 'CONDSTORE only', ignore: ['QRESYNC'], method: 'condstore' },
    { name: 'neither (full comparison)', ignore: ['QRESYNC', 'CONDSTORE'], method: 'full' },
  ] as const) {
    it(`returns exactly the flag change and the expunge another client made (${variant.name})`, async () => {
      const { user } = await userWithMessages(4);
      const watcher = await open(user, implicitTls(info), { ignoreCapabilities: variant.ignore });
      try {
        const before = await watcher.select('INBOX', { readOnly: true });
        await withSession(user, starttls(info), async (other) => {
          await other.addFlags('INBOX', [1], ['\\Answered']);
          await other.expungeUids('INBOX', [3]);
        });
        const changes = await watcher.fetchChanges('INBOX', {
          uidValidity: before.uidValidity,
          modseq: before.highestModseq,
          knownUids: [1, 2, 3, 4],
        });
        expect(changes.method).toBe(variant.method);
        expect(changes.uidValidityChanged).toBe(false);
        expect(changes.vanished).toEqual([3]);
        const changed =
          variant.method === 'full' ? changes.changed.filter((change) => change.uid === 1) : changes.changed;
        expect(changed.map((change) => change.uid)).toEqual([1]);
        expect(changed[0].flags).toEqual(['\\Answered']);
        expect(changes.status.exists).toBe(3);
        if (variant.method === 'qresync') {
          expect(changes.status.highestModseq).toBeGreaterThan(before.highestModseq ?? 0n);
          // Nothing changed since: nothing reported.
          const again = await watcher.fetchChanges('INBOX', {
            uidValidity: before.uidValidity,
            modseq: changes.status.highestModseq,
            knownUids: [1, 2, 4],
          });
          expect(again).toMatchObject({ changed: [], vanished: [] });
        }
      } finally {
        await watcher.close();
      }
    });
  }

  it('says so when UIDVALIDITY changed', async () => {
    const { user } = await userWithMessages(1);
    await withSession(user, implicitTls(info), async (session) => {
      const status = await session.select('INBOX');
      const changes = await session.fetchChanges('INBOX', {
        uidValidity: status.uidValidity + 1,
        modseq: status.highestModseq,
        knownUids: [1],
      });
      expect(changes).toMatchObject({ uidValidityChanged: true, changed: [], vanished: [] });
    });
  });
});

describe('IDLE', () => {
  it('sees mail another client adds within seconds, pauses for other commands, and stops on abort', async () => {
    const { user } = await userWithMessages(1);
    const watcher = await open(user, implicitTls(info));
    const changes: MailboxChange[] = [];
    const controller = new AbortController();
    try {
      const watching = watcher.idle('INBOX', (change) => changes.push(change), controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await withSession(user, starttls(info), async (other) => {
        const startedAt = Date.now();
        await other.append('INBOX', simpleMessage('pushed'));
        await eventually(
          () => changes.some((change) => change.kind === 'exists' && change.count === 2),
          5_000,
          'EXISTS',
        );
        console.log(`IDLE: new message noticed after ${Date.now() - startedAt} ms`);

        // A command on the idling session runs (IDLE pauses for it), and IDLE resumes afterwards.
        expect((await watcher.status('INBOX')).messages).toBe(2);
        await other.append('INBOX', simpleMessage('pushed again'));
        await eventually(
          () => changes.some((change) => change.kind === 'exists' && change.count === 3),
          5_000,
          'EXISTS',
        );
        await other.expungeUids('INBOX', [1]);
        await eventually(
          () => changes.some((change) => change.kind === 'expunge' && change.uid === 1),
          5_000,
          'VANISHED',
        );
      });
      controller.abort();
      await watching;
      expect(watcher.closed).toBe(false);
    } finally {
      controller.abort();
      await watcher.close();
    }
  });
});

describe('APPEND and flags', () => {
  it('returns the APPENDUID and stores the bytes, flags and date as given', async () => {
    const user = await createTestUser(info);
    await withSession(user, implicitTls(info), async (session) => {
      const status = await session.select('Drafts');
      const draft = simpleMessage('draft', 'caf\xe9 8-bit body');
      const internalDate = new Date('2023-05-06T07:08:09.000Z');
      const result = await session.append('Drafts', draft, { flags: ['\\Draft', '\\Seen', '$Label1'], internalDate });
      expect(result).toEqual({ uid: status.uidNext, uidValidity: status.uidValidity });
      const [stored] = await readServerMessages(info, user, 'Drafts');
      expect(stored.equals(draft)).toBe(true);
      await session.fetchHeaders('Drafts', { uids: [result.uid ?? 0] }, { batchSize: 10 }, (batch) => {
        expect(batch.messages[0].flags.sort()).toEqual(['$Label1', '\\Draft', '\\Seen']);
        expect(batch.messages[0].internalDate?.toISOString()).toBe(internalDate.toISOString());
      });
    });
  });

  it('sets, adds and removes flags, and refuses a malformed flag', async () => {
    const { user } = await userWithMessages(2);
    await withSession(user, implicitTls(info), async (session) => {
      await session.addFlags('INBOX', [1], ['\\Seen', 'Important']);
      await session.removeFlags('INBOX', [2], ['\\Flagged']);
      await session.setFlags('INBOX', [2], ['\\Answered']);
      await expect(session.addFlags('INBOX', [1], ['bad flag'])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    });
    const flags = await flagsOf(user, 'INBOX');
    expect(flags.get(1)?.sort()).toEqual(['Important', '\\Seen']);
    expect(flags.get(2)).toEqual(['\\Answered']);
  });

  it('expunges exactly the given UIDs (UID EXPUNGE), and refuses without UIDPLUS', async () => {
    const { user } = await userWithMessages(3);
    await withSession(user, starttls(info), async (other) => {
      await other.addFlags('INBOX', [2], ['\\Deleted']);
    });
    await withSession(user, implicitTls(info), async (session) => {
      await session.expungeUids('INBOX', [1]);
    });
    expect([...(await flagsOf(user, 'INBOX')).keys()]).toEqual([2, 3]);
    await withSession(
      user,
      implicitTls(info),
      async (session) => {
        await expect(session.expungeUids('INBOX', [3])).rejects.toMatchObject({ code: 'SERVER_ERROR' });
      },
      { ignoreCapabilities: ['UIDPLUS'] },
    );
    expect([...(await flagsOf(user, 'INBOX')).keys()]).toEqual([2, 3]);
  });
});

describe('MOVE', () => {
  for (const variant of [
    { name: 'MOVE', ignore: [], method: 'move', sourceRemoved: true },
    { name: 'no MOVE: COPY + UID EXPUNGE', ignore: ['MOVE'], method: 'copy-expunge', sourceRemoved: true },
    {
      name: 'no MOVE, no UIDPLUS: COPY + \\Deleted only',
      ignore: ['MOVE', 'UIDPLUS'],
      method: 'copy-flag',
      sourceRemoved: false,
    },
  ] as const) {
    it(`moves with ${variant.name}, and another client’s \\Deleted message survives`, async () => {
      const { user, messages } = await userWithMessages(4);
      // Another client marked message 4 deleted but has not expunged it (yet): it is not ours to remove.
      await withSession(user, starttls(info), async (other) => {
        await other.addFlags('INBOX', [4], ['\\Deleted']);
      });
      await withSession(
        user,
        implicitTls(info),
        async (session) => {
          expect(session.capabilities.has('MOVE')).toBe(variant.method === 'move');
          await session.createFolder('Archive');
          const result = await session.move('INBOX', [1, 2], 'Archive');
          expect(result.method).toBe(variant.method);
          expect(result.sourceRemoved).toBe(variant.sourceRemoved);
          expect(result.uidMap && [...result.uidMap.entries()]).toEqual([
            [1, 1],
            [2, 2],
          ]);
        },
        { ignoreCapabilities: variant.ignore },
      );
      const archived = await readServerMessages(info, user, 'Archive');
      expect(archived.map((message) => message.toString('latin1'))).toEqual(
        messages.slice(0, 2).map((message) => message.toString('latin1')),
      );
      const inbox = await flagsOf(user, 'INBOX');
      expect(inbox.has(4)).toBe(true);
      expect(inbox.get(4)).toContain('\\Deleted');
      expect(inbox.get(3)).toEqual([]);
      if (variant.sourceRemoved) {
        expect([...inbox.keys()]).toEqual([3, 4]);
      } else {
        expect([...inbox.keys()]).toEqual([1, 2, 3, 4]);
        expect(inbox.get(1)).toContain('\\Deleted');
        expect(inbox.get(2)).toContain('\\Deleted');
      }
    });
  }

  it('leaves the source untouched and says why when the destination does not exist', async () => {
    const { user } = await userWithMessages(2);
    await withSession(
      user,
      implicitTls(info),
      async (session) => {
        await expect(session.move('INBOX', [1], 'Nowhere')).rejects.toMatchObject({
          code: 'NOT_FOUND',
          details: { serverText: expect.stringMatching(/doesn't exist/) },
        });
      },
      { ignoreCapabilities: ['MOVE'] },
    );
    const inbox = await flagsOf(user, 'INBOX');
    expect([...inbox.keys()]).toEqual([1, 2]);
    expect(inbox.get(1)).toEqual([]);
  });

  it('copies with the COPYUID mapping', async () => {
    const { user } = await userWithMessages(2);
    await withSession(user, implicitTls(info), async (session) => {
      const result = await session.copy('INBOX', [2], 'Trash');
      expect(result.uidMap && [...result.uidMap.entries()]).toEqual([[2, 1]]);
      expect(result.destinationUidValidity).toBe((await session.status('Trash')).uidValidity);
    });
    expect([...(await flagsOf(user, 'INBOX')).keys()]).toEqual([1, 2]);
  });
});
