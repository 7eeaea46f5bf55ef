/**
 * Helpers shared by the store's tests: a throw-away profile with an account, and messages built
 * from a few fields. Not used by production code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Account, ProtocolMode } from '../../shared/model';
import type { Envelope } from '../mime/parse';
import { openMessageStore, type MessageStore } from './message-store';

/** The envelope of a header-only row (as an IMAP header sync lists it), with a subject and what else a test sets. */
export function testEnvelope(fields: Partial<Envelope> & { subject: string }): Envelope {
  return {
    messageId: `<${fields.subject.replace(/\W/g, '')}@example.org>`,
    inReplyTo: null,
    references: [],
    from: { name: 'Sender', address: 'sender@example.org' },
    to: [{ name: '', address: 'me@example.org' }],
    cc: [],
    bcc: [],
    replyTo: [],
    date: '2024-02-01T08:00:00.000Z',
    ...fields,
  };
}

export function testAccount(id: string, mode: ProtocolMode = 'imap'): Account {
  return {
    id,
    createdAt: '2024-01-01T00:00:00.000Z',
    name: `Test ${id}`,
    email: `${id}@example.org`,
    mode,
    username: id,
    imap: mode === 'imap' ? { host: '127.0.0.1', port: 993, security: 'tls' } : null,
    pop3: mode === 'pop3' ? { host: '127.0.0.1', port: 995, security: 'tls' } : null,
    smtp: null,
    leaveOnServer: { kind: 'off' },
    offlineFolders: [],
    checkIntervalMinutes: 10,
  };
}

export function temporaryProfile(prefix = 'wb-store-'): { directory: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  return { directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

export async function openTestStore(profileDir: string): Promise<MessageStore> {
  return openMessageStore({ profileDir, host: 'test-host' });
}

export interface MessageFields {
  subject?: string;
  from?: string;
  to?: string;
  date?: string;
  messageId?: string;
  inReplyTo?: string;
  body?: string;
  html?: string;
}

/** A small RFC 5322 message with CRLF line ends. */
export function buildMessage(fields: MessageFields): Buffer {
  const headers = [
    `From: ${fields.from ?? 'Alice Example <alice@example.org>'}`,
    `To: ${fields.to ?? 'Bob <bob@example.org>'}`,
    `Subject: ${fields.subject ?? 'Hello'}`,
    `Date: ${fields.date ?? 'Mon, 01 Jan 2024 10:00:00 +0000'}`,
    `Message-ID: ${fields.messageId ?? `<${Math.random().toString(36).slice(2)}@example.org>`}`,
    ...(fields.inReplyTo ? [`In-Reply-To: ${fields.inReplyTo}`] : []),
    'MIME-Version: 1.0',
  ];
  if (fields.html !== undefined) {
    headers.push('Content-Type: text/html; charset=utf-8');
    return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${fields.html}\r\n`);
  }
  headers.push('Content-Type: text/plain; charset=utf-8');
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${fields.body ?? 'Just a test.'}\r\n`);
}

/** The two messages of the crash tests: a small one stored first, then a 3 MB one (POP3). */
export function crashTestMessages(): { first: Buffer; second: Buffer } {
  const first = buildMessage({ subject: 'stored before the crash', messageId: '<first@crash.test>' });
  const line = `${'0123456789'.repeat(7)}\r\n`;
  const second = Buffer.concat([
    buildMessage({ subject: 'stored during the crash', messageId: '<second@crash.test>', body: 'start' }),
    Buffer.from(line.repeat(Math.ceil((3 * 1024 * 1024) / line.length))),
  ]);
  return { first, second };
}
