/**
 * Test set-up for the IMAP engine and the action layer against the real test Dovecot: a
 * throw-away profile (store) with an IMAP account for a test user, an EngineContext that records
 * what the engine reports, and helpers to act as "another client" with imapflow directly.
 * Not used by production code.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { MailEvent, MailEvents } from '../../../shared/api';
import type { ErrorPayload } from '../../../shared/errors';
import type { Account, ConnectivityState, ServerEndpoint } from '../../../shared/model';
import type { MailServerInfo, TestUser } from '../../../e2e/mailserver/types';
import { connectImap } from '../../protocols/imap/connect-imap';
import type { ImapConnectOptions, ImapSession } from '../../protocols/imap/imap-mailbox';
import { openMessageStore, type MessageStore, type StoreStep } from '../../store/message-store';
import { createMailActions, type MailActions } from '../actions';
import type { EngineContext } from '../engine';
import { ImapAccountEngine, type ImapEngineOptions } from './imap-engine';

export const CRLF = '\r\n';

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A small RFC 5322 message with a unique Message-ID (returned too). */
export function testMessage(subject: string, body = 'Hello.'): { raw: Buffer; messageId: string } {
  const messageId = `<${createHash('sha1')
    .update(subject + Math.random())
    .digest('hex')}@test.localhost>`;
  const raw = Buffer.from(
    `From: Alice Example <alice@localhost>${CRLF}To: Bob <bob@localhost>${CRLF}Subject: ${subject}${CRLF}` +
      `Date: Tue, 02 Jan 2024 10:00:00 +0000${CRLF}Message-ID: ${messageId}${CRLF}${CRLF}${body}${CRLF}`,
    'latin1',
  );
  return { raw, messageId };
}

export function imapsEndpoint(info: MailServerInfo): ServerEndpoint {
  return { host: info.host, port: info.ports.imaps, security: 'tls' };
}

export function imapAccount(id: string, user: TestUser, endpoint: ServerEndpoint): Account {
  return {
    id,
    createdAt: '2024-01-01T00:00:00.000Z',
    name: `Test ${id}`,
    email: user.email,
    mode: 'imap',
    username: user.username,
    imap: endpoint,
    pop3: null,
    smtp: null,
    leaveOnServer: { kind: 'forever' },
    offlineFolders: [],
    checkIntervalMinutes: 10,
  };
}

export interface RecordedEvent {
  name: MailEvent;
  payload: unknown;
}

/** One "computer": a profile with its store, an IMAP engine and the action layer. */
export interface TestProfile {
  directory: string;
  store: MessageStore;
  account: Account;
  engine: ImapAccountEngine;
  actions: MailActions;
  events: RecordedEvent[];
  connectivity: Array<{ state: ConnectivityState; error: ErrorPayload | null }>;
  /** Bodies downloaded over the network (completed downloadRaw calls, and messages received by fetchRawBatch). */
  downloads: () => number;
  /** Commands that fetched bodies (downloadRaw and fetchRawBatch calls): round trips to the server. */
  bodyFetches: () => number;
  /** How each incremental check was made (ChangeSet.method), in order. */
  changeMethods: string[];
  /** Changes the endpoint the engine connects to (it re-reads the account every time). */
  setEndpoint(endpoint: ServerEndpoint): void;
  close(): Promise<void>;
}

export interface ProfileOptions {
  endpoint?: ServerEndpoint;
  engine?: ImapEngineOptions;
  offlineFolders?: string[];
  onStep?: (step: StoreStep) => void;
  directory?: string;
  accountId?: string;
}

export async function openProfile(
  info: MailServerInfo,
  user: TestUser,
  options: ProfileOptions = {},
): Promise<TestProfile> {
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'wb-imap-'));
  const store = await openMessageStore({ profileDir: directory, host: 'test-host', onStep: options.onStep });
  let account: Account = {
    ...imapAccount(options.accountId ?? 'acct', user, options.endpoint ?? imapsEndpoint(info)),
    offlineFolders: options.offlineFolders ?? [],
  };
  await store.upsertAccount(account);
  const events: RecordedEvent[] = [];
  const connectivity: TestProfile['connectivity'] = [];
  let downloads = 0;
  let bodyFetches = 0;
  const changeMethods: string[] = [];
  const baseConnect = options.engine?.connect ?? connectImap;
  const connect = async (connectOptions: ImapConnectOptions): Promise<ImapSession> => {
    const session = await baseConnect(connectOptions);
    const downloadRaw = session.downloadRaw.bind(session);
    session.downloadRaw = async (...args) => {
      bodyFetches += 1;
      const result = await downloadRaw(...args);
      downloads += 1;
      return result;
    };
    const fetchRawBatch = session.fetchRawBatch.bind(session);
    session.fetchRawBatch = async (...args) => {
      bodyFetches += 1;
      const result = await fetchRawBatch(...args);
      downloads += result.messages.size + result.failed.size;
      return result;
    };
    const fetchChanges = session.fetchChanges.bind(session);
    session.fetchChanges = async (...args) => {
      const changes = await fetchChanges(...args);
      changeMethods.push(changes.method);
      return changes;
    };
    return session;
  };
  const context: EngineContext = {
    account: () => account,
    password: async () => user.password,
    store,
    emit<E extends MailEvent>(name: E, payload: MailEvents[E]) {
      events.push({ name, payload });
    },
    reportConnectivity(state, error) {
      connectivity.push({ state, error });
    },
  };
  const engine = new ImapAccountEngine(context, {
    reconnectMinMs: 100,
    reconnectMaxMs: 1_000,
    ...options.engine,
    connect,
  });
  const actions = createMailActions({
    store,
    account: () => account,
    fetchBodies: (_accountId, ids) => engine.fetchBodies(ids),
  });
  return {
    directory,
    store,
    get account() {
      return account;
    },
    engine,
    actions,
    events,
    connectivity,
    downloads: () => downloads,
    bodyFetches: () => bodyFetches,
    changeMethods,
    setEndpoint(endpoint) {
      account = { ...account, imap: endpoint };
    },
    async close() {
      await engine.close();
      store.close();
    },
  };
}

export function removeDirectory(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
}

/** "Another client": imapflow directly, logged in as the user. */
export async function otherClient(info: MailServerInfo, user: TestUser): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: info.host,
    port: info.ports.imaps,
    secure: true,
    auth: { user: user.username, pass: user.password },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  return client;
}

/** Runs `body` with another client that is logged out afterwards. */
export async function withOtherClient<T>(
  info: MailServerInfo,
  user: TestUser,
  body: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = await otherClient(info, user);
  try {
    return await body(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Resolves once `condition` holds, polling; fails after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function folderByPath(
  store: MessageStore,
  accountId: string,
  path: string,
  kind: 'server' | 'local' = 'server',
) {
  const folder = store.findFolder(accountId, kind, path);
  if (!folder) throw new Error(`no ${kind} folder ${path}`);
  return folder;
}

export function subjectsIn(store: MessageStore, folderId: string): string[] {
  return store
    .listFolderMessages(folderId)
    .map((record) => record.subject)
    .sort();
}
