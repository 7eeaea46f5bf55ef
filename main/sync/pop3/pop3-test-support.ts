/**
 * Shared by the POP3 engine's tests (not production code): a throw-away profile with a store, a
 * POP3 account on the test Dovecot, an EngineContext that records what the engine reports, and
 * ways to compare what is stored here with what the server holds.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MailEvent, MailEvents } from '../../../shared/api';
import type { ErrorPayload } from '../../../shared/errors';
import type { ConnectivityState, ServerEndpoint } from '../../../shared/model';
import type { MailServerInfo, TestUser } from '../../../e2e/mailserver/types';
import { openMessageStore, type MessageRecord, type MessageStore } from '../../store/message-store';
import type { EngineContext } from '../engine';
import type { AccountWithPop3Options } from './pop3-options';

export const ACCOUNT_ID = 'pop';

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** What POP3 delivers for a stored file: RFC 1939 §3 ends every message with CRLF. */
export function asRetrieved(raw: Buffer): Buffer {
  return raw.subarray(-2).equals(Buffer.from('\r\n')) ? raw : Buffer.concat([raw, Buffer.from('\r\n')]);
}

export function tlsEndpoint(server: MailServerInfo): ServerEndpoint {
  return { host: server.host, port: server.ports.pop3s, security: 'tls' };
}

export function pop3Account(
  user: TestUser,
  endpoint: ServerEndpoint,
  overrides: Partial<AccountWithPop3Options> = {},
): AccountWithPop3Options {
  return {
    id: ACCOUNT_ID,
    createdAt: '2024-01-01T00:00:00.000Z',
    name: 'POP test',
    email: user.email,
    mode: 'pop3',
    username: user.username,
    imap: null,
    pop3: endpoint,
    smtp: null,
    leaveOnServer: { kind: 'off' },
    offlineFolders: [],
    checkIntervalMinutes: 10,
    ...overrides,
  };
}

export interface RecordingContext extends EngineContext {
  /** The account the engine reads; tests change its settings between passes. */
  current: AccountWithPop3Options;
  events: Array<{ name: MailEvent; payload: unknown }>;
  connectivity: Array<{ state: ConnectivityState; error: ErrorPayload | null }>;
  eventsNamed<E extends MailEvent>(name: E): Array<MailEvents[E]>;
}

export function recordingContext(
  store: MessageStore,
  account: AccountWithPop3Options,
  password: string,
): RecordingContext {
  const context: RecordingContext = {
    current: account,
    events: [],
    connectivity: [],
    account: () => context.current,
    password: async () => password,
    store,
    emit(name, payload) {
      context.events.push({ name, payload });
    },
    reportConnectivity(state, error) {
      context.connectivity.push({ state, error });
    },
    eventsNamed<E extends MailEvent>(name: E) {
      return context.events.filter((event) => event.name === name).map((event) => event.payload as MailEvents[E]);
    },
  };
  return context;
}

export interface TestProfile {
  directory: string;
  store: MessageStore;
  /** Closes the store and removes the profile. */
  remove(): void;
}

export async function openTestProfile(prefix = 'wb-pop3-'): Promise<TestProfile> {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  const store = await openMessageStore({ profileDir: directory, host: 'pop3-test' });
  return {
    directory,
    store,
    remove() {
      store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Every message of the account, in every folder. */
export function allMessages(store: MessageStore, accountId = ACCOUNT_ID): MessageRecord[] {
  return store.listFolderRecords(accountId).flatMap((folder) => store.listFolderMessages(folder.id));
}

/** SHA-256 of every stored file of the account (each checked against its row first). */
export function storedHashes(store: MessageStore, accountId = ACCOUNT_ID): string[] {
  return allMessages(store, accountId).flatMap((record) => {
    if (record.localPath === null) return [];
    const hash = sha256(readFileSync(record.localPath));
    if (hash !== record.sha256) throw new Error(`${record.id}: the file does not match its row's SHA-256`);
    return [hash];
  });
}

/** A small CRLF message with a unique Message-ID. */
export function testMessage(subject: string, body = 'Hello.', extraHeaders: string[] = []): Buffer {
  const unique = createHash('sha1').update(`${subject}\u0000${Math.random()}`).digest('hex').slice(0, 16);
  return Buffer.from(
    [
      'From: Alice <alice@localhost>',
      'To: Bob <bob@localhost>',
      `Subject: ${subject}`,
      'Date: Mon, 01 Jan 2024 10:00:00 +0000',
      `Message-ID: <${unique}@pop3.test>`,
      ...extraHeaders,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );
}
