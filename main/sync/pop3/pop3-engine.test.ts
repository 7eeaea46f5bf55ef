/**
 * The POP3 engine against the real test Dovecot, one scenario per SEMANTICS row: what a user of a
 * POP3 account sees after "check for new mail", with each leave-a-copy policy, when deleting,
 * with other server folders, with headers-only and size-limited downloads, and after a switch
 * back from IMAP.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import type { LeaveOnServer } from '../../../shared/model';
import { MILLISECONDS_PER_DAY } from './leave-policy';
import { createPop3Engine, type Pop3Engine, type Pop3EngineOptions } from './pop3-engine';
import type { Pop3Options } from './pop3-options';
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
  type RecordingContext,
  type TestProfile,
} from './pop3-test-support';

const server = inject('mailServer');
const CRLF = '\r\n';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Setup {
  user: TestUser;
  profile: TestProfile;
  context: RecordingContext;
  engine: Pop3Engine;
}

async function setUp(
  leaveOnServer: LeaveOnServer,
  settings: { pop3Options?: Partial<Pop3Options>; engine?: Pop3EngineOptions; user?: TestUser } = {},
): Promise<Setup> {
  const user = settings.user ?? (await createTestUser(server));
  const profile = await openTestProfile();
  cleanups.push(() => profile.remove());
  const account = pop3Account(user, tlsEndpoint(server), { leaveOnServer, pop3Options: settings.pop3Options });
  const context = recordingContext(profile.store, account, user.password);
  const engine = createPop3Engine(context, settings.engine);
  cleanups.push(() => engine.close());
  return { user, profile, context, engine };
}

async function serverHashes(user: TestUser, folder = 'INBOX'): Promise<string[]> {
  return (await readServerMessages(server, user, folder)).map((raw) => sha256(asRetrieved(raw))).sort();
}

function bySubject(setup: Setup, subject: string) {
  const found = allMessages(setup.profile.store).filter((record) => record.subject === subject);
  expect(found, `exactly one message "${subject}" here`).toHaveLength(1);
  return found[0];
}

describe('POP3 engine against Dovecot', () => {
  it('S1 check for new mail (POP3): new messages arrive whole and byte-exact, then leave the server', async () => {
    const eightBit = Buffer.concat([
      Buffer.from(`From: J\xf6rg <j@localhost>${CRLF}Subject: eight bit${CRLF}${CRLF}`, 'latin1'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x0d, 0x0a]),
      Buffer.from(`.${CRLF}..leading dots${CRLF}`, 'latin1'),
    ]);
    const noFinalCrlf = Buffer.from(`Subject: no final CRLF${CRLF}${CRLF}first line${CRLF}last line`, 'latin1');
    const longLines = Buffer.from(`Subject: long lines${CRLF}${CRLF}${`${'x'.repeat(5000)}${CRLF}`.repeat(60)}`);
    const setup = await setUp({ kind: 'off' });
    const { store } = setup.profile;
    await putMessages(server, setup.user, [testMessage('plain'), eightBit, noFinalCrlf, longLines]);
    const expected = await serverHashes(setup.user);

    await setup.engine.syncOnce();

    // Byte-exact: each stored file is what RETR delivered, including the CRLF RFC 1939 §3 adds.
    expect(storedHashes(store).sort()).toEqual(expected);
    expect(sha256(asRetrieved(noFinalCrlf))).toBe(bySubject(setup, 'no final CRLF').sha256);
    expect(await readServerMessages(server, setup.user)).toEqual([]);
    const records = allMessages(store);
    expect(records.map((record) => record.residency)).toEqual(['local', 'local', 'local', 'local']);
    const folders = store.listFolders(ACCOUNT_ID);
    expect(folders.map((folder) => `${folder.kind}:${folder.role}:${folder.path}`).sort()).toEqual([
      'local:drafts:Drafts',
      'local:inbox:INBOX',
      'local:sent:Sent',
      'local:trash:Trash',
    ]);
    const inbox = folders.find((folder) => folder.role === 'inbox');
    expect(new Set(records.map((record) => record.folderId))).toEqual(new Set([inbox?.id]));
    expect(setup.context.eventsNamed('newMail')).toEqual([
      expect.objectContaining({ accountId: ACCOUNT_ID, folderId: inbox?.id, count: 4 }),
    ]);
    const progress = setup.context.eventsNamed('syncProgress');
    expect(progress.at(-1)).toMatchObject({ phase: 'done', folder: 'INBOX', done: 4, total: 4 });
    // One event before the first message, then one per stored batch (these four fit in one).
    expect(progress.filter((event) => event.phase === 'download').map((event) => event.done)).toEqual([0, 4]);
    expect(setup.context.connectivity.at(-1)).toEqual({ state: 'online', error: null });

    // A second check finds nothing new; a third gets exactly the one message that arrived.
    await setup.engine.syncOnce();
    expect(allMessages(store)).toHaveLength(4);
    await putMessages(server, setup.user, [testMessage('later')]);
    await setup.engine.syncOnce();
    expect(allMessages(store)).toHaveLength(5);
    expect(bySubject(setup, 'later').residency).toBe('local');
    expect(setup.context.eventsNamed('newMail').map((event) => event.count)).toEqual([4, 1]);
    expect(await readServerMessages(server, setup.user)).toEqual([]);
  });

  it('S10 leave a copy (forever): stays on the server, nothing downloaded twice, also after deleting here', async () => {
    const setup = await setUp({ kind: 'forever' });
    const { store } = setup.profile;
    await putMessages(server, setup.user, [testMessage('one'), testMessage('two'), testMessage('three')]);
    const expected = await serverHashes(setup.user);
    for (let pass = 0; pass < 3; pass += 1) await setup.engine.syncOnce();
    expect(storedHashes(store).sort()).toEqual(expected);
    expect(allMessages(store).map((record) => record.residency)).toEqual(['both', 'both', 'both']);
    expect(await serverHashes(setup.user)).toEqual(expected);

    await store.deleteMessage(bySubject(setup, 'two').id);
    await setup.engine.syncOnce();
    await setup.engine.syncOnce();
    expect(
      allMessages(store)
        .map((record) => record.subject)
        .sort(),
    ).toEqual(['one', 'three']);
    expect(await serverHashes(setup.user)).toEqual(expected);
    expect(setup.context.eventsNamed('newMail').map((event) => event.count)).toEqual([3]);
  });

  it('S10 leave a copy (N days): the server copy is deleted once N days have passed since the download', async () => {
    let offsetMs = 0;
    const setup = await setUp({ kind: 'days', days: 3 }, { engine: { now: () => new Date(Date.now() + offsetMs) } });
    const { store } = setup.profile;
    await putMessages(server, setup.user, [testMessage('kept for days'), testMessage('also kept')]);
    const expected = await serverHashes(setup.user);
    await setup.engine.syncOnce();
    expect(allMessages(store).map((record) => record.residency)).toEqual(['both', 'both']);

    offsetMs = 3 * MILLISECONDS_PER_DAY - 60_000;
    await setup.engine.syncOnce();
    expect(await serverHashes(setup.user)).toEqual(expected);
    expect(allMessages(store).map((record) => record.residency)).toEqual(['both', 'both']);

    offsetMs = 3 * MILLISECONDS_PER_DAY + 60_000;
    await setup.engine.syncOnce();
    expect(await readServerMessages(server, setup.user)).toEqual([]);
    expect(allMessages(store).map((record) => record.residency)).toEqual(['local', 'local']);
    expect(storedHashes(store).sort()).toEqual(expected);
    expect(store.popUidlState(ACCOUNT_ID).every((record) => record.deletedOnServerAt !== null)).toBe(true);
  });

  it('S10 leave a copy (until deleted here): deleting here deletes the server copy on the next check', async () => {
    const setup = await setUp({ kind: 'until-deleted' });
    const { store } = setup.profile;
    await putMessages(server, setup.user, [testMessage('keep me'), testMessage('delete me')]);
    await setup.engine.syncOnce();
    await setup.engine.syncOnce();
    expect(allMessages(store)).toHaveLength(2);
    expect((await readServerMessages(server, setup.user)).length).toBe(2);

    // What the action layer does for a delete under this policy.
    const doomed = bySubject(setup, 'delete me');
    await store.deleteMessage(doomed.id, {
      enqueue: { accountId: ACCOUNT_ID, kind: 'pop3-delete', payload: { uidl: doomed.popUidl } },
    });
    await setup.engine.syncOnce();
    const left = await readServerMessages(server, setup.user);
    expect(left.map((raw) => sha256(asRetrieved(raw)))).toEqual([bySubject(setup, 'keep me').sha256]);
    expect(bySubject(setup, 'keep me').residency).toBe('both');
    expect(store.listActions(ACCOUNT_ID)).toEqual([]);
    expect(store.listActions(ACCOUNT_ID, ['done'])).toHaveLength(1);
  });

  it('S6 delete (POP3): deletes only the local copy; a copy left on the server can be deleted there individually', async () => {
    const setup = await setUp({ kind: 'forever' });
    const { store } = setup.profile;
    await putMessages(server, setup.user, [testMessage('read and gone here'), testMessage('remove from server')]);
    const expected = await serverHashes(setup.user);
    await setup.engine.syncOnce();

    await store.deleteMessage(bySubject(setup, 'read and gone here').id);
    await setup.engine.syncOnce();
    expect(allMessages(store).map((record) => record.subject)).toEqual(['remove from server']);
    expect(await serverHashes(setup.user)).toEqual(expected);

    // "Delete from server" on a message kept here: the local copy stays, now this computer's only one.
    const kept = bySubject(setup, 'remove from server');
    store.enqueueAction({ accountId: ACCOUNT_ID, kind: 'pop3-delete', payload: { uidl: kept.popUidl } });
    store.enqueueAction({ accountId: ACCOUNT_ID, kind: 'pop3-delete', payload: { uidl: 'no-such-uidl' } });
    await setup.engine.syncOnce();
    const serverNow = await serverHashes(setup.user);
    expect(serverNow).toHaveLength(1);
    expect(serverNow).not.toContain(kept.sha256);
    expect(bySubject(setup, 'remove from server').residency).toBe('local');
    expect(store.listActions(ACCOUNT_ID)).toEqual([]);
    // The message deleted here earlier was not downloaded again by any of these checks.
    expect(allMessages(store)).toHaveLength(1);
  });

  it('S12 other mailboxes (POP3): only INBOX is seen, even when other server folders hold mail', async () => {
    const setup = await setUp({ kind: 'off' });
    await putMessages(server, setup.user, [testMessage('archived one'), testMessage('archived two')], 'Archive');
    await putMessages(server, setup.user, [testMessage('in the inbox')]);
    await setup.engine.syncOnce();
    expect(allMessages(setup.profile.store).map((record) => record.subject)).toEqual(['in the inbox']);
    expect(setup.profile.store.listFolders(ACCOUNT_ID).every((folder) => folder.kind === 'local')).toBe(true);
    expect(await readServerMessages(server, setup.user, 'Archive')).toHaveLength(2);
  });

  it('headers only: TOP rows are server-only, never deleted by the policy, and fetchBodies downloads them', async () => {
    const setup = await setUp({ kind: 'off' }, { pop3Options: { headersOnly: true } });
    const { store } = setup.profile;
    const raws = [testMessage('headers first', 'body one'), testMessage('headers second', 'body two')];
    await putMessages(server, setup.user, raws);
    await setup.engine.syncOnce();
    await setup.engine.syncOnce();
    const first = bySubject(setup, 'headers first');
    expect(allMessages(store).map((record) => record.residency)).toEqual(['server', 'server']);
    expect(first.size).toBe(asRetrieved(raws[0]).length);
    expect(first.localPath).toBeNull();
    expect((await readServerMessages(server, setup.user)).length).toBe(2);

    await setup.engine.fetchBodies([first.id]);
    const opened = bySubject(setup, 'headers first');
    expect(opened.residency).toBe('both');
    expect(opened.sha256).toBe(sha256(asRetrieved(raws[0])));
    expect(storedHashes(store)).toEqual([sha256(asRetrieved(raws[0]))]);

    // Policy "off" now deletes the one whose bytes are here, and only that one.
    await setup.engine.syncOnce();
    expect(bySubject(setup, 'headers first').residency).toBe('local');
    expect(bySubject(setup, 'headers second').residency).toBe('server');
    expect(await serverHashes(setup.user)).toEqual([sha256(asRetrieved(raws[1]))]);
    expect(setup.context.eventsNamed('newMail').map((event) => event.count)).toEqual([2]);

    // Deleting a header-only message here deletes only what is here (S6): it is not listed again,
    // and the server keeps the only copy of its bytes, whatever the policy.
    await store.deleteMessage(bySubject(setup, 'headers second').id);
    await setup.engine.syncOnce();
    expect(allMessages(store).map((record) => record.subject)).toEqual(['headers first']);
    expect(await serverHashes(setup.user)).toEqual([sha256(asRetrieved(raws[1]))]);
  });

  it('size limit: larger messages get headers only until asked for, or until the limit allows them', async () => {
    const big = (subject: string) => testMessage(subject, `${'b'.repeat(1000)}${CRLF}`.repeat(50));
    const raws = [testMessage('small'), big('big one'), big('big two'), big('big three')];
    const setup = await setUp({ kind: 'forever' }, { pop3Options: { maxMessageKb: 10 } });
    const { store } = setup.profile;
    await putMessages(server, setup.user, raws);
    await setup.engine.syncOnce();
    expect(bySubject(setup, 'small').residency).toBe('both');
    for (const subject of ['big one', 'big two', 'big three'])
      expect(bySubject(setup, subject).residency).toBe('server');

    await setup.engine.fetchBodies([bySubject(setup, 'big one').id]);
    expect(bySubject(setup, 'big one').sha256).toBe(sha256(asRetrieved(raws[1])));
    // A header-only message deleted here is not listed again.
    await store.deleteMessage(bySubject(setup, 'big three').id);
    // The limit raised: the remaining header-only message is completed in place, not added twice.
    setup.context.current = { ...setup.context.current, pop3Options: { maxMessageKb: 100 } };
    await setup.engine.syncOnce();
    expect(
      allMessages(store)
        .map((record) => record.subject)
        .sort(),
    ).toEqual(['big one', 'big two', 'small']);
    expect(storedHashes(store).sort()).toEqual(
      [raws[0], raws[1], raws[2]].map((raw) => sha256(asRetrieved(raw))).sort(),
    );
    expect(allMessages(store).every((record) => record.residency === 'both')).toBe(true);
  });

  it('pipelining on and off give identical results (200 messages)', async () => {
    const user = await createTestUser(server);
    const raws = Array.from({ length: 200 }, (_, index) =>
      testMessage(`bulk ${index}`, `${`line ${index} `.repeat(40)}${CRLF}`.repeat(20)),
    );
    await putMessages(server, user, raws);
    const expected = await serverHashes(user);
    const timings: string[] = [];
    for (const pipelining of [true, false]) {
      const setup = await setUp({ kind: 'forever' }, { user, engine: { pipelining } });
      const started = performance.now();
      await setup.engine.syncOnce();
      timings.push(`pipelining ${pipelining ? 'on' : 'off'}: ${Math.round(performance.now() - started)} ms`);
      expect(storedHashes(setup.profile.store).sort()).toEqual(expected);
      expect(setup.engine.lastPass).toMatchObject({ downloaded: 200, deletedOnServer: 0 });
    }
    console.info(
      `POP3 download of 200 messages (${Math.round(raws.reduce((sum, raw) => sum + raw.length, 0) / 1024)} KiB): ${timings.join(', ')}`,
    );
  });

  it('checks run one at a time, watching checks at once, and a refused login is reported, the store untouched', async () => {
    const setup = await setUp({ kind: 'off' });
    const { store } = setup.profile;
    await putMessages(server, setup.user, [testMessage('while watching')]);
    // Two checks asked for at once share the maildrop lock politely: no [IN-USE], no duplicate.
    await Promise.all([setup.engine.syncOnce(), setup.engine.syncOnce()]);
    expect(allMessages(store)).toHaveLength(1);

    await putMessages(server, setup.user, [testMessage('found by the watcher')]);
    const arrived = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (setup.context.eventsNamed('newMail').length === 2) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    setup.engine.startWatching();
    await arrived;
    await setup.engine.stopWatching();
    expect(allMessages(store)).toHaveLength(2);

    const wrong = recordingContext(store, setup.context.current, 'not the password');
    const refused = createPop3Engine(wrong);
    cleanups.push(() => refused.close());
    await putMessages(server, setup.user, [testMessage('not fetched')]);
    await expect(refused.syncOnce()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(wrong.connectivity.at(-1)).toMatchObject({ state: 'error', error: { code: 'AUTH_FAILED' } });
    expect(allMessages(store)).toHaveLength(2);
    expect(await readServerMessages(server, setup.user)).toHaveLength(1);
  });

  it('S13 back to POP3 after IMAP: bytes already here are adopted, not downloaded again', async () => {
    const setup = await setUp({ kind: 'forever' });
    const { store } = setup.profile;
    const raws = [testMessage('seen in IMAP mode'), testMessage('also seen in IMAP mode'), testMessage('new in POP3')];
    await putMessages(server, setup.user, raws);
    const serverRaws = await readServerMessages(server, setup.user);
    // What the switch leaves behind (residency/mode-switch.ts): IMAP rows with their bytes, moved
    // to the local inbox still marked as on the server; plus one the server no longer has.
    await store.upsertAccount(setup.context.current);
    const serverInbox = await store.upsertFolder({
      accountId: ACCOUNT_ID,
      kind: 'server',
      path: 'INBOX',
      role: 'inbox',
    });
    const localInbox = await store.upsertFolder({ accountId: ACCOUNT_ID, kind: 'local', path: 'INBOX', role: 'inbox' });
    const gone = testMessage('expunged on the server meanwhile');
    const imapRows = [];
    for (const [index, raw] of [serverRaws[0], serverRaws[1], gone].entries()) {
      const { record } = await store.insertMessage({
        folderId: serverInbox.id,
        source: raw,
        imap: { uidvalidity: 7, uid: index + 1 },
        flags: ['\\Seen'],
      });
      imapRows.push(await store.moveMessage(record.id, localInbox.id, { onServer: true }));
    }

    const before = await setup.engine.listServer();
    expect(before.map((entry) => entry.state)).toEqual(['same-bytes-here', 'same-bytes-here', 'new']);
    expect(before.slice(0, 2).map((entry) => entry.messageId)).toEqual([imapRows[0].id, imapRows[1].id]);

    await setup.engine.syncOnce();
    expect(allMessages(store)).toHaveLength(4);
    expect(bySubject(setup, 'seen in IMAP mode').id).toBe(imapRows[0].id);
    expect(bySubject(setup, 'seen in IMAP mode').residency).toBe('both');
    expect(bySubject(setup, 'new in POP3').residency).toBe('both');
    expect(bySubject(setup, 'expunged on the server meanwhile').residency).toBe('local');
    expect(setup.context.eventsNamed('newMail').map((event) => event.count)).toEqual([1]);
    const after = await setup.engine.listServer();
    expect(after.map((entry) => entry.state)).toEqual(['same-bytes-here', 'same-bytes-here', 'stored']);

    // The policy then applies to adopted messages like to downloaded ones.
    setup.context.current = { ...setup.context.current, leaveOnServer: { kind: 'off' } };
    await setup.engine.syncOnce();
    expect(await readServerMessages(server, setup.user)).toEqual([]);
    expect(allMessages(store).map((record) => record.residency)).toEqual(['local', 'local', 'local', 'local']);
    expect(storedHashes(store)).toHaveLength(4);
  });
});
