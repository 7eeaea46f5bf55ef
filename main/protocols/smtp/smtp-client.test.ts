/**
 * Sending against the real test Postfix (submission with STARTTLS and with implicit TLS), delivering
 * through Dovecot's LMTP into the recipient's Maildir, and the failures a user can meet, for real.
 */
import net from 'node:net';
import { startCuttingProxy } from '../testing/cutting-proxy';
import { describe, expect, inject, it } from 'vitest';
import { createTestUser, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { MailError } from '../../../shared/errors';
import type { ServerEndpoint } from '../../../shared/model';
import { sendMessage, verifySmtp, type SendResult } from './smtp-client';
import { isDeliveryUnknown, SmtpSendError } from './smtp-errors';
import type { TranscriptEntry } from './smtp-socket';

const info = inject('mailServer');
const DELIVERY_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;

const submission: ServerEndpoint = { host: info.host, port: info.ports.submission, security: 'starttls' };
const submissions: ServerEndpoint = { host: info.host, port: info.ports.submissions, security: 'tls' };

/** Waits until the user's INBOX holds `count` messages and returns them (Postfix delivers asynchronously). */
async function waitForMessages(user: TestUser, count: number): Promise<Buffer[]> {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const messages = await readServerMessages(info, user);
    if (messages.length >= count) return messages;
    if (Date.now() > deadline)
      throw new Error(`only ${messages.length} of ${count} messages arrived for ${user.email}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Postfix and Dovecot prepend trace headers (Return-Path, Delivered-To, Received); the rest is ours. */
function endsWithBytes(delivered: Buffer, sent: Buffer): boolean {
  return delivered.length >= sent.length && delivered.subarray(delivered.length - sent.length).equals(sent);
}

async function failure(action: () => Promise<unknown>): Promise<SmtpSendError> {
  const error = await action().then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SmtpSendError);
  expect(error).toBeInstanceOf(MailError);
  return error as SmtpSendError;
}

describe('sendMessage', () => {
  it.each([
    ['submission with STARTTLS', submission],
    ['submissions with implicit TLS', submissions],
  ])('sends through %s, and the recipient receives exactly the returned bytes', async (_name, endpoint) => {
    const [sender, recipient] = await Promise.all([createTestUser(info), createTestUser(info)]);
    const transcript: TranscriptEntry[] = [];
    const result: SendResult = await sendMessage(
      { endpoint, username: sender.username, password: sender.password },
      {
        from: { name: 'Sender Ünïcode', address: sender.email },
        to: [recipient.email],
        subject: 'Grüße from the test',
        text: 'First line\n.a line starting with a dot\nlast line',
        html: '<p>Hello <b>there</b></p>',
        attachments: [{ filename: 'data.bin', content: Buffer.from([0, 1, 2, 255, 13, 10, 46]) }],
        inReplyTo: '<original@example.test>',
        references: ['<root@example.test>', '<original@example.test>'],
      },
      { transcript: (entry) => transcript.push(entry) },
    );

    expect(result.accepted).toEqual([recipient.email]);
    expect(result.rejected).toEqual([]);
    expect(result.messageId).toMatch(/^<[^@>\s]+@localhost>$/);
    expect(result.response).toMatch(/^250 /);
    const head = result.raw.toString('latin1');
    expect(head).toContain(`Message-ID: ${result.messageId}\r\n`);
    expect(head).toContain('In-Reply-To: <original@example.test>\r\n');
    // Every line ends in CRLF, as on the wire.
    expect(/(^|[^\r])\n/.test(head)).toBe(false);

    const [delivered] = await waitForMessages(recipient, 1);
    expect(endsWithBytes(delivered, result.raw)).toBe(true);
    expect(delivered.toString('latin1')).toMatch(/^Return-Path: <[^>]+@localhost>\r\n/);

    // The password never shows in the transcript; the AUTH command is there, masked.
    const clientLines = transcript.filter((entry) => entry.direction === 'client').map((entry) => entry.line);
    expect(clientLines).toContain('AUTH PLAIN ***');
    expect(transcript.some((entry) => entry.line.includes(sender.password))).toBe(false);
    expect(
      transcript.some((entry) =>
        entry.line.includes(Buffer.from(`\0${sender.username}\0${sender.password}`).toString('base64')),
      ),
    ).toBe(false);
  });

  it('lists a refused recipient in `rejected` while the good one still gets the message', async () => {
    const [sender, recipient] = await Promise.all([createTestUser(info), createTestUser(info)]);
    // The test Postfix accepts (and discards) any well-formed foreign address, including
    // nobody@example.invalid, so the refusal used here is one every Postfix gives: bad syntax.
    const refused = 'nobody@-invalid-.example';
    const result = await sendMessage(
      { endpoint: submission, username: sender.username, password: sender.password },
      { from: sender.email, to: [recipient.email, refused], subject: 'partly refused', text: 'hello' },
    );
    expect(result.accepted).toEqual([recipient.email]);
    expect(result.rejected).toEqual([refused]);
    expect(result.rejectedReasons).toEqual([{ address: refused, serverText: expect.stringMatching(/^501 5\.1\.3 /) }]);
    const [delivered] = await waitForMessages(recipient, 1);
    expect(endsWithBytes(delivered, result.raw)).toBe(true);

    // When every recipient is refused, nothing is sent and the error lists them with the server's words.
    const error = await failure(() =>
      sendMessage(
        { endpoint: submission, username: sender.username, password: sender.password },
        { from: sender.email, to: [refused], subject: 'all refused', text: 'hello' },
      ),
    );
    expect(error.code).toBe('SERVER_ERROR');
    expect(error.message).toMatch(
      /refused every recipient: nobody@-invalid-\.example \(501 5\.1\.3 Bad recipient address syntax\)/,
    );
    expect(error.deliveryUnknown).toBe(false);
  });

  it('sends given raw bytes under a given envelope, with bare line feeds made CRLF as on the wire', async () => {
    const [sender, recipient] = await Promise.all([createTestUser(info), createTestUser(info)]);
    const raw = Buffer.from(
      // With a Date header: Postfix adds one to submitted mail without it, and the tail would differ.
      `From: ${sender.email}\nTo: ${recipient.email}\nSubject: raw\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n` +
        `Message-ID: <raw-1@example.test>\n\n8-bit: caf\xe9\n.\n..\nend`,
      'latin1',
    );
    const result = await sendMessage(
      { endpoint: submissions, username: sender.username, password: sender.password },
      { raw, envelope: { from: sender.email, to: [recipient.email] } },
    );
    expect(result.messageId).toBe('<raw-1@example.test>');
    expect(result.raw.equals(Buffer.from(raw.toString('latin1').replace(/\n/g, '\r\n') + '\r\n', 'latin1'))).toBe(true);
    const [delivered] = await waitForMessages(recipient, 1);
    expect(endsWithBytes(delivered, result.raw)).toBe(true);
  });

  it('refuses a message larger than the server accepts (SIZE, RFC 1870) before sending it', async () => {
    const sender = await createTestUser(info);
    const huge = Buffer.alloc(11 * 1024 * 1024, 'a');
    const error = await failure(() =>
      sendMessage(
        { endpoint: submissions, username: sender.username, password: sender.password },
        {
          raw: Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), huge]),
          envelope: { from: sender.email, to: [sender.email] },
        },
      ),
    );
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toMatch(/larger than .* accepts \(at most 10240000 bytes\)/);
    expect(error.deliveryUnknown).toBe(false);
  });
});

describe('errors, for real', () => {
  it('reports a wrong password as AUTH_FAILED with the server words', async () => {
    const user = await createTestUser(info);
    for (const endpoint of [submission, submissions]) {
      const error = await failure(() => verifySmtp(endpoint, { username: user.username, password: 'wrong' }));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.details.serverText).toMatch(/^535 /);
    }
    await verifySmtp(submissions, { username: user.username, password: user.password });
  });

  it.each([
    ['implicit TLS', 'submissions', 'tls'],
    ['STARTTLS', 'submission', 'starttls'],
  ] as const)(
    'names each bad certificate over %s, and a pinned fingerprint lets a self-signed server in',
    async (_name, port, security) => {
      const user = await createTestUser(info);
      const credentials = { username: user.username, password: user.password };
      const { selfSigned, expired, wrongHost } = info.badTls;
      const endpointOf = (set: typeof selfSigned, pinnedFingerprint: string | null = null): ServerEndpoint => ({
        host: set.host,
        port: set[port],
        security,
        pinnedFingerprint,
      });

      const transcript: TranscriptEntry[] = [];
      const untrusted = await failure(() =>
        verifySmtp(endpointOf(selfSigned), credentials, { transcript: (entry) => transcript.push(entry) }),
      );
      expect(untrusted.code).toBe('CERT_UNTRUSTED');
      expect(untrusted.details.fingerprint).toBe(selfSigned.fingerprint);
      expect(untrusted.message).toMatch(/self-signed/);
      // Nothing but the STARTTLS preamble went out before the certificate was judged.
      expect(transcript.filter((entry) => entry.direction === 'client').map((entry) => entry.line)).toEqual(
        security === 'starttls' ? ['EHLO [127.0.0.1]', 'STARTTLS'] : [],
      );

      const expiredError = await failure(() => verifySmtp(endpointOf(expired), credentials));
      expect(expiredError.code).toBe('CERT_EXPIRED');
      const mismatch = await failure(() => verifySmtp(endpointOf(wrongHost), credentials));
      expect(mismatch.code).toBe('CERT_HOSTNAME_MISMATCH');
      expect(mismatch.message).toMatch(/mail\.example\.org/);

      // Pinned: exactly that certificate is accepted, and mail goes out.
      await verifySmtp(endpointOf(selfSigned, untrusted.details.fingerprint ?? null), credentials);
      const result = await sendMessage(
        { endpoint: endpointOf(selfSigned, selfSigned.fingerprint), ...credentials },
        { from: user.email, to: [user.email], subject: 'pinned', text: 'through a pinned certificate' },
      );
      expect(result.accepted).toEqual([user.email]);
      // A pin for another certificate is refused, with the fingerprint actually presented.
      const changed = await failure(() => verifySmtp(endpointOf(selfSigned, expired.fingerprint), credentials));
      expect(changed.code).toBe('CERT_UNTRUSTED');
      expect(changed.details.fingerprint).toBe(selfSigned.fingerprint);
      expect(changed.message).toMatch(/different certificate/);
    },
  );

  it('refuses a server without STARTTLS before sending anything but EHLO, and never logs in', async () => {
    const user = await createTestUser(info);
    const transcript: TranscriptEntry[] = [];
    const error = await failure(() =>
      verifySmtp(
        { host: info.noTls.host, port: info.noTls.submission, security: 'starttls' },
        { username: user.username, password: user.password },
        { transcript: (entry) => transcript.push(entry) },
      ),
    );
    expect(error.code).toBe('STARTTLS_UNAVAILABLE');
    const sent = transcript.filter((entry) => entry.direction === 'client').map((entry) => entry.line);
    expect(sent).toEqual(['EHLO [127.0.0.1]']);
    expect(transcript.some((entry) => /AUTH/i.test(entry.line) && entry.direction === 'client')).toBe(false);
  });

  it('refuses plaintext unless allowed, before connecting', async () => {
    const user = await createTestUser(info);
    let connections = 0;
    const listener = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as net.AddressInfo).port;
      const error = await failure(() =>
        verifySmtp({ host: '127.0.0.1', port, security: 'none' }, { username: user.username, password: user.password }),
      );
      expect(error.code).toBe('PLAINTEXT_REFUSED');
      expect(connections).toBe(0);
    } finally {
      listener.close();
    }
    // Explicitly allowed: the plain listener works.
    await verifySmtp(
      { host: info.noTls.host, port: info.noTls.submission, security: 'none', allowPlaintext: true },
      { username: user.username, password: user.password },
    );
  });

  it('gives up on a server that never answers, with TIMEOUT', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      for (const security of ['tls', 'starttls', 'none'] as const) {
        const started = performance.now();
        const error = await failure(() =>
          verifySmtp(
            { host: '127.0.0.1', port, security, allowPlaintext: true },
            { username: 'someone', password: 'secret' },
            { timeouts: { connectMs: 300, replyMs: 300 } },
          ),
        );
        expect(error.code, security).toBe('TIMEOUT');
        expect(performance.now() - started).toBeLessThan(3_000);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('reports a closed port as CONNECTION_REFUSED', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer();
      probe.listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const error = await failure(() =>
      verifySmtp({ host: '127.0.0.1', port: closedPort, security: 'tls' }, { username: 'someone', password: 'secret' }),
    );
    expect(error.code).toBe('CONNECTION_REFUSED');
    expect(error.stage).toBe('connect');
  });
});

describe('a connection cut during sending', () => {
  it('after the final ".": the error says delivery is unknown, and indeed the message arrived', async () => {
    const [sender, recipient] = await Promise.all([createTestUser(info), createTestUser(info)]);
    const proxy = await startCuttingProxy(
      { host: info.noTls.host, port: info.noTls.submission },
      (bytes) => /\r\nDATA\r\n[\s\S]*\r\n\.\r\n$/.test(bytes),
      true,
    );
    try {
      const error = await failure(() =>
        sendMessage(
          {
            endpoint: { host: '127.0.0.1', port: proxy.port, security: 'none', allowPlaintext: true },
            username: sender.username,
            password: sender.password,
          },
          { from: sender.email, to: [recipient.email], subject: 'cut after the dot', text: 'maybe sent' },
        ),
      );
      expect(error.code).toBe('CONNECTION_LOST');
      expect(error.stage).toBe('after-data');
      expect(error.deliveryUnknown).toBe(true);
      expect(isDeliveryUnknown(error)).toBe(true);
      expect(error.message).toMatch(/may or may not have been delivered/);
      // The server got the final "." and delivered: a blind retry would have sent it twice.
      const [delivered] = await waitForMessages(recipient, 1);
      expect(delivered.toString('latin1')).toContain('Subject: cut after the dot');
    } finally {
      proxy.close();
    }
  });

  it('before DATA: the error says the message was not sent, and nothing arrives', async () => {
    const [sender, recipient] = await Promise.all([createTestUser(info), createTestUser(info)]);
    const proxy = await startCuttingProxy(
      { host: info.noTls.host, port: info.noTls.submission },
      (bytes) => /\r\nRCPT TO:/.test(bytes),
      false,
    );
    try {
      const error = await failure(() =>
        sendMessage(
          {
            endpoint: { host: '127.0.0.1', port: proxy.port, security: 'none', allowPlaintext: true },
            username: sender.username,
            password: sender.password,
          },
          { from: sender.email, to: [recipient.email], subject: 'cut before data', text: 'not sent' },
        ),
      );
      expect(error.code).toBe('CONNECTION_LOST');
      expect(error.stage).toBe('envelope');
      expect(error.deliveryUnknown).toBe(false);
      expect(error.message).toMatch(/not sent/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await readServerMessages(info, recipient)).toEqual([]);
    } finally {
      proxy.close();
    }
  });
});
