import { describe, expect, it } from 'vitest';
import type { MessageDetail } from '../../../../shared/model';
import {
  forwardDraft,
  parseRecipients,
  quote,
  replyDraft,
  replySubject,
  forwardSubject,
  toOutgoing,
  newDraft,
  bytesToBase64,
} from './compose-draft';

const original: MessageDetail = {
  id: 'm1',
  accountId: 'work',
  folderId: 'inbox',
  messageId: '<m1@example.org>',
  threadId: null,
  subject: 'Plans',
  from: { name: 'Ada', address: 'ada@example.org' },
  to: [
    { name: 'Me', address: 'me@work.example' },
    { name: 'Grace', address: 'grace@example.org' },
  ],
  date: '2024-06-01T09:00:00.000Z',
  size: 100,
  flags: [],
  residency: 'both',
  hasAttachments: false,
  preview: '',
  cc: [
    { name: '', address: 'GRACE@example.org' },
    { name: 'Alan', address: 'alan@example.org' },
  ],
  bcc: [],
  replyTo: [],
  inReplyTo: null,
  references: ['<m0@example.org>'],
  parts: [],
  attachments: [],
  sha256: null,
  parseWarning: null,
};

describe('recipients as typed', () => {
  it('are split on commas and semicolons outside quotes and angle brackets', () => {
    expect(parseRecipients('"Doe, John" <j@x.org>; Ann <ann@y.org>, bob@z.org\ncarol@w.org')).toEqual({
      addresses: [
        { name: 'Doe, John', address: 'j@x.org' },
        { name: 'Ann', address: 'ann@y.org' },
        { name: '', address: 'bob@z.org' },
        { name: '', address: 'carol@w.org' },
      ],
      invalid: [],
    });
  });

  it('report what is not an address', () => {
    expect(parseRecipients('ann@y.org, nobody, a@b@c, <broken').invalid).toEqual(['nobody', 'a@b@c', '<broken']);
  });

  it('accept a dotless domain, as on a private network', () => {
    expect(parseRecipients('Friend <friend@localhost>, ops@intranet')).toEqual({
      addresses: [
        { name: 'Friend', address: 'friend@localhost' },
        { name: '', address: 'ops@intranet' },
      ],
      invalid: [],
    });
  });
});

describe('replies and forwards', () => {
  it('prefix the subject once', () => {
    expect(replySubject('Plans')).toBe('Re: Plans');
    expect(replySubject('RE: Plans')).toBe('RE: Plans');
    expect(forwardSubject('Fw: Plans')).toBe('Fw: Plans');
    expect(forwardSubject('Plans')).toBe('Fwd: Plans');
  });

  it('quote each line, deepening quotes already there', () => {
    expect(quote('one\r\n> two\n\n')).toBe('> one\n>> two');
  });

  it('reply to the sender, threaded by In-Reply-To and References (RFC 5322 section 3.6.4)', () => {
    const draft = replyDraft(original, { all: false, ownAddresses: ['me@work.example'], bodyText: 'Hello' });
    expect(draft.to).toBe('Ada <ada@example.org>');
    expect(draft.cc).toBe('');
    expect(draft.inReplyTo).toBe('<m1@example.org>');
    expect(draft.references).toEqual(['<m0@example.org>', '<m1@example.org>']);
    expect(draft.text).toContain('Ada <ada@example.org> wrote:\n> Hello');
  });

  it('reply to all without the user and without duplicates, case-insensitively', () => {
    const draft = replyDraft(original, { all: true, ownAddresses: ['ME@work.example'], bodyText: '' });
    expect(draft.to).toBe('Ada <ada@example.org>');
    expect(draft.cc).toBe('Grace <grace@example.org>, Alan <alan@example.org>');
  });

  it('reply to Reply-To when the message names one', () => {
    const draft = replyDraft(
      { ...original, replyTo: [{ name: 'List', address: 'list@example.org' }] },
      {
        all: false,
        ownAddresses: [],
        bodyText: '',
      },
    );
    expect(draft.to).toBe('List <list@example.org>');
  });

  it('forward with the original headers above the text', () => {
    const draft = forwardDraft(original, { bodyText: 'Body' });
    expect(draft.to).toBe('');
    expect(draft.text).toContain('---------- Forwarded message ----------\nFrom: Ada <ada@example.org>');
    expect(draft.text).toContain('Subject: Plans');
    expect(draft.text.trim().endsWith('Body')).toBe(true);
  });
});

describe('sending a draft', () => {
  it('needs a recipient and valid addresses', () => {
    expect(toOutgoing(newDraft('work'))).toEqual({ errors: { to: 'Add at least one recipient.' } });
    expect(toOutgoing({ ...newDraft('work'), to: 'a@b.org', cc: 'oops' })).toEqual({
      errors: { cc: 'Not an email address: oops' },
    });
  });

  it('becomes the contract’s OutgoingMessage', () => {
    const outcome = toOutgoing({
      ...newDraft('work'),
      to: 'a@b.org',
      subject: ' Hi ',
      text: 'Text',
      attachments: [{ filename: 'a.txt', contentType: 'text/plain', contentBase64: 'QQ==', size: 1 }],
    });
    expect(outcome).toEqual({
      message: {
        accountId: 'work',
        to: [{ name: '', address: 'a@b.org' }],
        cc: [],
        bcc: [],
        subject: 'Hi',
        text: 'Text',
        html: null,
        attachments: [{ filename: 'a.txt', contentType: 'text/plain', contentBase64: 'QQ==' }],
        inReplyTo: null,
        references: [],
        draftId: null,
      },
    });
  });

  it('encodes large files to base64 without overflowing the stack', () => {
    const bytes = new Uint8Array(300_000).map((_, index) => index % 256);
    expect(bytesToBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  });
});
