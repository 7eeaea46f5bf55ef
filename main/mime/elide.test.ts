import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { countBase64, decodedBase64Size, elideAttachmentBodies, MIN_ELIDED_BODY_BYTES } from './elide';
import { openTestStore, temporaryProfile, testAccount } from '../store/test-fixtures';
import { parseMessage, type ParseInput, type ParseOptions, type ParseResult } from './parse';

const CORPUS = '/work/shared/mail-corpus';

function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

/**
 * A parse that counts attachment bodies gives what a parse that decodes them gives (the reference,
 * `elide: false`), and so does one for the index, without the decoded parts.
 */
async function expectElidedAsFull(source: ParseInput, options: ParseOptions = {}): Promise<ParseResult> {
  const reference = await parseMessage(source, { ...options, elide: false });
  expect(await parseMessage(source, options)).toEqual(reference);
  const indexed = await parseMessage(source, { ...options, indexOnly: true });
  expect(indexed).toEqual({ ...reference, parts: [] });
  return indexed;
}

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('counting base64 instead of decoding it', () => {
  it('gives the size the decoder gives, for every length and padding', () => {
    for (let length = 0; length <= 64; length += 1) {
      const encoded = randomBytes(length).toString('base64');
      const unpadded = encoded.replace(/=+$/, '');
      const body = Buffer.from(`${encoded.replace(/.{7}/g, '$&\r\n')}`, 'latin1');
      expect(decodedBase64Size(countBase64(body, 0, body.length))).toBe(length);
      expect(decodedBase64Size(unpadded.length)).toBe(Buffer.from(unpadded, 'base64').length);
    }
  });

  it('reads the same at any alignment, and refuses anything but the alphabet, line breaks and final padding', () => {
    const encoded = Buffer.from(`xx${randomBytes(3000).toString('base64').replace(/.{76}/g, '$&\r\n')}yy`, 'latin1');
    for (let offset = 2; offset < 6; offset += 1) {
      const end = encoded.length - 2 - (offset - 2);
      const expected = encoded.toString('latin1', offset, end).replace(/[\r\n=]/g, '').length;
      expect(countBase64(encoded, offset, end)).toBe(expected);
    }
    for (const junk of [' ', '-', '\t', '*', '\0', '\u00e9']) {
      const body = Buffer.from(`QUJD\r\nRE${junk}VG\r\n`, 'latin1');
      expect(countBase64(body, 0, body.length), JSON.stringify(junk)).toBe(-1);
    }
    expect(countBase64(Buffer.from('QQ==\r\nQUJD'), 0, 10)).toBe(-1);
    expect(countBase64(Buffer.from('QUI=\r\n'), 0, 6)).toBe(3);
  });
});

describe('a parse leaves attachment bodies out', () => {
  it('gives the same facts as a full parse for nested parts, inline images and attached messages', async () => {
    const image = randomBytes(40_000);
    const inner = await compose({
      from: 'inner@example.org',
      subject: 'Forwarded',
      text: 'the inner text',
      attachments: [{ filename: 'inner.bin', content: randomBytes(9_000) }],
    });
    const source = await compose({
      from: 'Sender <sender@example.org>',
      to: 'you@example.org',
      subject: 'Holiday photos',
      text: 'plain words',
      html: '<p>html words <img src="cid:photo@x"></p>',
      attachments: [
        { filename: 'photo.jpg', content: image, cid: 'photo@x' },
        { filename: 'report.pdf', content: randomBytes(123_457) },
        { filename: 'empty.bin', content: Buffer.alloc(0) },
        { filename: 'small.png', content: randomBytes(100) },
        { filename: 'notes.txt', content: 'text attachments are indexed as they are'.repeat(200) },
        { filename: 'forwarded.eml', content: inner, contentType: 'message/rfc822', contentTransferEncoding: 'base64' },
      ],
    });
    const elision = elideAttachmentBodies(source);
    expect(elision?.sizes).toEqual([40_000, 123_457, inner.length]);
    expect(elision?.source.length).toBeLessThan(source.length / 10);
    const indexed = await expectElidedAsFull(source);
    expect(indexed.attachments.map(({ filename, size }) => [filename, size])).toEqual([
      ['photo.jpg', 40_000],
      ['report.pdf', 123_457],
      ['empty.bin', 0],
      ['small.png', 100],
      ['notes.txt', 8_000],
      ['forwarded.eml', inner.length],
    ]);
  });

  it('reads bare-LF messages, bodies without padding, and a multipart cut short', async () => {
    const body = randomBytes(6_001).toString('base64').replace(/=+$/, '').replace(/.{60}/g, '$&\n');
    const lines = [
      'Content-Type: multipart/mixed; boundary="outer b"',
      '',
      '--outer b',
      'Content-Type: text/plain',
      '',
      'words',
      '--outer b',
      'Content-Type: application/zip; name=a.zip',
      'Content-Transfer-Encoding: BASE64',
      '',
      body,
      '--outer b--',
    ];
    const bareLf = Buffer.from(lines.join('\n'));
    expect(elideAttachmentBodies(bareLf)?.sizes).toEqual([6_001]);
    expect((await expectElidedAsFull(bareLf)).attachments[0].size).toBe(6_001);
    const cut = crlf(lines.slice(0, -1));
    expect(elideAttachmentBodies(cut)?.sizes).toEqual([6_001]);
    await expectElidedAsFull(cut);
  });

  it('leaves bodies with anything but base64 in them, and small ones, to the parser', async () => {
    const encoded = randomBytes(5_000).toString('base64').replace(/.{76}/g, '$&\r\n');
    const part = (type: string, content: string) => [
      '--b',
      `Content-Type: ${type}`,
      'Content-Transfer-Encoding: base64',
      '',
      content,
    ];
    const source = crlf([
      'Content-Type: multipart/mixed; boundary=b',
      '',
      ...part('image/png', `${encoded.slice(0, 900)} ${encoded.slice(900)}`),
      ...part('image/png', `${encoded.slice(0, 900)}=${encoded.slice(900)}`),
      ...part('image/png', encoded.slice(0, MIN_ELIDED_BODY_BYTES - 100)),
      ...part('text/plain', encoded),
      '--b--',
    ]);
    expect(elideAttachmentBodies(source)).toBeNull();
    await expectElidedAsFull(source);
  });

  it('parses the whole message again when mailparser reads its structure otherwise than the scanner', async () => {
    // Two boundary parameters: the scanner takes the first, mailsplit the last. By the first, part
    // 2 is a base64 image; mailsplit sees one text part holding all of it.
    const encoded = randomBytes(4_000).toString('base64').replace(/.{76}/g, '$&\r\n');
    const source = crlf([
      'Content-Type: multipart/mixed; boundary="first"; boundary="second"',
      '',
      '--second',
      'Content-Type: text/plain',
      '',
      '--first',
      'Content-Type: text/plain',
      '',
      'hello',
      '--first',
      'Content-Type: image/png',
      'Content-Transfer-Encoding: base64',
      '',
      encoded,
      '--first--',
      '--second--',
    ]);
    const elision = elideAttachmentBodies(source);
    expect(elision?.sizes).toEqual([4_000]);
    // The scanner was fooled: the shortened message reads differently…
    const misread = await parseMessage(elision?.source ?? Buffer.alloc(0), { elide: false });
    const full = await parseMessage(source, { elide: false });
    expect(misread.bodyText).not.toEqual(full.bodyText);
    // …and the parse for the index noticed, and parsed the original.
    const indexed = await expectElidedAsFull(source);
    expect(indexed.bodyText).toContain(encoded.slice(0, 76));
  });

  it('does not shorten a message longer than the parser reads, which would move the cut', async () => {
    const source = await compose({
      text: 'before',
      attachments: [
        { filename: 'big.bin', content: randomBytes(60_000) },
        { filename: 'after.txt', content: 'after the cut' },
      ],
    });
    const cut = await expectElidedAsFull(source, { maxInputBytes: 50_000 });
    expect(cut.attachments.map((attachment) => attachment.filename)).not.toContain('after.txt');
  });

  it('reads a stored file whole to leave its attachments out, unless it is longer than the parser reads', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'wb-elide-'));
    try {
      const path = join(directory, 'message.eml');
      writeFileSync(
        path,
        await compose({
          text: 'stored text',
          attachments: [
            { filename: 'big.bin', content: randomBytes(300_000) },
            { filename: 'after.txt', content: 'after' },
          ],
        }),
      );
      const indexed = await expectElidedAsFull({ path });
      expect(indexed.attachments.map((attachment) => attachment.size)).toEqual([300_000, 5]);
      // Longer than the parser reads: streamed and cut, as a full parse is.
      const cut = await expectElidedAsFull({ path }, { maxInputBytes: 100_000 });
      expect(cut.parseWarning).toMatch(/Only the first/);
      // A file that is gone: the same warning as for a full parse, nothing thrown.
      const gone = await expectElidedAsFull({ path: join(directory, 'gone.eml') });
      expect(gone.parseWarning).toMatch(/could not be read/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('opens a stored message with its attachments listed at their size, and gives each one whole', async () => {
    const profile = temporaryProfile('wb-elide-store-');
    const store = await openTestStore(profile.directory);
    try {
      await store.upsertAccount(testAccount('elide', 'pop3'));
      const folder = await store.upsertFolder({ accountId: 'elide', kind: 'local', path: 'Inbox' });
      const photo = randomBytes(2_500_001);
      const report = randomBytes(70_000);
      const source = await compose({
        subject: 'Photos',
        text: 'two files',
        attachments: [
          { filename: 'photo.jpg', content: photo },
          { filename: 'report.pdf', content: report },
        ],
      });
      expect(elideAttachmentBodies(source)?.sizes).toEqual([2_500_001, 70_000]);
      const { record } = await store.insertMessage({ folderId: folder.id, source });
      const detail = await store.getMessageDetail(record.id);
      expect(detail.parts?.map((part) => part.content.trim())).toEqual(['two files']);
      expect(detail.attachments.map(({ filename, size }) => [filename, size])).toEqual([
        ['photo.jpg', 2_500_001],
        ['report.pdf', 70_000],
      ]);
      const [first, second] = detail.attachments;
      expect((await store.getAttachment(record.id, first.partId)).content.equals(photo)).toBe(true);
      expect((await store.getAttachment(record.id, second.partId)).content.equals(report)).toBe(true);
    } finally {
      store.close();
      profile.remove();
    }
  });

  it('gives the same facts as a full parse for every message of the corpus', async () => {
    const [, ...rows] = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
    let elided = 0;
    for (const row of rows) {
      const path = row.split('\t')[0];
      const source = readFileSync(join(CORPUS, path));
      if (elideAttachmentBodies(source)) elided += 1;
      const reference = await parseMessage(source, { elide: false });
      expect(await parseMessage(source), path).toEqual(reference);
      expect(await parseMessage(source, { indexOnly: true }), path).toEqual({ ...reference, parts: [] });
    }
    // The corpus has real attachments: the comparison covers elided messages, not only others.
    expect(elided).toBeGreaterThan(10);
  }, 60_000);
});
