/**
 * The POP3 adapter against the real test Dovecot: bytes come back exactly as the server holds
 * them, however the stream is sliced on the way, and pipelining gives the same bytes faster.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessage, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { startReslicingProxy, type ReslicingProxy, type Slicing } from '../testing/reslicing-proxy';
import { Pop3Client, type Pop3ConnectOptions } from './pop3-client';
import { openPop3Mailbox, type Pop3Mailbox } from './pop3-mailbox';

const server = inject('mailServer');
const CRLF = '\r\n';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

function header(subject: string): string {
  return `From: Test <test@localhost>${CRLF}To: User <user@localhost>${CRLF}Subject: ${subject}${CRLF}${CRLF}`;
}

/** A message of exactly `size` bytes whose last lines are a lone "." and a line starting with "." */
function messageOfSize(size: number): Buffer {
  const head = header(`exactly ${size} bytes`);
  const tail = `${CRLF}.${CRLF}.dot-started line${CRLF}`;
  const fillerLength = size - head.length - tail.length;
  const line = `${'x'.repeat(998)}${CRLF}`;
  let filler = line.repeat(Math.floor(fillerLength / line.length));
  filler += 'y'.repeat(fillerLength - filler.length);
  const bytes = Buffer.from(head + filler + tail, 'latin1');
  if (bytes.length !== size) throw new Error(`built ${bytes.length} bytes, wanted ${size}`);
  return bytes;
}

const BOUNDARY_SIZES = [65_535, 65_536, 65_537, 131_071, 131_072, 131_073];

/** The crafted messages (small and medium); the 10 MB one is added separately where needed. */
function craftedMessages(): Buffer[] {
  const eightBit = Buffer.concat([
    Buffer.from(`From: J\xf6rg <j@localhost>${CRLF}Subject: caf\xe9 cr\xe8me${CRLF}${CRLF}`, 'latin1'),
    Buffer.from('Latin-1: \xe4\xf6\xfc\xdf\r\n', 'latin1'),
    Buffer.from([0x49, 0x6e, 0x76, 0x61, 0x6c, 0x69, 0x64, 0x3a, 0x20, 0xc3, 0x28, 0xff, 0xfe, 0x80, 0xa0, 0x0d, 0x0a]),
    Buffer.from('UTF-8: \u{1f4ec} Stra\u00dfe\r\n', 'utf8'),
  ]);
  const dots = Buffer.from(
    header('dots') +
      `.${CRLF}..${CRLF}.leading dot${CRLF}...three${CRLF}text${CRLF}.${CRLF}.${CRLF}. ${CRLF}end${CRLF}`,
    'latin1',
  );
  const firstBodyLineDot = Buffer.from(header('first body line is a dot') + `.${CRLF}`, 'latin1');
  const longLine = Buffer.from(header('long line') + 'A'.repeat(100 * 1024) + CRLF, 'latin1');
  const noFinalCrlf = Buffer.from(header('no final CRLF') + `first line${CRLF}last line without CRLF`, 'latin1');
  return [eightBit, dots, firstBodyLineDot, longLine, noFinalCrlf, ...BOUNDARY_SIZES.map(messageOfSize)];
}

function tenMegabyteMessage(): Buffer {
  const attachment = randomBytes(7_500_000).toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  return Buffer.from(
    `From: Test <test@localhost>${CRLF}Subject: big attachment${CRLF}MIME-Version: 1.0${CRLF}` +
      `Content-Type: multipart/mixed; boundary="b"${CRLF}${CRLF}--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}` +
      `see attachment${CRLF}--b${CRLF}Content-Type: application/octet-stream${CRLF}` +
      `Content-Transfer-Encoding: base64${CRLF}${CRLF}${attachment}${CRLF}--b--${CRLF}`,
    'latin1',
  );
}

/** What POP3 must deliver for a server file: the file, plus CRLF if it lacked a final one (RFC 1939 §3). */
function expectedOverPop3(file: Buffer): Buffer {
  return file.subarray(-2).toString('latin1') === CRLF ? file : Buffer.concat([file, Buffer.from(CRLF)]);
}

function tlsOptions(user: TestUser, overrides: Partial<Pop3ConnectOptions> = {}): Pop3ConnectOptions {
  return {
    host: server.host,
    port: server.ports.pop3s,
    security: 'tls',
    username: user.username,
    password: user.password,
    timeouts: { commandMs: 15_000 },
    ...overrides,
  };
}

async function retrieveAll(mailbox: Pop3Mailbox): Promise<Buffer[]> {
  const listing = await mailbox.list();
  const messages: Buffer[] = [];
  for (const { number } of listing) messages.push(await mailbox.retrieve(number));
  return messages;
}

function expectSameMessages(actual: Buffer[], serverFiles: Buffer[]): void {
  // Hashes, not toEqual: vitest compares buffers byte by byte, seconds for 10 MB.
  expect(actual.map(sha256)).toEqual(serverFiles.map(expectedOverPop3).map(sha256));
}

describe('POP3 against Dovecot: byte-exact RETR', () => {
  let user: TestUser;
  let serverFiles: Buffer[];

  beforeAll(async () => {
    user = await createTestUser(server);
    for (const message of [...craftedMessages(), tenMegabyteMessage()]) await putMessage(server, user, message);
    serverFiles = await readServerMessages(server, user);
  });

  it('returns every crafted message, 8-bit, dots, long lines and 10 MB included, with the server file’s SHA-256', async () => {
    const mailbox = await openPop3Mailbox(tlsOptions(user));
    try {
      const messages = await retrieveAll(mailbox);
      expect(messages).toHaveLength(serverFiles.length);
      expectSameMessages(messages, serverFiles);
      // The message without a final CRLF arrives with exactly one added (all others unchanged).
      const noFinalCrlf = serverFiles.findIndex((file) => file.subarray(-2).toString() !== CRLF);
      expect(messages[noFinalCrlf].length).toBe(serverFiles[noFinalCrlf].length + 2);
      // node-pop3 would have turned these into U+FFFD: the raw 8-bit bytes are there.
      expect(messages[0].includes(Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80]))).toBe(true);
    } finally {
      await mailbox.quit();
    }
  });

  it('reports STAT, LIST and UIDL consistent with the server files, and TOP gives the header', async () => {
    const mailbox = await openPop3Mailbox(tlsOptions(user));
    try {
      const status = await mailbox.stat();
      const listing = await mailbox.list();
      const identities = await mailbox.uidl();
      expect(status.messageCount).toBe(serverFiles.length);
      expect(listing.map((entry) => entry.number)).toEqual(serverFiles.map((_, index) => index + 1));
      expect(listing.map((entry) => entry.size)).toEqual(serverFiles.map((file) => file.length));
      expect(status.totalBytes).toBe(serverFiles.reduce((sum, file) => sum + file.length, 0));
      expect(new Set(identities.map((identity) => identity.uid)).size).toBe(serverFiles.length);
      const top = await mailbox.top(2, 0);
      const headerEnd = serverFiles[1].indexOf(`${CRLF}${CRLF}`) + 4;
      expect(top.equals(serverFiles[1].subarray(0, headerEnd))).toBe(true);
    } finally {
      await mailbox.quit();
    }
  });

  it('streams a 10 MB message into a writable without changing a byte', async () => {
    const mailbox = await openPop3Mailbox(tlsOptions(user));
    try {
      const parts: Buffer[] = [];
      let writes = 0;
      const destination = new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          writes += 1;
          parts.push(chunk);
          setImmediate(callback); // a slow disk: exercises backpressure
        },
      });
      const biggest = serverFiles.length;
      const byteCount = await mailbox.retrieveTo(biggest, destination);
      expect(byteCount).toBe(serverFiles[biggest - 1].length);
      expect(sha256(Buffer.concat(parts))).toBe(sha256(serverFiles[biggest - 1]));
      expect(writes).toBeGreaterThan(1); // it really streamed
    } finally {
      await mailbox.quit();
    }
  });

  it('logs in with STLS on port 110, with USER/PASS and with SASL PLAIN, and gets the same bytes', async () => {
    for (const authentication of ['user-pass', 'sasl-plain'] as const) {
      const mailbox = await Pop3Client.connect(
        tlsOptions(user, { port: server.ports.pop3, security: 'starttls', authentication }),
      );
      try {
        expect(mailbox.capabilities.stls).toBe(false); // RFC 2595: not offered again once secured
        expect(mailbox.capabilities.known).toBe(true);
        expect(sha256(await mailbox.retrieve(2))).toBe(sha256(serverFiles[1]));
      } finally {
        await mailbox.quit();
      }
    }
  });
});

describe('POP3 through a re-slicing proxy: same bytes, no hang', () => {
  let user: TestUser;
  let serverFiles: Buffer[];
  const proxies: ReslicingProxy[] = [];

  beforeAll(async () => {
    user = await createTestUser(server);
    // Small and boundary messages: 1-byte slicing of 10 MB would take minutes.
    for (const message of craftedMessages()) await putMessage(server, user, message);
    serverFiles = await readServerMessages(server, user);
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
  });

  async function throughProxy(slicing: Slicing, plain: boolean, numbers?: number[]): Promise<number> {
    const proxy = await startReslicingProxy({
      targetHost: plain ? server.noTls.host : server.host,
      targetPort: plain ? server.noTls.pop3 : server.ports.pop3s,
      slicing,
    });
    proxies.push(proxy);
    const options: Pop3ConnectOptions = plain
      ? { ...tlsOptions(user), security: 'none', allowPlaintext: true, host: proxy.host, port: proxy.port }
      : // The certificate is issued for 127.0.0.1 too, so the proxy's address verifies.
        { ...tlsOptions(user), host: proxy.host, port: proxy.port };
    const mailbox = await openPop3Mailbox({ ...options, timeouts: { commandMs: 10_000 } });
    try {
      const wanted = numbers ?? serverFiles.map((_, index) => index + 1);
      const messages: Buffer[] = [];
      for (const number of wanted) messages.push(await mailbox.retrieve(number));
      expectSameMessages(
        messages,
        wanted.map((number) => serverFiles[number - 1]),
      );
    } finally {
      await mailbox.quit();
    }
    return proxy.serverWrites;
  }

  const small = [1, 2, 3, 5]; // 8-bit, dots, first-line dot, no final CRLF
  const boundary = [7]; // 65 536 bytes

  it('plaintext POP3 framing, every byte its own write', async () => {
    const writes = await throughProxy({ kind: 'fixed', size: 1 }, true, [...small, ...boundary]);
    expect(writes).toBeGreaterThan(65_536);
  });

  it('plaintext POP3 framing, random write sizes (seeded), all messages', async () => {
    await throughProxy({ kind: 'random', seed: 1939, maximumSize: 700 }, true);
  });

  it('TLS records split into single bytes', async () => {
    await throughProxy({ kind: 'fixed', size: 1 }, false, small);
  });

  it('TLS records split at random (seeded), all messages', async () => {
    await throughProxy({ kind: 'random', seed: 2449, maximumSize: 3000 }, false);
  });
});

describe('POP3 DELE, RSET and QUIT (RFC 1939 §6: deletions happen only at QUIT)', () => {
  it('RSET undoes DELE, a dropped session deletes nothing, QUIT deletes what was marked', async () => {
    const user = await createTestUser(server);
    for (const subject of ['one', 'two', 'three']) await putMessage(server, user, Buffer.from(header(subject)));
    const before = await readServerMessages(server, user);

    const resetting = await openPop3Mailbox(tlsOptions(user));
    await resetting.delete(1);
    await resetting.reset();
    await resetting.quit();
    expect(await readServerMessages(server, user)).toHaveLength(3);

    const dropped = await openPop3Mailbox(tlsOptions(user));
    await dropped.delete(1);
    dropped.close();
    // Dovecot notices the closed connection asynchronously; the next session must still see all 3.
    const checking = await Pop3Client.connect(tlsOptions(user));
    await checking.noop();
    expect((await checking.stat()).messageCount).toBe(3);
    await checking.delete(2);
    await expect(checking.retrieve(2)).rejects.toMatchObject({ code: 'SERVER_ERROR' });
    await checking.quit();

    const after = await readServerMessages(server, user);
    expect(after.map(sha256)).toEqual([before[0], before[2]].map(sha256));
  });
});

describe('POP3 PIPELINING (RFC 2449)', () => {
  it('retrieveMany gives the same bytes as one RETR at a time', async () => {
    const user = await createTestUser(server);
    for (let index = 0; index < 40; index += 1) {
      await putMessage(
        server,
        user,
        Buffer.from(header(`message ${index}`) + `${'z'.repeat(2000)}${CRLF}`.repeat((index % 7) + 1)),
      );
    }
    const serverFiles = await readServerMessages(server, user);
    const numbers = serverFiles.map((_, index) => index + 1);
    const mailbox = await Pop3Client.connect(tlsOptions(user));
    try {
      expect(mailbox.capabilities.pipelining).toBe(true);
      let started = performance.now();
      const sequential: Buffer[] = [];
      for (const number of numbers) sequential.push(await mailbox.retrieve(number));
      const sequentialMs = performance.now() - started;

      started = performance.now();
      const pipelined: Buffer[] = [];
      const order: number[] = [];
      await mailbox.retrieveMany(numbers, async (number, bytes) => {
        order.push(number);
        pipelined[number - 1] = bytes;
      });
      const pipelinedMs = performance.now() - started;

      expect(order).toEqual(numbers);
      expect(pipelined.map(sha256)).toEqual(sequential.map(sha256));
      expectSameMessages(pipelined, serverFiles);
      console.log(
        `POP3 ${numbers.length} messages over TLS: sequential ${sequentialMs.toFixed(1)} ms, ` +
          `pipelined ${pipelinedMs.toFixed(1)} ms (×${(sequentialMs / pipelinedMs).toFixed(2)})`,
      );
    } finally {
      await mailbox.quit();
    }
  });
});
