/**
 * Proves the test mail servers are what the other tests assume: mail submitted over SMTP arrives and is
 * readable over IMAP and POP3 byte for byte, logins and quotas behave, the bad-certificate listeners
 * really present bad certificates, and the plain listeners really offer no TLS.
 */
import { ImapFlow } from 'imapflow';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessage, putMessages, readServerMessages } from './test-users.js';
import type { MailServerInfo, TestUser } from './types.js';

const info: MailServerInfo = inject('mailServer');
const DELIVERY_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;
/** Dovecot answers a wrong password after ~0.5 s with auth_failure_delay = 0; its default is 2 s. */
const WRONG_PASSWORD_MAX_MS = 1_500;
const GOOD_LOGIN_MAX_MS = 1_000;

/** A line-oriented exchange over a raw socket, for what the protocol libraries hide (capabilities, bytes). */
class LineSession {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closed = false;

  constructor(private socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static async connect(host: string, port: number, secure: boolean): Promise<LineSession> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const connected = secure ? tls.connect({ host, port }) : net.connect({ host, port });
      connected.once(secure ? 'secureConnect' : 'connect', () => resolve(connected));
      connected.once('error', reject);
    });
    return new LineSession(socket);
  }

  /** Reads until `isComplete` accepts what arrived; returns those bytes and keeps the rest. */
  async readUntil(isComplete: (received: Buffer) => number): Promise<Buffer> {
    for (;;) {
      const end = isComplete(this.buffer);
      if (end >= 0) {
        const response = this.buffer.subarray(0, end);
        this.buffer = this.buffer.subarray(end);
        return response;
      }
      if (this.closed) throw new Error(`connection closed; received: ${this.buffer.toString('latin1')}`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = null;
    }
  }

  /** Up to and including the first line that matches `finalLine`. */
  async readLines(finalLine: RegExp): Promise<string> {
    const bytes = await this.readUntil((received) => {
      let start = 0;
      for (let end = received.indexOf('\r\n'); end >= 0; end = received.indexOf('\r\n', start)) {
        if (finalLine.test(received.subarray(start, end).toString('latin1'))) return end + 2;
        start = end + 2;
      }
      return -1;
    });
    return bytes.toString('latin1');
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  async command(line: string, finalLine: RegExp): Promise<string> {
    this.send(line);
    return this.readLines(finalLine);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** RFC 1939 section 3: a multi-line response ends with CRLF.CRLF and has its leading dots doubled. */
async function pop3Retrieve(session: LineSession, messageNumber: number): Promise<Buffer> {
  session.send(`RETR ${messageNumber}`);
  const response = await session.readUntil((received) => {
    const end = received.indexOf('\r\n.\r\n');
    return end >= 0 ? end + 5 : -1;
  });
  const body = response.subarray(response.indexOf('\r\n') + 2, response.length - 3);
  const lines = body.toString('latin1').split('\r\n');
  return Buffer.from(lines.map((line) => (line.startsWith('.') ? line.slice(1) : line)).join('\r\n'), 'latin1');
}

async function pop3Login(user: TestUser): Promise<LineSession> {
  const session = await LineSession.connect(info.host, info.ports.pop3s, true);
  await session.readLines(/^\+OK/);
  await session.command(`USER ${user.username}`, /^\+OK/);
  const answer = await session.command(`PASS ${user.password}`, /^[+-]/);
  expect(answer).toMatch(/^\+OK/);
  return session;
}

function imapClient(user: TestUser, password = user.password): ImapFlow {
  // No `tls.ca`: the worker trusts the test CA only through NODE_EXTRA_CA_CERTS set by global-setup.ts.
  return new ImapFlow({
    host: info.host,
    port: info.ports.imap,
    secure: false,
    doSTARTTLS: true,
    auth: { user: user.username, pass: password },
    logger: false,
  });
}

async function waitForMessages(user: TestUser, count: number): Promise<Buffer[]> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const messages = await readServerMessages(info, user);
    if (messages.length >= count) return messages;
    if (Date.now() > deadline) throw new Error(`only ${messages.length} of ${count} messages delivered`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function tlsFailure(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('verified');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

function presentedFingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256.replaceAll(':', '').toLowerCase();
      socket.destroy();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

describe('test mail servers', () => {
  it('delivers mail submitted over STARTTLS and implicit TLS, readable over IMAP and POP3', async () => {
    const sender = await createTestUser(info);
    const recipient = await createTestUser(info);
    const subjects = ['over submission with STARTTLS', 'over submissions with implicit TLS'];
    for (const [index, subject] of subjects.entries()) {
      const secure = index === 1;
      const transport = nodemailer.createTransport({
        host: info.host,
        port: secure ? info.ports.submissions : info.ports.submission,
        secure,
        requireTLS: !secure,
        auth: { user: sender.username, pass: sender.password },
      });
      const result = await transport.sendMail({ from: sender.email, to: recipient.email, subject, text: 'Hello\n' });
      expect(result.accepted).toEqual([recipient.email]);
      transport.close();
      // Wait for each, so the UIDs follow the order of sending.
      await waitForMessages(recipient, index + 1);
    }
    const stored = await readServerMessages(info, recipient);

    const client = imapClient(recipient);
    await client.connect();
    try {
      expect(client.secureConnection).toBe(true);
      const lock = await client.getMailboxLock('INBOX');
      try {
        const fetched: { subject: string | undefined; source: Buffer | undefined }[] = [];
        for await (const message of client.fetch('1:*', { envelope: true, source: true })) {
          fetched.push({ subject: message.envelope?.subject, source: message.source });
        }
        expect(fetched.map((message) => message.subject)).toEqual(subjects);
        expect(fetched.map((message) => message.source)).toEqual(stored);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }

    const pop3 = await pop3Login(recipient);
    try {
      expect(await pop3.command('STAT', /^[+-]/)).toMatch(/^\+OK 2 /);
      expect(await pop3Retrieve(pop3, 2)).toEqual(stored[1]);
    } finally {
      pop3.close();
    }
  });

  it('never relays: mail for another domain is accepted and discarded', async () => {
    const sender = await createTestUser(info);
    const outsider = `${sender.username}-elsewhere@example.org`;
    const transport = nodemailer.createTransport({
      host: info.host,
      port: info.ports.submissions,
      secure: true,
      auth: { user: sender.username, pass: sender.password },
    });
    const result = await transport.sendMail({ from: sender.email, to: outsider, subject: 'away', text: 'x' });
    transport.close();
    expect(result.accepted).toEqual([outsider]);
    const logPath = path.join(info.dataDir, 'log', 'postfix.log');
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    let outcome: string | undefined;
    while (outcome === undefined && Date.now() < deadline) {
      const log = await readFile(logPath, 'utf8');
      outcome = log.split('\n').find((line) => line.includes(`to=<${outsider}>`) && line.includes('status='));
      if (outcome === undefined) await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    expect(outcome).toMatch(/relay=none.*status=sent \(not relayed by the test server\)/);
  });

  it('serves messages put into the Maildir byte for byte, in IMAP and POP3', async () => {
    const user = await createTestUser(info);
    const first = Buffer.from('Subject: first\r\nX-Odd: caf\xe9\r\n\r\n.leading dot\r\nend\r\n', 'latin1');
    const second = Buffer.from('Subject: second\r\n\r\nno final line break', 'latin1');
    await putMessage(info, user, first);
    await putMessage(info, user, second, 'INBOX', { flags: ['S', 'F'] });
    await putMessage(info, user, first, 'Archive/2024');
    expect(await readServerMessages(info, user)).toEqual([first, second]);
    expect(await readServerMessages(info, user, 'Archive/2024')).toEqual([first]);

    const client = imapClient(user);
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        const fetched: { source: Buffer | undefined; flags: string[] }[] = [];
        for await (const message of client.fetch('1:*', { source: true, flags: true })) {
          // \Recent is the server's own session flag (RFC 3501 section 2.3.2), not one we stored.
          const flags = [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort();
          fetched.push({ source: message.source, flags });
        }
        expect(fetched).toEqual([
          { source: first, flags: [] },
          { source: second, flags: ['\\Flagged', '\\Seen'] },
        ]);
      } finally {
        lock.release();
      }
      const bulk = Array.from({ length: 12 }, (_, index) => Buffer.from(`Subject: bulk ${index}\r\n\r\nx\r\n`));
      await putMessages(info, user, bulk, 'Bulk');
      const bulkLock = await client.getMailboxLock('Bulk');
      try {
        const subjects: (string | undefined)[] = [];
        for await (const message of client.fetch('1:*', { envelope: true }, { uid: true })) {
          subjects.push(message.envelope?.subject);
        }
        expect(subjects).toEqual(bulk.map((_, index) => `bulk ${index}`));
        expect(await readServerMessages(info, user, 'Bulk')).toEqual(bulk);
      } finally {
        bulkLock.release();
      }
      const folders = await client.list();
      const specialUse = Object.fromEntries(folders.map((folder) => [folder.path, folder.specialUse ?? null]));
      expect(specialUse).toMatchObject({ Sent: '\\Sent', Drafts: '\\Drafts', Trash: '\\Trash', Junk: '\\Junk' });
      expect(specialUse).toHaveProperty('Archive/2024');
    } finally {
      await client.logout();
    }

    const pop3 = await pop3Login(user);
    try {
      expect(await pop3Retrieve(pop3, 1)).toEqual(first);
      // POP3 cannot carry a message without a final line break (RFC 1939 section 3): Dovecot adds one.
      expect(await pop3Retrieve(pop3, 2)).toEqual(Buffer.concat([second, Buffer.from('\r\n')]));
    } finally {
      pop3.close();
    }
  });

  it('refuses a wrong password quickly, then lets the right one in at once', async () => {
    const user = await createTestUser(info);
    const refusedAt = performance.now();
    const wrong = imapClient(user, `${user.password}x`);
    await expect(wrong.connect()).rejects.toThrow();
    expect(performance.now() - refusedAt).toBeLessThan(WRONG_PASSWORD_MAX_MS);

    const loginAt = performance.now();
    const right = imapClient(user);
    await right.connect();
    expect(performance.now() - loginAt).toBeLessThan(GOOD_LOGIN_MAX_MS);
    await right.logout();

    const transport = nodemailer.createTransport({
      host: info.host,
      port: info.ports.submissions,
      secure: true,
      auth: { user: user.username, pass: 'wrong' },
    });
    await expect(transport.verify()).rejects.toMatchObject({ responseCode: 535 });
    transport.close();
  });

  it('reports the per-user quota and the post-login capabilities the client relies on', async () => {
    const user = await createTestUser(info, { quotaMegabytes: 5 });
    await putMessage(info, user, Buffer.from(`Subject: size\r\n\r\n${'x'.repeat(10_000)}\r\n`));
    const client = imapClient(user);
    await client.connect();
    try {
      const quota = await client.getQuota('INBOX');
      expect(quota).not.toBe(false);
      expect(quota !== false && quota.storage?.limit).toBe(5 * 1024 * 1024);
      expect(quota !== false && quota.storage?.usage).toBeGreaterThan(10_000);
      for (const capability of ['CONDSTORE', 'QRESYNC', 'IDLE', 'MOVE', 'UIDPLUS', 'SPECIAL-USE', 'QUOTA']) {
        expect(client.capabilities.has(capability)).toBe(true);
      }
    } finally {
      await client.logout();
    }
  });

  it('verifies the main listeners through the test CA and presents the bad certificates elsewhere', async () => {
    // The trust comes from the environment the worker was forked with, as for a system CA.
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(info.caPath);
    expect(new X509Certificate(readFileSync(info.caPath)).ca).toBe(true);
    const implicitPorts = [info.ports.imaps, info.ports.pop3s, info.ports.submissions];
    for (const port of implicitPorts) {
      expect(await tlsFailure(info.host, port)).toBe('verified');
      expect(await presentedFingerprint(info.host, port)).toBe(info.fingerprint);
    }
    const expectations = [
      [info.badTls.selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      [info.badTls.expired, 'CERT_HAS_EXPIRED'],
      [info.badTls.wrongHost, 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ] as const;
    for (const [endpoints, code] of expectations) {
      for (const port of [endpoints.imaps, endpoints.pop3s, endpoints.submissions]) {
        expect({ port, result: await tlsFailure(endpoints.host, port) }).toEqual({ port, result: code });
        expect(await presentedFingerprint(endpoints.host, port)).toBe(endpoints.fingerprint);
      }
    }
    // After STARTTLS the bad certificate is the same (RFC 8314 section 4.3: verify after STARTTLS too).
    const user = await createTestUser(info);
    const client = new ImapFlow({
      host: info.badTls.expired.host,
      port: info.badTls.expired.imap,
      secure: false,
      doSTARTTLS: true,
      auth: { user: user.username, pass: user.password },
      logger: false,
    });
    await expect(client.connect()).rejects.toMatchObject({ code: 'CERT_HAS_EXPIRED' });
  });

  it('refuses plaintext login before STARTTLS on the main ports and offers no TLS on the plain ones', async () => {
    const user = await createTestUser(info);
    // RFC 3501 section 6.2.3: LOGINDISABLED until STARTTLS, and LOGIN refused.
    const imap = await LineSession.connect(info.host, info.ports.imap, false);
    await imap.readLines(/^\* OK/);
    const imapCapabilities = await imap.command('a CAPABILITY', /^a /);
    expect(imapCapabilities).toContain('STARTTLS');
    expect(imapCapabilities).toContain('LOGINDISABLED');
    expect(await imap.command(`b LOGIN ${user.username} ${user.password}`, /^b /)).toMatch(/^b NO /m);
    imap.close();

    // The plain listener really takes a password in clear: only the client can refuse to send it.
    const plainImap = await LineSession.connect(info.noTls.host, info.noTls.imap, false);
    await plainImap.readLines(/^\* OK/);
    const plainCapabilities = await plainImap.command('a CAPABILITY', /^a /);
    expect(plainCapabilities).not.toContain('STARTTLS');
    expect(plainCapabilities).not.toContain('LOGINDISABLED');
    expect(await plainImap.command('b STARTTLS', /^b /)).toMatch(/^b BAD /m);
    expect(await plainImap.command(`c LOGIN ${user.username} ${user.password}`, /^c /)).toMatch(/^c OK /m);
    plainImap.close();

    // RFC 2595 section 4 / RFC 2449: STLS offered in CAPA, USER/PASS refused before it.
    const pop3 = await LineSession.connect(info.host, info.ports.pop3, false);
    await pop3.readLines(/^\+OK/);
    expect(await pop3.command('CAPA', /^\.$|^-ERR/)).toContain('STLS');
    expect(await pop3.command(`USER ${user.username}`, /^[+-]/)).toMatch(/^-ERR/);
    pop3.close();

    const plainPop3 = await LineSession.connect(info.noTls.host, info.noTls.pop3, false);
    await plainPop3.readLines(/^\+OK/);
    const plainPop3Capabilities = await plainPop3.command('CAPA', /^\.$|^-ERR/);
    expect(plainPop3Capabilities).not.toContain('STLS');
    expect(await plainPop3.command(`USER ${user.username}`, /^[+-]/)).toMatch(/^\+OK/);
    expect(await plainPop3.command(`PASS ${user.password}`, /^[+-]/)).toMatch(/^\+OK/);
    plainPop3.close();

    const smtp = await LineSession.connect(info.host, info.ports.submission, false);
    await smtp.readLines(/^220 /);
    const smtpExtensions = await smtp.command('EHLO test', /^250 /);
    expect(smtpExtensions).toContain('STARTTLS');
    expect(smtpExtensions).not.toContain('AUTH');
    smtp.close();

    const plainSmtp = await LineSession.connect(info.noTls.host, info.noTls.submission, false);
    await plainSmtp.readLines(/^220 /);
    const plainSmtpExtensions = await plainSmtp.command('EHLO test', /^250 /);
    // Dovecot 2.3's LMTP cannot take SMTPUTF8 mail, so Postfix must not offer it (RFC 6531).
    expect(plainSmtpExtensions).not.toContain('SMTPUTF8');
    expect(plainSmtpExtensions).not.toContain('STARTTLS');
    expect(plainSmtpExtensions).toContain('AUTH');
    const credentials = Buffer.from(`\0${user.username}\0${user.password}`).toString('base64');
    expect(await plainSmtp.command(`AUTH PLAIN ${credentials}`, /^\d{3} /)).toMatch(/^235 /);
    plainSmtp.close();
  });
});
