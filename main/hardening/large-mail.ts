/**
 * Very large test messages, put straight into a test user's Maildir on the server without ever
 * holding them in this process's memory (so the memory a download takes can be measured), and a
 * sampler of this process's resident memory.
 *
 * The Maildir delivery follows e2e/mailserver/test-users.ts `putMessages` (tmp/ → rename into
 * cur/, owned by the mail user, then `doveadm force-resync`), streaming instead of from a Buffer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chown, rename } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { runCommand } from '../../e2e/mailserver/processes';
import type { MailServerInfo, TestUser } from '../../e2e/mailserver/types';

export interface PutLargeResult {
  /** Octets of the message file (all line ends CRLF, so also its RFC 5322 size). */
  size: number;
  sha256: string;
  subject: string;
}

/** RFC 2045 section 6.8: 76 characters per base64 line, i.e. 57 octets. */
const OCTETS_PER_LINE = 57;
/** Random octets drawn at a time: 1 MiB of lines. */
const LINES_PER_CHUNK = 18_396;
const CRLF = '\r\n';

let counter = 0;

/**
 * A multipart/mixed message with a short text part and one attachment of `attachmentBytes` random
 * octets in base64 (the message is about 4/3 of that), written into the user's INBOX.
 */
export async function putLargeMessage(
  info: MailServerInfo,
  user: TestUser,
  attachmentBytes: number,
  subject: string,
): Promise<PutLargeResult> {
  counter += 1;
  const unique = `${Math.floor(Date.now() / 1000)}.M${counter}P${process.pid}R${randomBytes(4).toString('hex')}`;
  const temporary = path.join(user.maildir, 'tmp', `${unique}.whereabouts-large`);
  const output = createWriteStream(temporary, { mode: 0o600 });
  const hash = createHash('sha256');
  let size = 0;
  const write = async (chunk: Buffer): Promise<void> => {
    hash.update(chunk);
    size += chunk.length;
    if (!output.write(chunk)) await once(output, 'drain');
  };
  const boundary = `=_large_${randomBytes(8).toString('hex')}`;
  await write(
    Buffer.from(
      [
        'From: Big Sender <big@mail.example>',
        `To: ${user.email}`,
        `Subject: ${subject}`,
        'Date: Mon, 01 Jan 2024 10:00:00 +0000',
        `Message-ID: <${unique}@mail.example>`,
        'MIME-Version: 1.0',
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        `A very large attachment follows (${attachmentBytes} octets).`,
        `--${boundary}`,
        'Content-Type: application/octet-stream; name="large.bin"',
        'Content-Disposition: attachment; filename="large.bin"',
        'Content-Transfer-Encoding: base64',
        '',
        '',
      ].join(CRLF),
    ),
  );
  for (let remaining = attachmentBytes; remaining > 0;) {
    const octets = Math.min(remaining, OCTETS_PER_LINE * LINES_PER_CHUNK);
    const encoded = randomBytes(octets).toString('base64');
    const lines: string[] = [];
    for (let start = 0; start < encoded.length; start += 76) lines.push(encoded.slice(start, start + 76));
    await write(Buffer.from(`${lines.join(CRLF)}${CRLF}`, 'latin1'));
    remaining -= octets;
  }
  await write(Buffer.from(`--${boundary}--${CRLF}`));
  output.end();
  await once(output, 'finish');
  await chown(temporary, info.mailUser.uid, info.mailUser.gid);
  await rename(temporary, path.join(user.maildir, 'cur', `${unique}.whereabouts-large,S=${size},W=${size}:2,`));
  await runCommand('doveadm', ['-c', info.dovecotConfig, 'force-resync', '-u', user.username, 'INBOX']);
  return { size, sha256: hash.digest('hex'), subject };
}

/** Samples this process's resident set size while `work` runs; reports the peak above the start. */
export async function peakMemoryGrowth<T>(
  work: () => Promise<T>,
  intervalMs = 20,
): Promise<{ value: T; growthBytes: number; baselineBytes: number }> {
  const baselineBytes = process.memoryUsage.rss();
  let peak = baselineBytes;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, intervalMs);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growthBytes: peak - baselineBytes, baselineBytes };
  } finally {
    clearInterval(timer);
  }
}
