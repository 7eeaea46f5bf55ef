/**
 * Messages come back byte for byte as the server holds them (SEMANTICS: "Bytes are kept exactly as
 * the server sent them"): 8-bit and invalid UTF-8, lone dots, very long lines, no final CRLF, sizes
 * around the download's range boundaries, a 10 MB attachment — directly, and through a proxy that
 * re-slices the server's stream into 1-byte and random pieces, in plaintext (so the slicing cuts
 * through IMAP literals) and over TLS. A 50 MB download keeps memory flat.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessage, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import type { ServerEndpoint } from '../../../shared/model';
import { startThrottledProxy } from '../../../e2e/support/throttled-proxy';
import { startReslicingProxy, type Slicing } from '../testing/reslicing-proxy';
import type { ImapSession } from './imap-mailbox';
import { RAW_CHUNK_BYTES, SMALL_MESSAGE_MAX_BYTES } from './imapflow-session';
import { CRLF, implicitTls, open, sha256, withSession } from './imap-test-support';

const info = inject('mailServer');
let user: TestUser;
let directory: string;
/** Server bytes in UID order (UIDs 1…n, as put). */
let serverMessages: Buffer[];
let smallUids: number[];
let tenMegabyteUid: number;

function header(subject: string): string {
  return `From: Test <test@localhost>${CRLF}To: User <user@localhost>${CRLF}Subject: ${subject}${CRLF}${CRLF}`;
}

function messageOfSize(size: number): Buffer {
  const head = header(`exactly ${size} bytes`);
  const tail = `${CRLF}.${CRLF}.dot-started line${CRLF}`;
  const line = `${'x'.repeat(998)}${CRLF}`;
  const fillerLength = size - head.length - tail.length;
  let filler = line.repeat(Math.floor(fillerLength / line.length));
  filler += 'y'.repeat(fillerLength - filler.length);
  const bytes = Buffer.from(head + filler + tail, 'latin1');
  if (bytes.length !== size) throw new Error(`built ${bytes.length} bytes, wanted ${size}`);
  return bytes;
}

function craftedMessages(): Buffer[] {
  const eightBit = Buffer.concat([
    Buffer.from(`From: J\xf6rg <j@localhost>${CRLF}Subject: caf\xe9 cr\xe8me${CRLF}${CRLF}`, 'latin1'),
    Buffer.from(`Latin-1: \xe4\xf6\xfc\xdf${CRLF}`, 'latin1'),
    Buffer.from([0x49, 0x6e, 0x76, 0x3a, 0x20, 0xc3, 0x28, 0xff, 0xfe, 0x80, 0xa0, 0x0d, 0x0a]),
    Buffer.from(`UTF-8: \u{1f4ec} Stra\u00dfe${CRLF}`, 'utf8'),
  ]);
  const dots = Buffer.from(
    header('dots') + `.${CRLF}..${CRLF}.leading dot${CRLF}...three${CRLF}text${CRLF}.${CRLF}. ${CRLF}end${CRLF}`,
    'latin1',
  );
  // Looks like IMAP syntax inside the literal: a literal marker and a tagged OK on their own lines.
  const imapLookalike = Buffer.from(
    header('protocol lookalike') + `{12}${CRLF}A1 OK done${CRLF}* BYE${CRLF}`,
    'latin1',
  );
  const longLine = Buffer.from(header('long line') + 'A'.repeat(200 * 1024) + CRLF, 'latin1');
  const noFinalCrlf = Buffer.from(header('no final CRLF') + `first line${CRLF}last line without CRLF`, 'latin1');
  const aroundChunks = [RAW_CHUNK_BYTES - 1, RAW_CHUNK_BYTES, RAW_CHUNK_BYTES + 1, 2 * RAW_CHUNK_BYTES].map(
    messageOfSize,
  );
  return [eightBit, dots, imapLookalike, longLine, noFinalCrlf, ...aroundChunks];
}

function tenMegabyteMessage(): Buffer {
  const attachment = randomBytes(7_500_000).toString('base64').replace(/.{76}/g, `$&${CRLF}`);
  return Buffer.from(
    `From: Test <test@localhost>${CRLF}Subject: big${CRLF}MIME-Version: 1.0${CRLF}` +
      `Content-Type: multipart/mixed; boundary="b"${CRLF}${CRLF}--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}` +
      `see attachment${CRLF}--b${CRLF}Content-Type: application/octet-stream${CRLF}` +
      `Content-Transfer-Encoding: base64${CRLF}Content-Disposition: attachment; filename="a.bin"${CRLF}${CRLF}` +
      `${attachment}${CRLF}--b--${CRLF}`,
    'latin1',
  );
}

async function fileSha256(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const data of createReadStream(filePath)) hash.update(data as Buffer);
  return hash.digest('hex');
}

/** Downloads each UID into its own file; returns the files' SHA-256 in the same order. */
async function downloadAll(session: ImapSession, uids: number[], label: string): Promise<string[]> {
  const hashes: string[] = [];
  for (const uid of uids) {
    const filePath = path.join(directory, `${label}-${uid}.eml`);
    const result = await session.downloadRaw('INBOX', uid, createWriteStream(filePath));
    const fileHash = await fileSha256(filePath);
    expect(result.sha256).toBe(fileHash);
    expect(result.size).toBe(serverMessages[uid - 1].length);
    hashes.push(fileHash);
  }
  return hashes;
}

beforeAll(async () => {
  user = await createTestUser(info);
  directory = await mkdtemp(path.join(tmpdir(), 'imap-bytes-'));
  const crafted = craftedMessages();
  for (const message of crafted) await putMessage(info, user, message);
  await putMessage(info, user, tenMegabyteMessage());
  serverMessages = await readServerMessages(info, user);
  smallUids = crafted.map((_, index) => index + 1);
  tenMegabyteUid = crafted.length + 1;
  expect(serverMessages).toHaveLength(crafted.length + 1);
  // The ground truth is what we put: Dovecot stores the files unchanged.
  crafted.forEach((message, index) => expect(serverMessages[index].equals(message)).toBe(true));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('downloadRaw', () => {
  it('writes every message byte for byte, its SHA-256 equal to the server file’s', async () => {
    await withSession(user, implicitTls(info), async (session) => {
      const uids = [...smallUids, tenMegabyteUid];
      const hashes = await downloadAll(session, uids, 'direct');
      expect(hashes).toEqual(uids.map((uid) => sha256(serverMessages[uid - 1])));
      // No CRLF added: the message without a final line end comes back without one.
      const noFinalCrlf = await readFile(path.join(directory, `direct-5.eml`));
      expect(noFinalCrlf.subarray(-2).toString('latin1')).not.toBe(CRLF);
      expect(noFinalCrlf.subarray(-9).toString('latin1')).toBe('hout CRLF');
    });
  });

  it('reports a message that is not there as NOT_FOUND', async () => {
    await withSession(user, implicitTls(info), async (session) => {
      const filePath = path.join(directory, 'missing.eml');
      await expect(session.downloadRaw('INBOX', 9_999, createWriteStream(filePath))).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });
  });
});

describe('fetchRawSmall', () => {
  it('returns small messages whole and exact, and names the large and the missing ones', async () => {
    await withSession(user, implicitTls(info), async (session) => {
      const result = await session.fetchRawSmall('INBOX', [...smallUids, tenMegabyteUid, 9_999]);
      for (const uid of smallUids) {
        const expected = serverMessages[uid - 1];
        if (expected.length > SMALL_MESSAGE_MAX_BYTES) {
          expect(result.tooLarge).toContain(uid);
        } else {
          expect(result.messages.get(uid)?.equals(expected)).toBe(true);
        }
      }
      expect(result.tooLarge).toContain(tenMegabyteUid);
      expect(result.missing).toEqual([9_999]);
    });
  });
});

describe('fetchRawBatch', () => {
  it('returns many messages from one FETCH, each exact and checked against its RFC822.SIZE, and names the missing', async () => {
    await withSession(user, implicitTls(info), async (session) => {
      const result = await session.fetchRawBatch('INBOX', [...smallUids, 9_999]);
      expect([...result.messages.keys()].sort((left, right) => left - right)).toEqual(smallUids);
      for (const uid of smallUids) expect(result.messages.get(uid)?.equals(serverMessages[uid - 1])).toBe(true);
      expect(result.failed.size).toBe(0);
      expect(result.missing).toEqual([9_999]);
      expect(result.bytes).toBe(smallUids.reduce((sum, uid) => sum + serverMessages[uid - 1].length, 0));
      // The 10 MB message comes whole too when asked for (the caller keeps batches small).
      const big = await session.fetchRawBatch('INBOX', [tenMegabyteUid]);
      expect(big.messages.get(tenMegabyteUid)?.equals(serverMessages[tenMegabyteUid - 1])).toBe(true);
    });
  });

  it('hands on each message as soon as it has arrived, before the rest of the batch (a slow link)', async () => {
    const uids = [...smallUids, tenMegabyteUid];
    // 10 MB at 8 MB/s: the last message ends more than a second after the first ones arrived.
    const proxy = await startThrottledProxy({ host: info.noTls.host, port: info.noTls.imap }, 8 * 1024 * 1024);
    try {
      const endpoint: ServerEndpoint = { host: '127.0.0.1', port: proxy.port, security: 'none', allowPlaintext: true };
      await withSession(user, endpoint, async (session) => {
        const handedOn: Array<{ uid: number; bytes: Buffer; at: number }> = [];
        const result = await session.fetchRawBatch('INBOX', [...uids, 9_999], (uid, bytes) =>
          handedOn.push({ uid, bytes, at: Date.now() }),
        );
        const ended = Date.now();
        expect(handedOn.map((entry) => entry.uid).sort((left, right) => left - right)).toEqual(uids);
        for (const { uid, bytes } of handedOn) expect(bytes).toBe(result.messages.get(uid));
        expect(handedOn.every(({ uid, bytes }) => bytes.equals(serverMessages[uid - 1]))).toBe(true);
        const first = Math.min(...handedOn.map((entry) => entry.at));
        expect(ended - first, 'the first messages were handed on while the 10 MB one was on its way').toBeGreaterThan(
          700,
        );
      });
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe('through a re-slicing proxy', () => {
  // 1-byte pieces cost a write each, so those cases use the messages under 16 KiB (the literal
  // boundaries are what matters); the random cases carry everything, the 10 MB message included.
  const cases: Array<{ name: string; slicing: Slicing; tls: boolean; big: boolean }> = [
    { name: '1-byte pieces, plaintext', slicing: { kind: 'fixed', size: 1 }, tls: false, big: false },
    { name: 'random pieces, plaintext', slicing: { kind: 'random', seed: 7, maximumSize: 700 }, tls: false, big: true },
    { name: '1-byte pieces, TLS', slicing: { kind: 'fixed', size: 1 }, tls: true, big: false },
    { name: 'random pieces, TLS', slicing: { kind: 'random', seed: 11, maximumSize: 3000 }, tls: true, big: true },
  ];
  const SMALL_FOR_ONE_BYTE_PIECES = 16 * 1024;
  for (const testCase of cases) {
    it(`returns identical bytes with ${testCase.name}`, { timeout: 120_000 }, async () => {
      const proxy = await startReslicingProxy({
        targetHost: testCase.tls ? info.host : info.noTls.host,
        targetPort: testCase.tls ? info.ports.imaps : info.noTls.imap,
        slicing: testCase.slicing,
      });
      try {
        // Over TLS the proxy's address is not in the certificate: the certificate is pinned instead.
        const endpoint: ServerEndpoint = testCase.tls
          ? { host: proxy.host, port: proxy.port, security: 'tls', pinnedFingerprint: info.fingerprint }
          : { host: proxy.host, port: proxy.port, security: 'none', allowPlaintext: true };
        const uids = testCase.big
          ? [...smallUids, tenMegabyteUid]
          : smallUids.filter((uid) => serverMessages[uid - 1].length < SMALL_FOR_ONE_BYTE_PIECES);
        await withSession(user, endpoint, async (session) => {
          const label = testCase.name.replace(/\W+/g, '-');
          const hashes = await downloadAll(session, uids, label);
          expect(hashes).toEqual(uids.map((uid) => sha256(serverMessages[uid - 1])));
          const small = await session.fetchRawSmall('INBOX', uids);
          for (const [uid, bytes] of small.messages) expect(bytes.equals(serverMessages[uid - 1])).toBe(true);
          const batch = await session.fetchRawBatch('INBOX', uids);
          expect(batch.messages.size).toBe(uids.length);
          for (const [uid, bytes] of batch.messages) expect(bytes.equals(serverMessages[uid - 1])).toBe(true);
        });
        expect(proxy.serverWrites).toBeGreaterThan(500);
      } finally {
        await proxy.close();
      }
    });
  }
});

/** Puts a 50 MB message; the buffer lives only inside this function. */
async function putFiftyMegabytes(owner: TestUser): Promise<{ expectedHash: string; expectedSize: number }> {
  const lineText = `${'z'.repeat(998)}${CRLF}`;
  const message = Buffer.from(header('fifty megabytes') + lineText.repeat(50 * 1024), 'latin1');
  await putMessage(info, owner, message);
  return { expectedHash: sha256(message), expectedSize: message.length };
}

describe('memory', () => {
  it('downloads 50 MB with little memory growth', { timeout: 120_000 }, async () => {
    const bigUser = await createTestUser(info);
    const { expectedHash, expectedSize } = await putFiftyMegabytes(bigUser);
    // Release the test's own 50 MB (out of scope now) before measuring, so the baseline is honest.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const filePath = path.join(directory, 'fifty.eml');
    const session = await open(bigUser, implicitTls(info));
    try {
      const before = process.memoryUsage();
      const peak = { rss: before.rss, arrayBuffers: before.arrayBuffers };
      const sample = (): void => {
        const now = process.memoryUsage();
        peak.rss = Math.max(peak.rss, now.rss);
        peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
      };
      const sampler = setInterval(sample, 10);
      const startedAt = performance.now();
      const result = await session.downloadRaw('INBOX', 1, createWriteStream(filePath));
      const elapsedMs = performance.now() - startedAt;
      clearInterval(sampler);
      sample();
      const mebibytes = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
      console.log(
        `50 MB download: ${Math.round(elapsedMs)} ms; growth RSS ${mebibytes(peak.rss - before.rss)} MiB, ` +
          `Buffers ${mebibytes(peak.arrayBuffers - before.arrayBuffers)} MiB (RSS before ${mebibytes(before.rss)} MiB)`,
      );
      expect(result.size).toBe(expectedSize);
      expect(await fileSha256(filePath)).toBe(expectedHash);
      // Loose: holding the message would add at least 50 MiB (measured: ~70 MiB when the chunks are
      // kept). The Buffer figure is printed only: it counts garbage not yet collected.
      expect((peak.rss - before.rss) / 1024 / 1024).toBeLessThan(40);
    } finally {
      await session.close();
    }
  });
});
