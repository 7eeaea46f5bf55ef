/**
 * Drafts for new mail, replies and forwards, and their conversion to the contract's
 * OutgoingMessage. Pure: quoting, subjects and recipient lists follow the usual conventions
 * (RFC 5322 section 3.6.4 for In-Reply-To/References; "Re:"/"Fwd:" prefixes kept single).
 */
import type { DraftContent, OutgoingAttachment, OutgoingMessage } from '../../../../shared/api';
import type { MailtoDraft } from '../../../../shared/mailto';
import type { Address, MessageDetail } from '../../../../shared/model';

export interface DraftAttachment extends OutgoingAttachment {
  size: number;
}

export interface ComposeDraft {
  kind: 'new' | 'reply' | 'reply-all' | 'forward';
  accountId: string;
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  text: string;
  attachments: DraftAttachment[];
  inReplyTo: string | null;
  references: string[];
  /** The saved draft this continues (each save gives a new id), or null before the first save. */
  draftId: string | null;
  /** Plain text only, or simple rich text: then `html` is the editor's HTML and `text` its plain alternative. */
  format: 'plain' | 'rich';
  html: string;
}

/**
 * Local part, "@", a domain. A dotless domain ("localhost", an intranet host) is a valid address on a
 * private network (RFC 5321 section 2.3.5 allows any resolvable name), as the set-up form accepts it.
 */
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

export function formatRecipient(address: Address): string {
  if (address.name.trim() === '') return address.address;
  const name = /[",;<>@()]/.test(address.name) ? `"${address.name.replace(/["\\]/g, '\\$&')}"` : address.name;
  return `${name} <${address.address}>`;
}

export function formatRecipients(addresses: Address[]): string {
  return addresses.map(formatRecipient).join(', ');
}

/** Splits "Ann <ann@x.org>, "Doe, John" <j@y.org>; bob@z.org" into addresses; what does not parse is returned too. */
export function parseRecipients(text: string): { addresses: Address[]; invalid: string[] } {
  const tokens: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  for (const character of text) {
    if (character === '"' && !angle) quoted = !quoted;
    else if (character === '<' && !quoted) angle = true;
    else if (character === '>' && !quoted) angle = false;
    if ((character === ',' || character === ';' || character === '\n') && !quoted && !angle) {
      tokens.push(current);
      current = '';
    } else current += character;
  }
  tokens.push(current);
  const addresses: Address[] = [];
  const invalid: string[] = [];
  for (const token of tokens.map((item) => item.trim()).filter((item) => item !== '')) {
    const match = /^(.*?)\s*<([^<>]+)>$/.exec(token);
    const name = match
      ? match[1]
          .trim()
          .replace(/^"(.*)"$/, '$1')
          .replace(/\\(.)/g, '$1')
      : '';
    const address = (match ? match[2] : token).trim();
    if (ADDRESS.test(address)) addresses.push({ name, address });
    else invalid.push(token);
  }
  return { addresses, invalid };
}

function prefixed(subject: string, prefix: 'Re' | 'Fwd'): string {
  const pattern = prefix === 'Re' ? /^\s*re\s*:/i : /^\s*(?:fwd?|fw)\s*:/i;
  const trimmed = subject.trim();
  return pattern.test(trimmed) ? trimmed : `${prefix}: ${trimmed}`;
}

export const replySubject = (subject: string) => prefixed(subject, 'Re');
export const forwardSubject = (subject: string) => prefixed(subject, 'Fwd');

export function quote(text: string): string {
  return text
    .replace(/\r\n/g, '\n')
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line.startsWith('>') ? `>${line}` : `> ${line}`))
    .join('\n');
}

const QUOTE_DATE = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

function sender(message: MessageDetail): string {
  return message.from === null ? 'Unknown sender' : formatRecipient(message.from);
}

function describedDate(message: MessageDetail): string {
  return message.date === null ? 'an unknown date' : QUOTE_DATE.format(new Date(message.date));
}

function withoutOwn(addresses: Address[], own: ReadonlySet<string>, already: ReadonlySet<string>): Address[] {
  const seen = new Set(already);
  const result: Address[] = [];
  for (const address of addresses) {
    const key = address.address.toLowerCase();
    if (own.has(key) || seen.has(key)) continue;
    seen.add(key);
    result.push(address);
  }
  return result;
}

export function newDraft(accountId: string, to: Address[] = []): ComposeDraft {
  return {
    kind: 'new',
    accountId,
    to: formatRecipients(to),
    cc: '',
    bcc: '',
    subject: '',
    text: '',
    attachments: [],
    inReplyTo: null,
    references: [],
    draftId: null,
    format: 'plain',
    html: '',
  };
}

/** A mailto: request (RFC 6068) from the operating system, as a new message. */
export function mailtoDraft(accountId: string, request: MailtoDraft): ComposeDraft {
  return {
    ...newDraft(accountId),
    to: request.to.join(', '),
    cc: request.cc.join(', '),
    bcc: request.bcc.join(', '),
    subject: request.subject,
    text: request.body,
  };
}

/** A saved draft reopened: rich when it has an HTML part. */
export function savedDraft(content: DraftContent): ComposeDraft {
  const { message } = content;
  const html = message.html ?? '';
  return {
    kind: 'new',
    accountId: message.accountId,
    to: formatRecipients(message.to),
    cc: formatRecipients(message.cc),
    bcc: formatRecipients(message.bcc),
    subject: message.subject,
    text: message.text.replace(/\r\n/g, '\n').replace(/\n$/, ''),
    attachments: (message.attachments ?? []).map((attachment) => ({
      ...attachment,
      size: Math.floor((attachment.contentBase64.replace(/=+$/, '').length * 3) / 4),
    })),
    inReplyTo: message.inReplyTo ?? null,
    references: message.references ?? [],
    draftId: content.draftId,
    format: html === '' ? 'plain' : 'rich',
    html,
  };
}

/** Whether there is anything worth saving: a new, untouched message is not saved as a draft. */
export function isBlank(draft: ComposeDraft): boolean {
  return (
    draft.draftId === null &&
    draft.kind === 'new' &&
    [draft.to, draft.cc, draft.bcc, draft.subject, draft.text].every((value) => value.trim() === '') &&
    draft.attachments.length === 0
  );
}

/**
 * A reply goes to Reply-To when present, else From; "reply all" adds the other To and Cc
 * recipients, never the user's own addresses, each address once.
 */
export function replyDraft(
  message: MessageDetail,
  options: { all: boolean; ownAddresses: string[]; bodyText: string },
): ComposeDraft {
  const own = new Set(options.ownAddresses.map((address) => address.toLowerCase()));
  const primary = message.replyTo.length > 0 ? message.replyTo : message.from === null ? [] : [message.from];
  const to = withoutOwn(primary, own, new Set());
  const toKeys = new Set(to.map((address) => address.address.toLowerCase()));
  const cc = options.all ? withoutOwn([...message.to, ...message.cc], own, toKeys) : [];
  // Replying to one's own message: write to its original recipients instead of oneself.
  const recipients = to.length === 0 && options.all ? withoutOwn(message.to, own, new Set()) : to;
  return {
    kind: options.all ? 'reply-all' : 'reply',
    accountId: message.accountId,
    to: formatRecipients(recipients.length > 0 ? recipients : primary),
    cc: formatRecipients(cc),
    bcc: '',
    subject: replySubject(message.subject),
    text: `\n\nOn ${describedDate(message)}, ${sender(message)} wrote:\n${quote(options.bodyText)}\n`,
    attachments: [],
    inReplyTo: message.messageId,
    references: message.messageId === null ? message.references : [...message.references, message.messageId],
    draftId: null,
    format: 'plain',
    html: '',
  };
}

export function forwardDraft(message: MessageDetail, options: { bodyText: string }): ComposeDraft {
  const header = [
    '---------- Forwarded message ----------',
    `From: ${sender(message)}`,
    `Date: ${describedDate(message)}`,
    `Subject: ${message.subject}`,
    `To: ${formatRecipients(message.to)}`,
    ...(message.cc.length > 0 ? [`Cc: ${formatRecipients(message.cc)}`] : []),
  ].join('\n');
  return {
    kind: 'forward',
    accountId: message.accountId,
    to: '',
    cc: '',
    bcc: '',
    subject: forwardSubject(message.subject),
    text: `\n\n${header}\n\n${options.bodyText.replace(/\r\n/g, '\n')}\n`,
    attachments: [],
    inReplyTo: null,
    references: [],
    draftId: null,
    format: 'plain',
    html: '',
  };
}

export type DraftErrors = Partial<Record<'to' | 'cc' | 'bcc' | 'subject' | 'attachments', string>>;

/** The message to send, or what must be fixed first. */
export function toOutgoing(draft: ComposeDraft): { message: OutgoingMessage } | { errors: DraftErrors } {
  const errors: DraftErrors = {};
  const lists = { to: parseRecipients(draft.to), cc: parseRecipients(draft.cc), bcc: parseRecipients(draft.bcc) };
  for (const field of ['to', 'cc', 'bcc'] as const) {
    if (lists[field].invalid.length > 0) {
      errors[field] = `Not an email address: ${lists[field].invalid.join(', ')}`;
    }
  }
  if (lists.to.addresses.length + lists.cc.addresses.length + lists.bcc.addresses.length === 0 && !errors.to) {
    errors.to = 'Add at least one recipient.';
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    message: {
      accountId: draft.accountId,
      to: lists.to.addresses,
      cc: lists.cc.addresses,
      bcc: lists.bcc.addresses,
      subject: draft.subject.trim(),
      ...body(draft),
      inReplyTo: draft.inReplyTo,
      references: draft.references,
      draftId: draft.draftId,
    },
  };
}

function body(draft: ComposeDraft): Pick<OutgoingMessage, 'text' | 'html' | 'attachments'> {
  return {
    text: draft.text,
    // Rich text goes as multipart/alternative: text/plain (generated) and text/html.
    html: draft.format === 'rich' && draft.html !== '' ? draft.html : null,
    attachments: draft.attachments.map(({ filename, contentType, contentBase64 }) => ({
      filename,
      contentType,
      contentBase64,
    })),
  };
}

/** The draft as saved: what parses of the recipients so far (a half-typed address is not saved). */
export function toDraftMessage(draft: ComposeDraft): OutgoingMessage {
  return {
    accountId: draft.accountId,
    to: parseRecipients(draft.to).addresses,
    cc: parseRecipients(draft.cc).addresses,
    bcc: parseRecipients(draft.bcc).addresses,
    subject: draft.subject.replace(/[\r\n]+/g, ' ').trim(),
    ...body(draft),
    inReplyTo: draft.inReplyTo,
    references: draft.references,
  };
}

/** base64 of a file's bytes, in chunks so large files do not overflow the call stack. */
export function bytesToBase64(bytes: Uint8Array): string {
  const chunkSize = 0x8000;
  let binary = '';
  for (let index = 0; index < bytes.length; index += chunkSize) {
    binary += String.fromCharCode(...bytes.subarray(index, index + chunkSize));
  }
  return btoa(binary);
}
