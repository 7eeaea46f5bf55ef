import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { MailError } from '../../shared/errors';
import { deleteMessage, ensureMaildir, readMessage, setFlags, sweepTmp, writeMessage } from './maildir';
import { parseMaildirName } from './maildir-name';

const MEGABYTE = 1024 * 1024;
const roots: string[] = [];

function folder(): string {
  const root = mkdtempSync(join(tmpdir(), 'wb-maildir-'));
  roots.push(root);
  return join(root, 'folder');
}

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('Maildir writes are byte-exact', () => {
  const samples: Record<string, Buffer> = {
    '8-bit header and body': Buffer.concat([
      Buffer.from('Subject: caf'),
      Buffer.from([0xe9, 0xff, 0x00, 0x80]),
      Buffer.from('\r\n\r\nbody \xfc\r\n', 'latin1'),
    ]),
    'CRLF with a long line': Buffer.from(`Subject: x\r\n\r\n${'a'.repeat(5000)}\r\n`),
    'bare LF and no final line break': Buffer.from('Subject: x\n\nno newline at the end'),
    empty: Buffer.alloc(0),
  };

  for (const [label, bytes] of Object.entries(samples)) {
    it(`stores ${label} exactly and reports its sha256`, async () => {
      const directory = folder();
      await ensureMaildir(directory);
      const written = await writeMessage(directory, bytes, { flags: ['\\Seen'] });
      expect(written.path.startsWith(join(directory, 'cur'))).toBe(true);
      expect(readFileSync(written.path).equals(bytes)).toBe(true);
      expect(written.sha256).toBe(sha256(bytes));
      expect(written.size).toBe(bytes.length);
      expect(parseMaildirName(written.fileName)).toMatchObject({ size: bytes.length, flags: ['\\Seen'] });
      expect(readdirSync(join(directory, 'tmp'))).toEqual([]);
    });
  }

  it('stores a 10 MB message with random bytes exactly', async () => {
    const directory = folder();
    await ensureMaildir(directory);
    const bytes = Buffer.alloc(10 * MEGABYTE);
    for (let offset = 0; offset < bytes.length; offset += 4) bytes.writeUInt32LE((offset * 2654435761) >>> 0, offset);
    const written = await writeMessage(directory, bytes);
    expect((await readMessage(written.path)).equals(bytes)).toBe(true);
    expect(written.sha256).toBe(sha256(bytes));
  });

  it('streams a 50 MB message to disk without holding it in memory', async () => {
    const directory = folder();
    await ensureMaildir(directory);
    const chunkBytes = 64 * 1024;
    const totalBytes = 50 * MEGABYTE;
    const expected = createHash('sha256');
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent >= totalBytes) {
          this.push(null);
          return;
        }
        const chunk = Buffer.alloc(chunkBytes, sent / chunkBytes);
        expected.update(chunk);
        sent += chunk.length;
        peak = Math.max(peak, process.memoryUsage().rss);
        this.push(chunk);
      },
    });
    const written = await writeMessage(directory, source);
    const growthMegabytes = (peak - baseline) / MEGABYTE;
    process.stdout.write(`streaming 50 MB write: RSS grew by ${growthMegabytes.toFixed(1)} MB\n`);
    expect(written.size).toBe(totalBytes);
    expect(written.sha256).toBe(expected.digest('hex'));
    expect(growthMegabytes).toBeLessThan(100);
  });
});

describe('Maildir housekeeping', () => {
  it('sweeps orphans of interrupted writes from tmp/', async () => {
    const directory = folder();
    await ensureMaildir(directory);
    writeFileSync(join(directory, 'tmp', '1700000000.deadbeef.host'), 'half a mess');
    expect(await sweepTmp(directory)).toBe(1);
    expect(readdirSync(join(directory, 'tmp'))).toEqual([]);
  });

  it('changes flags by renaming, keeping the bytes and the identity', async () => {
    const directory = folder();
    await ensureMaildir(directory);
    const bytes = Buffer.from('Subject: flags\r\n\r\nx\r\n');
    const written = await writeMessage(directory, bytes, { imap: { uidvalidity: 9, uid: 3 } });
    const renamed = await setFlags(written.path, ['\\Seen', '\\Answered']);
    expect(readdirSync(join(directory, 'cur'))).toEqual([renamed.slice(renamed.lastIndexOf('/') + 1)]);
    expect(parseMaildirName(renamed.slice(renamed.lastIndexOf('/') + 1))).toMatchObject({
      id: written.id,
      imap: { uidvalidity: 9, uid: 3 },
      flags: ['\\Answered', '\\Seen'],
    });
    expect(readFileSync(renamed).equals(bytes)).toBe(true);
    await deleteMessage(renamed);
    await deleteMessage(renamed);
    expect(readdirSync(join(directory, 'cur'))).toEqual([]);
  });
});

describe('a full disk', () => {
  it('fails with DISK_FULL, removes the partial file and keeps what was stored', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wb-full-'));
    roots.push(root);
    const { execFileSync } = await import('node:child_process');
    // A real 1 MB file system (tests run as root, as the test mail servers need).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root]);
    try {
      const directory = join(root, 'folder');
      await ensureMaildir(directory);
      const kept = Buffer.from('Subject: kept\r\n\r\nstill here\r\n');
      const first = await writeMessage(directory, kept);
      const error = await writeMessage(directory, Buffer.alloc(2 * MEGABYTE, 0x61)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MailError);
      expect((error as MailError).code).toBe('DISK_FULL');
      expect((error as MailError).message).toMatch(/disk is full/);
      expect(readdirSync(join(directory, 'tmp'))).toEqual([]);
      expect(readdirSync(join(directory, 'cur'))).toEqual([first.fileName]);
      expect(readFileSync(first.path).equals(kept)).toBe(true);
      // A stream fails the same way, and the source stream is released.
      const stream = Readable.from([Buffer.alloc(MEGABYTE), Buffer.alloc(MEGABYTE)]);
      await expect(writeMessage(directory, stream)).rejects.toMatchObject({ code: 'DISK_FULL' });
      expect(stream.destroyed).toBe(true);
      expect(readdirSync(join(directory, 'tmp'))).toEqual([]);
    } finally {
      execFileSync('umount', [root]);
    }
  });
});
