/**
 * The bytes of rich-text mail and of drafts, built by nodemailer's MailComposer (compose.ts): rich
 * text is multipart/alternative with the plain text first and the HTML last (RFC 2046 section
 * 5.1.4: the preferred, richest form last); a draft keeps its Bcc and may have no recipient yet.
 */
import { describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import type { Account } from '../../shared/model';
import { prepareDraft, prepareMessage } from '../protocols/smtp/compose';
import { composeInput } from './outbox';

const account = { id: 'a', name: 'Ada Lovelace', email: 'ada@example.org' } as Account;

describe('rich-text mail', () => {
  it('is multipart/alternative: text/plain then text/html, both as written', async () => {
    const prepared = await prepareMessage(
      composeInput(account, {
        accountId: 'a',
        to: [{ name: 'Grace', address: 'grace@example.org' }],
        cc: [],
        bcc: [],
        subject: 'Rich',
        text: 'Plain *words*\n> quoted',
        html: '<p>Plain <strong>words</strong></p><blockquote><p>quoted</p></blockquote>',
      }),
    );
    const raw = prepared.raw.toString('latin1');
    expect(raw).toMatch(/^Content-Type: multipart\/alternative;/im);
    const plainAt = raw.search(/^Content-Type: text\/plain/im);
    const htmlAt = raw.search(/^Content-Type: text\/html/im);
    expect(plainAt).toBeGreaterThan(0);
    expect(htmlAt).toBeGreaterThan(plainAt);
    expect(raw).not.toMatch(/[^\r]\n/);
    const parsed = await simpleParser(prepared.raw);
    expect(parsed.text?.trim()).toBe('Plain *words*\n> quoted');
    expect(parsed.html).toBe('<p>Plain <strong>words</strong></p><blockquote><p>quoted</p></blockquote>');
  });

  it('plain-text mail stays a single text/plain part', async () => {
    const prepared = await prepareMessage(
      composeInput(account, {
        accountId: 'a',
        to: [{ name: '', address: 'g@example.org' }],
        cc: [],
        bcc: [],
        subject: 'P',
        text: 'Just text',
        html: null,
      }),
    );
    expect(prepared.raw.toString('latin1')).toMatch(/^Content-Type: text\/plain/im);
    expect(prepared.raw.toString('latin1')).not.toMatch(/multipart/i);
  });
});

describe('draft bytes', () => {
  it('keep the Bcc header and need no recipient', async () => {
    const withBcc = await prepareDraft(
      composeInput(account, {
        accountId: 'a',
        to: [],
        cc: [],
        bcc: [{ name: 'Hidden', address: 'h@example.org' }],
        subject: 'D',
        text: 'x',
      }),
    );
    const parsed = await simpleParser(withBcc.raw);
    expect(parsed.bcc).toMatchObject({ value: [{ name: 'Hidden', address: 'h@example.org' }] });
    expect(withBcc.messageId).toMatch(/^<.+@.+>$/);
    const empty = await prepareDraft(
      composeInput(account, { accountId: 'a', to: [], cc: [], bcc: [], subject: '', text: '' }),
    );
    expect((await simpleParser(empty.raw)).from?.value[0].address).toBe('ada@example.org');
    // Each save is a new message: a new Message-ID.
    expect(empty.messageId).not.toBe(withBcc.messageId);
    await expect(
      prepareDraft(
        composeInput(account, { accountId: 'a', to: [], cc: [], bcc: [], subject: 'a\r\nBcc: x@y', text: '' }),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
