import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_HEADER_BYTES, MAX_NESTING_DEPTH, PREVIEW_CHARS, parseMessage, previewOf, threadIdOf } from './parse';
import { htmlToText } from './html-text';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));

describe('parsing a message', () => {
  it('decodes encoded headers, keeps a bad Date as null, and threads by the References root', async () => {
    const parsed = await parseMessage(
      crlf([
        'From: =?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>',
        'To: a@example.org, "Group member" <b@example.org>',
        'Subject: =?UTF-8?B?w4Rwc2VsIHVuZA==?= =?UTF-8?Q?_Birnen?=',
        'Date: not a date at all',
        'Message-ID: <child@example.org>',
        'In-Reply-To: <parent@example.org>',
        'References: <root@example.org> <parent@example.org>',
        '',
        'Body',
      ]),
    );
    expect(parsed.envelope).toMatchObject({
      subject: 'Äpsel und Birnen',
      from: { name: 'André Pirard', address: 'pirard@example.be' },
      to: [
        { name: '', address: 'a@example.org' },
        { name: 'Group member', address: 'b@example.org' },
      ],
      date: null,
      references: ['<root@example.org>', '<parent@example.org>'],
    });
    expect(parsed.threadId).toBe('<root@example.org>');
    expect(threadIdOf({ messageId: '<own@x>', inReplyTo: null, references: [] })).toBe('<own@x>');
    expect(parsed.parseWarning).toBeNull();
  });

  it('shows the preferred alternative, indexes the plain one, and keeps each HTML part separate with IMAP part numbers', async () => {
    const source = crlf([
      'Subject: parts',
      'Content-Type: multipart/mixed; boundary=outer',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain',
      '',
      'plain words here',
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>html <b>words</b></p>',
      '--inner--',
      '--outer',
      'Content-Type: text/html',
      '',
      '<div>second html part</div>',
      '--outer',
      'Content-Type: application/pdf; name="report.pdf"',
      'Content-Disposition: attachment; filename="report.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 twelve').toString('base64'),
      '--outer',
      'Content-Type: message/rfc822',
      'Content-Disposition: inline',
      '',
      'Subject: forwarded',
      'Content-Type: text/plain',
      '',
      'forwarded body',
      '--outer--',
      '',
    ]);
    const parsed = await parseMessage(source);
    expect(parsed.parts).toEqual([
      { partId: '1.2', kind: 'html', content: '<p>html <b>words</b></p>' },
      { partId: '2', kind: 'html', content: '<div>second html part</div>' },
      { partId: '4.1', kind: 'text', content: 'forwarded body' },
    ]);
    expect(parsed.attachments).toEqual([
      { partId: '3', filename: 'report.pdf', contentType: 'application/pdf', size: 15 },
    ]);
    expect(parsed.hasAttachments).toBe(true);
    expect(parsed.bodyText).toContain('plain words here');
    expect(parsed.bodyText).not.toContain('html words');
    expect(parsed.bodyText).toContain('second html part');
    expect(parsed.preview.startsWith('plain words here')).toBe(true);
    // For the index (the parse worker's results): the same facts, without the decoded parts.
    const { parts, ...indexed } = parsed;
    expect(parts.length).toBe(3);
    expect(await parseMessage(source, { indexOnly: true })).toEqual({ ...indexed, parts: [] });
  });

  it('returns the decoded content of one attachment on request', async () => {
    const message = crlf([
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'see attached',
      '--b',
      'Content-Type: image/png; name=dot.png',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]).toString('base64'),
      '--b--',
    ]);
    const parsed = await parseMessage(message, { capturePartId: '2' });
    expect(parsed.captured).toEqual({
      filename: 'dot.png',
      contentType: 'image/png',
      content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]),
    });
  });
});

describe('limits on hostile input', () => {
  it('keeps a message whose header block exceeds the limit, with the subject from the raw headers', async () => {
    const message = Buffer.concat([
      Buffer.from('Subject: still listed\r\nFrom: big@example.org\r\nX-Padding: '),
      Buffer.alloc(MAX_HEADER_BYTES + 1024, 0x61),
      Buffer.from('\r\n\r\nbody\r\n'),
    ]);
    const parsed = await parseMessage(message);
    expect(parsed.envelope.subject).toBe('still listed');
    expect(parsed.envelope.from?.address).toBe('big@example.org');
    expect(parsed.parseWarning).toMatch(/header size/i);
  });

  it('stops showing parts nested deeper than the limit, without failing', async () => {
    const depth = MAX_NESTING_DEPTH + 20;
    const lines = ['Subject: deep'];
    for (let level = 0; level < depth; level += 1) {
      lines.push(`Content-Type: multipart/mixed; boundary=b${level}`, '', `--b${level}`);
    }
    lines.push('Content-Type: text/plain', '', 'deepest');
    for (let level = depth - 1; level >= 0; level -= 1) lines.push(`--b${level}--`);
    const parsed = await parseMessage(crlf(lines));
    expect(parsed.envelope.subject).toBe('deep');
    expect(parsed.parts).toEqual([]);
    expect(parsed.parseWarning).toMatch(/nested deeper/);
  });

  it('reads only the first bytes of a huge message for the index, and says so', async () => {
    const message = Buffer.concat([Buffer.from('Subject: huge\r\n\r\n'), Buffer.alloc(3 * 1024 * 1024, 0x62)]);
    const parsed = await parseMessage(message, { maxInputBytes: 1024 * 1024 });
    expect(parsed.envelope.subject).toBe('huge');
    expect(parsed.parseWarning).toMatch(/Only the first/);
    expect(parsed.bodyText.length).toBeLessThanOrEqual(1024 * 1024);
  });

  it('gives up after its time limit and still returns the headers', async () => {
    const message = Buffer.concat([Buffer.from('Subject: slow\r\n\r\n'), Buffer.alloc(8 * 1024 * 1024, 0x63)]);
    const start = performance.now();
    const parsed = await parseMessage(message, { timeoutMs: 5 });
    expect(performance.now() - start).toBeLessThan(2_000);
    expect(parsed.envelope.subject).toBe('slow');
    expect(parsed.parseWarning).toMatch(/took longer/);
  });

  it('never throws on arbitrary bytes or on mangled real messages', async () => {
    const sample = readFileSync('/work/shared/mail-corpus/postal-mime/mimetorture.eml');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
          fc.array(fc.tuple(fc.nat(sample.length - 1), fc.nat(255)), { maxLength: 40 }).map((edits) => {
            const copy = Buffer.from(sample);
            for (const [position, value] of edits) copy[position] = value;
            return copy;
          }),
          fc.nat(sample.length).map((cut) => sample.subarray(0, cut)),
        ),
        async (bytes) => {
          const parsed = await parseMessage(bytes);
          expect(typeof parsed.envelope.subject).toBe('string');
          expect(Array.isArray(parsed.parts)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('HTML to text', () => {
  it('drops tags, scripts, styles and comments, decodes entities, and is linear on tag soup', () => {
    expect(
      htmlToText('<p>caf&eacute; &amp; t&#233;a</p><!-- hidden --><style>x{}</style><script>evil()</script>a < b'),
    ).toBe('café & téa\na < b');
    const soup = '<div><span><b>'.repeat(100_000);
    const start = performance.now();
    htmlToText(soup + '<script>'.repeat(10_000));
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});

describe('sender addresses hidden in encoded words (Mailsploit)', () => {
  it('shows an address that exists only inside an RFC 2047 word as display text, never as the sender', async () => {
    const spoof = Buffer.from('CEO <ceo@bank.example>').toString('base64');
    const raw = Buffer.from(`From: =?utf-8?B?${spoof}?=\r\nSubject: pay\r\n\r\nbody\r\n`);
    const parsed = await parseMessage(raw);
    expect(parsed.envelope.from?.address).toBe('');
    expect(parsed.envelope.from?.name).toContain('ceo@bank.example');
  });

  it('keeps a real address next to an encoded display name', async () => {
    const name = Buffer.from('Zoë Ng').toString('base64');
    const raw = Buffer.from(`From: =?utf-8?B?${name}?= <zoe@example.org>\r\nSubject: hi\r\n\r\nbody\r\n`);
    const parsed = await parseMessage(raw);
    expect(parsed.envelope.from).toEqual({ name: 'Zoë Ng', address: 'zoe@example.org' });
  });
});

describe('the preview', () => {
  it('is the start of the text with white space flattened, whatever the length or spacing', () => {
    const flattenWhole = (text: string) => {
      const flat = text.replace(/\s+/g, ' ').trim();
      return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
    };
    // Runs of white space of any length between words of any length: long texts whose first
    // hundreds of characters flatten to about PREVIEW_CHARS, the edge of the shortcut.
    const text = fc.integer({ min: 1, max: 40 }).chain((maxGap) =>
      fc
        .array(
          fc.record({
            gap: fc.nat({ max: maxGap }),
            space: fc.constantFrom(' ', '\n', '\t'),
            word: fc.nat({ max: 6 }),
          }),
          { minLength: 20, maxLength: 600 },
        )
        .map((runs) => runs.map(({ gap, space, word }) => `${space.repeat(gap)}${'é'.repeat(word)}`).join('')),
    );
    fc.assert(
      fc.property(text, (sample) => previewOf(sample) === flattenWhole(sample)),
      { numRuns: 500 },
    );
    const spaced = `${' '.repeat(5000)}${'word '.repeat(30)}${' \n'.repeat(5000)}${'more '.repeat(100)}`;
    expect(previewOf(spaced)).toBe(flattenWhole(spaced));
  });
});
