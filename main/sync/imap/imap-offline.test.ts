/**
 * Offline work and the replay of the queue (SEMANTICS S2; RFC 4549) against the real test
 * Dovecot, reached through a loopback proxy that the tests stop and restart to take the server
 * away: cached mail stays readable, changes made offline reach the server on reconnect, and
 * conflicts with another client are resolved by the rules (the server's deletion wins; a move of
 * a message gone from the server is dropped and reported; dependent operations fail together).
 * An APPEND whose answer is lost is found on the server, not sent twice.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { MailError } from '../../../shared/errors';
import type { ServerEndpoint } from '../../../shared/model';
import { startReslicingProxy, type ReslicingProxy } from '../../protocols/testing/reslicing-proxy';
import {
  eventually,
  folderByPath,
  openProfile,
  removeDirectory,
  sha256,
  subjectsIn,
  testMessage,
  withOtherClient,
  type TestProfile,
} from './engine-test-support';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function profileFor(user: TestUser, endpoint: ServerEndpoint): Promise<TestProfile> {
  const profile = await openProfile(info, user, { endpoint });
  cleanups.push(() => removeDirectory(profile.directory));
  cleanups.push(() => profile.close());
  return profile;
}

/** The server, reachable while the proxy runs (TLS end to end: the proxy only moves bytes). */
async function serverProxy(): Promise<{ proxy: ReslicingProxy; endpoint: ServerEndpoint }> {
  const proxy = await startReslicingProxy({
    targetHost: info.host,
    targetPort: info.ports.imaps,
    slicing: { kind: 'none' },
  });
  cleanups.push(() => proxy.close());
  return { proxy, endpoint: { host: proxy.host, port: proxy.port, security: 'tls' } };
}

async function serverFolders(user: TestUser): Promise<Map<string, Array<{ subject: string; flags: string[] }>>> {
  return withOtherClient(info, user, async (client) => {
    const folders = new Map<string, Array<{ subject: string; flags: string[] }>>();
    for (const entry of await client.list()) {
      const lock = await client.getMailboxLock(entry.path, { readOnly: true });
      const messages: Array<{ subject: string; flags: string[] }> = [];
      try {
        if ((client.mailbox && client.mailbox.exists) || 0) {
          for await (const message of client.fetch('1:*', { envelope: true, flags: true })) {
            messages.push({
              subject: message.envelope?.subject ?? '',
              flags: [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort(),
            });
          }
        }
      } finally {
        lock.release();
      }
      folders.set(
        entry.path,
        messages.sort((left, right) => left.subject.localeCompare(right.subject)),
      );
    }
    return folders;
  });
}

/**
 * A plaintext relay that, once armed, swallows the server's tagged answer to APPEND and cuts the
 * connection: the message is stored on the server, the client never hears so (what a network
 * failure at the worst moment does; no real server does it on request).
 */
async function appendAnswerCutter(): Promise<{
  endpoint: ServerEndpoint;
  /** Cut at the next APPEND answer; with `stayDown`, refuse connections afterwards until `up()`. */
  arm(options?: { stayDown?: boolean }): void;
  up(): void;
  cuts(): number;
  appends(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let armed = false;
  let stayDown = false;
  let down = false;
  let cuts = 0;
  let appends = 0;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: info.noTls.host, port: info.noTls.imap });
    sockets.add(client);
    sockets.add(upstream);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    let appending = false;
    client.on('data', (bytes: Buffer) => {
      if (/^\S+ APPEND /m.test(bytes.toString('latin1'))) {
        appending = true;
        appends += 1;
      }
      upstream.write(bytes);
    });
    upstream.on('data', (bytes: Buffer) => {
      if (armed && appending && /^\S+ OK \[APPENDUID /m.test(bytes.toString('latin1'))) {
        armed = false;
        down = stayDown;
        cuts += 1;
        closeBoth();
        return;
      }
      client.write(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const relay = {
    endpoint: { host: '127.0.0.1', port: address.port, security: 'none' as const, allowPlaintext: true },
    arm: (options: { stayDown?: boolean } = {}) => {
      armed = true;
      stayDown = options.stayDown === true;
    },
    up: () => {
      down = false;
    },
    cuts: () => cuts,
    appends: () => appends,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  cleanups.push(() => relay.close());
  return relay;
}

describe('offline (IMAP)', () => {
  it('S2 offline: cached mail readable, changes queued offline and replayed on reconnect', async () => {
    const user = await createTestUser(info);
    const inboxMessages = ['flag me', 'archive me', 'delete me', 'file me'].map((subject) => testMessage(subject));
    await putMessages(
      info,
      user,
      inboxMessages.map((message) => message.raw),
    );
    await putMessages(info, user, [testMessage('archived long ago').raw], 'Archive');
    const { proxy, endpoint } = await serverProxy();
    const profile = await profileFor(user, endpoint);
    const { store, actions, account, engine } = profile;
    await engine.syncOnce();
    const inbox = folderByPath(store, account.id, 'INBOX');
    const archive = folderByPath(store, account.id, 'Archive');
    const byName = (folderId: string, subject: string) =>
      store.listFolderMessages(folderId).find((record) => record.subject === subject) ?? null;

    await proxy.close();
    await expect(engine.syncOnce()).rejects.toSatisfy(
      (error: unknown) => error instanceof MailError && error.code === 'CONNECTION_REFUSED',
    );
    expect(profile.connectivity.at(-1)?.state).toBe('offline');
    expect(profile.connectivity.at(-1)?.error?.code).toBe('CONNECTION_REFUSED');

    // Cached bodies stay readable, byte for byte; a body never fetched cannot be, and says why.
    const serverInbox = await readServerMessages(info, user, 'INBOX');
    for (const record of store.listFolderMessages(inbox.id)) {
      expect(serverInbox.map(sha256)).toContain(sha256(await store.readRaw(record.id)));
    }
    const headerOnly = byName(archive.id, 'archived long ago');
    await expect(engine.fetchBodies([headerOnly?.id ?? ''])).rejects.toBeInstanceOf(MailError);
    expect(store.getMessageRecord(headerOnly?.id ?? '')?.residency).toBe('server');

    // Changes made offline show here at once.
    await actions.setFlags([byName(inbox.id, 'flag me')?.id ?? ''], ['\\Flagged', '\\Seen']);
    await actions.move([byName(inbox.id, 'archive me')?.id ?? ''], archive.id);
    await actions.delete([byName(inbox.id, 'delete me')?.id ?? '']);
    const made = await actions.createFolder(account.id, 'Made offline', { kind: 'server' });
    await actions.move([byName(inbox.id, 'file me')?.id ?? ''], made.id);
    await actions.setFlags([byName(made.id, 'file me')?.id ?? ''], ['\\Answered']);
    const notes = await actions.createFolder(account.id, 'Notes', { kind: 'local' });
    const note = testMessage('written offline');
    const { record: written } = await store.insertMessage({ folderId: notes.id, source: note.raw, onServer: false });
    await actions.move([written.id], made.id);
    await actions.renameFolder(made.id, 'Renamed offline');
    expect(subjectsIn(store, inbox.id)).toEqual(['flag me']);
    expect(subjectsIn(store, archive.id)).toEqual(['archive me', 'archived long ago']);
    expect(store.listActions(account.id).map((action) => action.kind)).toEqual([
      'imap-flags',
      'imap-move',
      'imap-delete',
      'imap-create-folder',
      'imap-move',
      'imap-flags',
      'imap-append',
      'imap-rename-folder',
    ]);

    // The watcher keeps retrying with backoff; when the server is back the queue is replayed.
    engine.startWatching();
    await eventually(() => profile.connectivity.length >= 4, 5_000, 'a failed reconnection attempt');
    const back = await serverProxy();
    profile.setEndpoint(back.endpoint);
    await eventually(() => store.listActions(account.id).length === 0, 10_000, 'the replay');
    await eventually(() => profile.connectivity.at(-1)?.state === 'online', 5_000, 'online');
    await engine.stopWatching();
    await engine.syncOnce();

    const server = await serverFolders(user);
    expect(server.get('INBOX')).toEqual([{ subject: 'flag me', flags: ['\\Flagged', '\\Seen'] }]);
    expect(server.get('Archive')?.map((message) => message.subject)).toEqual(['archive me', 'archived long ago']);
    expect(server.get('Trash')?.map((message) => message.subject)).toEqual(['delete me']);
    expect(server.has('Made offline')).toBe(false);
    expect(server.get('Renamed offline')).toEqual([
      { subject: 'file me', flags: ['\\Answered'] },
      { subject: 'written offline', flags: [] },
    ]);
    // And the local view still matches, with UIDs for every moved message (no duplicates).
    const renamed = folderByPath(store, account.id, 'Renamed offline');
    expect(renamed.id).toBe(made.id);
    expect(store.listFolderMessages(renamed.id).map((record) => [record.subject, record.residency])).toEqual([
      ['file me', 'both'],
      ['written offline', 'both'],
    ]);
    expect(subjectsIn(store, folderByPath(store, account.id, 'Trash').id)).toEqual(['delete me']);
    expect(store.listFolderMessages(archive.id).every((record) => record.imap !== null)).toBe(true);
  });

  it('S2 replay after conflicts (RFC 4549): server deletions win, a lost move is reported, dependent actions fail together', async () => {
    const user = await createTestUser(info);
    const subjects = ['deleted there, flagged here', 'deleted there, moved here', 'into a bad folder', 'read here'];
    await putMessages(
      info,
      user,
      subjects.map((subject) => testMessage(subject).raw),
    );
    await putMessages(info, user, [testMessage('already archived').raw], 'Archive');
    const { proxy, endpoint } = await serverProxy();
    const profile = await profileFor(user, endpoint);
    const { store, actions, account, engine } = profile;
    await engine.syncOnce();
    const inbox = folderByPath(store, account.id, 'INBOX');
    const archive = folderByPath(store, account.id, 'Archive');
    const byName = (subject: string) =>
      store.listFolderMessages(inbox.id).find((record) => record.subject === subject) ?? null;
    const [flagged, moved, filed, read] = subjects.map((subject) => byName(subject)?.id ?? '');
    const kept = await actions.createFolder(account.id, 'Kept', { kind: 'local' });
    const upload = testMessage('uploaded while offline');
    const { record: local } = await store.insertMessage({ folderId: kept.id, source: upload.raw, onServer: false });

    await proxy.close();
    await actions.setFlags([flagged], ['\\Flagged']);
    await actions.move([moved], archive.id);
    // A name the server refuses (Dovecot: "Character not allowed in mailbox name"); the move into it must fail too.
    const bad = await actions.createFolder(account.id, 'with.dot', { kind: 'server' });
    await actions.move([filed], bad.id);
    await actions.setFlags([read], ['\\Seen']);
    await actions.move([local.id], inbox.id);
    // Meanwhile another client deletes two of the messages.
    await withOtherClient(info, user, async (client) => {
      await client.mailboxOpen('INBOX');
      await client.messageDelete('1:2', { uid: true });
    });

    const back = await serverProxy();
    profile.setEndpoint(back.endpoint);
    await engine.syncOnce();

    const queue = store.listActions(account.id);
    expect(queue.map((action) => [action.kind, action.state])).toEqual([
      ['imap-move', 'failed'],
      ['imap-create-folder', 'failed'],
      ['imap-move', 'failed'],
    ]);
    expect(queue[0].lastError).toMatch(/“deleted there, moved here” was deleted on the server/);
    expect(queue[1].lastError).toMatch(/with\.dot could not be created/);
    expect(queue[2].lastError).toMatch(/with\.dot could not be created/);

    const server = await serverFolders(user);
    expect(server.get('INBOX')).toEqual([
      { subject: 'into a bad folder', flags: [] },
      { subject: 'read here', flags: ['\\Seen'] },
      { subject: 'uploaded while offline', flags: [] },
    ]);
    expect(server.get('Archive')?.map((message) => message.subject)).toEqual(['already archived']);
    expect(server.has('with.dot')).toBe(false);
    // The local view follows the server: the deleted messages are gone, the failed move is undone.
    expect(subjectsIn(store, inbox.id)).toEqual(['into a bad folder', 'read here', 'uploaded while offline']);
    expect(subjectsIn(store, archive.id)).toEqual(['already archived']);
    expect(store.findFolder(account.id, 'server', 'with.dot')).toBeNull();
    expect(store.getMessageRecord(filed)?.imap).not.toBeNull();
    expect(store.getMessageRecord(local.id)?.residency).toBe('both');
    // Nothing is left half-done: another pass changes nothing.
    await engine.syncOnce();
    expect(store.listActions(account.id)).toHaveLength(3);
    expect(subjectsIn(store, inbox.id)).toEqual(['into a bad folder', 'read here', 'uploaded while offline']);
  });

  it('an APPEND whose answer was lost is found by Message-ID on replay and not stored twice', async () => {
    const user = await createTestUser(info);
    const relay = await appendAnswerCutter();
    const profile = await profileFor(user, relay.endpoint);
    const { store, actions, account, engine } = profile;
    await engine.syncOnce();
    const kept = await actions.createFolder(account.id, 'Kept', { kind: 'local' });
    const upload = testMessage('upload exactly once');
    const { record } = await store.insertMessage({ folderId: kept.id, source: upload.raw, onServer: false });
    await actions.move([record.id], folderByPath(store, account.id, 'INBOX').id);

    // The connection breaks after the server stored the message, before we hear so. The engine
    // reconnects once at once (the connection it had was lost) and replays: it must look first.
    relay.arm();
    await engine.syncOnce();
    expect(relay.cuts()).toBe(1);
    expect(relay.appends()).toBe(1);
    expect((await readServerMessages(info, user, 'INBOX')).map(sha256)).toEqual([sha256(upload.raw)]);
    expect(store.listActions(account.id)).toEqual([]);

    // Cut again, and this time the server stays away: the APPEND is left "running" (it may have run).
    const second = testMessage('upload exactly once, too');
    const { record: other } = await store.insertMessage({ folderId: kept.id, source: second.raw, onServer: false });
    await actions.move([other.id], folderByPath(store, account.id, 'INBOX').id);
    relay.arm({ stayDown: true });
    await expect(engine.syncOnce()).rejects.toBeInstanceOf(MailError);
    expect(relay.cuts()).toBe(2);
    expect(store.listActions(account.id).map((action) => [action.kind, action.state, action.attempts])).toEqual([
      ['imap-append', 'running', 1],
    ]);
    relay.up();
    await engine.syncOnce();
    expect(relay.appends()).toBe(2);
    expect((await readServerMessages(info, user, 'INBOX')).map(sha256)).toEqual([
      sha256(upload.raw),
      sha256(second.raw),
    ]);
    expect(store.listActions(account.id)).toEqual([]);
    const inbox = folderByPath(store, account.id, 'INBOX');
    expect(store.listFolderMessages(inbox.id).map((row) => [row.id, row.residency, row.imap?.uid])).toEqual([
      [record.id, 'both', 1],
      [other.id, 'both', 2],
    ]);
  });
});
