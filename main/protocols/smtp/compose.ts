/**
 * Builds the exact bytes of an outgoing message before anything is sent, so that the very same
 * bytes can be submitted, appended to the IMAP Sent folder (SEMANTICS S7) and kept locally in POP3
 * mode — one Message-ID, one SHA-256 everywhere.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import { MailError } from '../../../shared/errors';
import type { Address } from '../../../shared/model';

export interface OutgoingAttachment {
  filename: string;
  content: Buffer;
  /** Guessed from the file name when absent. */
  contentType?: string;
  /** For inline images referenced as cid: from the HTML part. */
  contentId?: string;
}

/** A message to compose. Addresses are "Name <user@example.org>", a bare address, or an Address. */
export interface OutgoingMessage {
  from: string | Address;
  to: Array<string | Address>;
  cc?: Array<string | Address>;
  /** Envelope recipients only: nodemailer leaves the Bcc header out of the bytes that are sent. */
  bcc?: Array<string | Address>;
  subject: string;
  text: string;
  html?: string;
  attachments?: OutgoingAttachment[];
  /** Message-ID of the message replied to (RFC 5322 §3.6.4). */
  inReplyTo?: string;
  references?: string[];
}

/** Already-built bytes with the SMTP envelope to submit them under (RFC 5321 MAIL FROM / RCPT TO). */
export interface RawOutgoingMessage {
  raw: Buffer;
  envelope: { from: string; to: string[] };
}

export interface PreparedMessage {
  /** What the server will store (before it prepends its trace headers): CRLF line ends throughout. */
  raw: Buffer;
  envelope: { from: string; to: string[] };
  messageId: string | null;
}

/**
 * RFC 5322 §2.1 and RFC 5321 §2.3.8: lines end in CRLF. The SMTP data stream turns a bare LF into
 * CRLF on the wire (and adds one at the end), so we do it first: then `raw` is byte for byte what
 * the server receives, and what the Sent copy holds.
 */
export function normalizeLineEndings(raw: Buffer): Buffer {
  // latin1 maps every byte to one code unit and back, so 8-bit content survives untouched.
  let text = raw.toString('latin1').replace(/\r?\n/g, '\r\n');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}

/** Reads the Message-ID header from the header section of raw bytes (RFC 5322 §3.6.4), unfolded. */
export function readMessageId(raw: Buffer): string | null {
  const text = raw.toString('latin1');
  const headerEnd = text.search(/\r?\n\r?\n/);
  const header = (headerEnd === -1 ? text : text.slice(0, headerEnd)).replace(/\r?\n[ \t]+/g, ' ');
  for (const line of header.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'message-id') {
      return line.slice(colon + 1).trim() || null;
    }
  }
  return null;
}

function addressOf(value: string | Address): string | { name: string; address: string } {
  return typeof value === 'string' ? value : { name: value.name, address: value.address };
}

/** A header value from the user must not be able to start a new header (header injection). */
function assertSingleLine(value: string, field: string): void {
  if (/[\r\n]/.test(value)) {
    throw new MailError('INVALID_INPUT', `The ${field} must be a single line.`);
  }
}

function validateEnvelope(envelope: { from: string; to: string[] }): { from: string; to: string[] } {
  // RFC 5321 §4.1.2: a path is <…> around the address; CR, LF or angle brackets would break the command.
  const unsafe = /[\r\n<>\s]/;
  if (typeof envelope.from !== 'string' || unsafe.test(envelope.from)) {
    throw new MailError('INVALID_INPUT', 'The envelope sender must be a plain email address.');
  }
  if (!Array.isArray(envelope.to) || envelope.to.length === 0) {
    throw new MailError('INVALID_INPUT', 'The message has no recipients.');
  }
  for (const recipient of envelope.to) {
    if (typeof recipient !== 'string' || recipient === '' || unsafe.test(recipient)) {
      throw new MailError('INVALID_INPUT', `The recipient ${JSON.stringify(recipient)} is not a plain email address.`);
    }
  }
  return { from: envelope.from, to: [...envelope.to] };
}

/** Composes (or takes as given) the message and returns the exact bytes to submit. */
export async function prepareMessage(message: OutgoingMessage | RawOutgoingMessage): Promise<PreparedMessage> {
  if ('raw' in message) {
    if (!Buffer.isBuffer(message.raw) || message.raw.length === 0) {
      throw new MailError('INVALID_INPUT', 'The message to send is empty.');
    }
    const raw = normalizeLineEndings(message.raw);
    return { raw, envelope: validateEnvelope(message.envelope), messageId: readMessageId(raw) };
  }
  assertSingleLine(message.subject, 'subject');
  if (message.inReplyTo !== undefined) assertSingleLine(message.inReplyTo, 'In-Reply-To');
  for (const reference of message.references ?? []) assertSingleLine(reference, 'References');
  const recipients = [...message.to, ...(message.cc ?? []), ...(message.bcc ?? [])];
  if (recipients.length === 0) throw new MailError('INVALID_INPUT', 'The message has no recipients.');
  const node = composerFor(message).compile();
  const envelope = node.getEnvelope();
  if (!envelope.from) throw new MailError('INVALID_INPUT', 'The sender address is missing or not valid.');
  const raw = normalizeLineEndings(await node.build());
  return {
    raw,
    envelope: validateEnvelope({ from: envelope.from, to: envelope.to }),
    messageId: readMessageId(raw),
  };
}

/**
 * A draft (RFC 6154 \Drafts folder): the same bytes a send would build, except that it may have no
 * recipients yet and keeps its Bcc header, so that reopening it restores every field.
 */
export async function prepareDraft(message: OutgoingMessage): Promise<{ raw: Buffer; messageId: string | null }> {
  assertSingleLine(message.subject, 'subject');
  if (message.inReplyTo !== undefined) assertSingleLine(message.inReplyTo, 'In-Reply-To');
  for (const reference of message.references ?? []) assertSingleLine(reference, 'References');
  const node = composerFor(message).compile();
  node.keepBcc = true;
  const raw = normalizeLineEndings(await node.build());
  return { raw, messageId: readMessageId(raw) };
}

function composerFor(message: OutgoingMessage): MailComposer {
  return new MailComposer({
    from: addressOf(message.from),
    to: message.to.map(addressOf),
    cc: (message.cc ?? []).map(addressOf),
    bcc: (message.bcc ?? []).map(addressOf),
    subject: message.subject,
    text: message.text,
    ...(message.html === undefined ? {} : { html: message.html }),
    ...(message.inReplyTo === undefined ? {} : { inReplyTo: message.inReplyTo }),
    ...(message.references === undefined ? {} : { references: message.references }),
    attachments: (message.attachments ?? []).map((attachment) => ({
      filename: attachment.filename,
      content: attachment.content,
      ...(attachment.contentType === undefined ? {} : { contentType: attachment.contentType }),
      ...(attachment.contentId === undefined ? {} : { cid: attachment.contentId }),
    })),
  });
}
