/**
 * The POP3 engine when the network or the server fails it: the connection cut at many byte
 * offsets of a multi-message download (a loopback proxy in front of the real Dovecot), and a QUIT
 * the server refuses (a scripted server: Dovecot will not do that on request). Nothing truncated
 * is ever stored, nothing is lost, and a later pass converges.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import { MailError } from '../../../shared/errors';
import { startReslicingProxy } from '../../protocols/testing/reslicing-proxy';
import { startScriptedServer, type ScriptedSession } from '../../protocols/testing/scripted-server';
import { createPop3Engine } from './pop3-engine';
import {
  ACCOUNT_ID,
  allMessages,
  asRetrieved,
  openTestProfile,
  pop3Account,
  recordingContext,
  sha256,
  storedHashes,
  testMessage,
  tlsEndpoint,
} from './pop3-test-support';

const server = inject('mailServer');
const CRLF = '\r\n';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('POP3 engine: faults', () => {
  it('a connection cut at 10 byte offsets of a download stores no truncated message and converges', async () => {
    const user = await createTestUser(server);
    const raws = Array.from({ length: 5 }, (_, index) =>
      testMessage(`cut ${index}`, `${`${index}`.repeat(998)}${CRLF}`.repeat(30)),
    );
    await putMessages(server, user, raws);
    const expected = (await readServerMessages(server, user)).map((raw) => sha256(asRetrieved(raw))).sort();
    const messageBytes = raws.reduce((sum, raw) => sum + raw.length, 0);
    // Offsets in the greeting, the login, LIST/UIDL and across every message being retrieved.
    const offsets = [
      40,
      200,
      700,
      ...[0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95].map((share) => Math.round(share * messageBytes)),
    ];
    const outcomes: string[] = [];
    for (const cutAfterServerBytes of offsets) {
      const proxy = await startReslicingProxy({
        targetHost: server.noTls.host,
        targetPort: server.noTls.pop3,
        slicing: { kind: 'none' },
        cutAfterServerBytes,
      });
      cleanups.push(() => proxy.close());
      const profile = await openTestProfile('wb-pop3-cut-');
      cleanups.push(() => profile.remove());
      const endpoint = { host: proxy.host, port: proxy.port, security: 'none', allowPlaintext: true } as const;
      const account = pop3Account(user, endpoint, { leaveOnServer: { kind: 'forever' } });
      const context = recordingContext(profile.store, account, user.password);
      const engine = createPop3Engine(context);
      cleanups.push(() => engine.close());

      const error = await engine.syncOnce().then(
        () => null,
        (failure: unknown) => failure,
      );
      expect(error, `cut after ${cutAfterServerBytes} bytes`).toBeInstanceOf(MailError);
      outcomes.push(
        `${cutAfterServerBytes}: ${(error as MailError).code}, ${allMessages(profile.store).length} stored`,
      );
      expect(context.connectivity.at(-1)?.state).toBe('offline');
      const stored = storedHashes(profile.store);
      for (const hash of stored) expect(expected, 'a stored message is whole').toContain(hash);
      expect(new Set(stored).size).toBe(stored.length);

      // The next check, with a good connection, completes the download without duplicates.
      context.current = { ...account, pop3: tlsEndpoint(server) };
      await engine.syncOnce();
      expect(storedHashes(profile.store).sort()).toEqual(expected);
    }
    console.info(`POP3 cuts (offset: error, messages stored before the next pass): ${outcomes.join('; ')}`);
    expect((await readServerMessages(server, user)).length).toBe(raws.length);
  });

  it('a QUIT the server refuses means nothing was deleted: nothing is recorded as deleted', async () => {
    const message = testMessage('refused quit');
    let quitAnswers = ['-ERR [SYS/TEMP] the maildrop could not be updated\r\n', '+OK bye\r\n'];
    const commands: string[] = [];
    const answer = (line: string, session: ScriptedSession): void => {
      const verb = line.split(' ')[0].toUpperCase();
      commands.push(verb === 'PASS' ? 'PASS ***' : line);
      const replies: Record<string, string> = {
        CAPA: '-ERR unknown command\r\n',
        USER: '+OK\r\n',
        PASS: '+OK logged in\r\n',
        LIST: `+OK\r\n1 ${message.length}\r\n.\r\n`,
        UIDL: '+OK\r\n1 scripted-uidl-1\r\n.\r\n',
        RETR: `+OK\r\n${message.toString('latin1')}.\r\n`,
        DELE: '+OK marked\r\n',
      };
      if (verb === 'QUIT') {
        session.send(quitAnswers[0]);
        quitAnswers = quitAnswers.slice(1);
        session.socket.end();
        return;
      }
      session.send(replies[verb] ?? '-ERR unexpected\r\n');
    };
    const scripted = await startScriptedServer({
      onConnect: (session) => session.send('+OK ready\r\n'),
      onLine: answer,
    });
    cleanups.push(() => scripted.close());
    const profile = await openTestProfile('wb-pop3-quit-');
    cleanups.push(() => profile.remove());
    const user = { username: 'someone', password: 'secret', email: 'someone@localhost', maildir: '' };
    const endpoint = { host: scripted.host, port: scripted.port, security: 'none', allowPlaintext: true } as const;
    const context = recordingContext(profile.store, pop3Account(user, endpoint), user.password);
    const engine = createPop3Engine(context);
    cleanups.push(() => engine.close());
    const { store } = profile;
    await store.upsertAccount(context.current);
    store.enqueueAction({ accountId: ACCOUNT_ID, kind: 'pop3-delete', payload: { uidl: 'scripted-uidl-1' } });

    await expect(engine.syncOnce()).rejects.toMatchObject({ code: 'SERVER_ERROR' });
    expect(commands).toContain('DELE 1');
    const [record] = allMessages(store);
    expect(record.sha256).toBe(sha256(message));
    expect(record.residency).toBe('both');
    expect(store.popUidlState(ACCOUNT_ID)).toEqual([
      expect.objectContaining({ uidl: 'scripted-uidl-1', deletedOnServerAt: null }),
    ]);
    expect(store.listActions(ACCOUNT_ID)).toEqual([expect.objectContaining({ state: 'pending', attempts: 1 })]);

    // The next session's QUIT succeeds: now the deletion is real and recorded; nothing was downloaded twice.
    await engine.syncOnce();
    expect(allMessages(store).map((entry) => entry.residency)).toEqual(['local']);
    expect(store.popUidlState(ACCOUNT_ID)[0].deletedOnServerAt).not.toBeNull();
    expect(store.listActions(ACCOUNT_ID)).toEqual([]);
    expect(commands.filter((command) => command.startsWith('RETR'))).toEqual(['RETR 1']);
  });
});
