/**
 * What an IMAP header FETCH (ENVELOPE, FLAGS, RFC822.SIZE, INTERNALDATE, raw header fields)
 * becomes in the store: a header-only row. Message-ID, In-Reply-To and References are read from
 * the raw header lines with the same parser the store uses on full messages, so a header-only row
 * and the full message compare equal when matching by Message-ID (RFC 5322 section 3.6.4).
 */
import type { Address } from '../../../shared/model';
import { firstHeader, parseMessageIds, readRawHeaders } from '../../mime/raw-headers';
import type { RemoteEnvelope, RemoteMessageHeader } from '../../protocols/imap/imap-mailbox';
import type { Envelope, HeaderOnlyInput } from '../../store/message-store';

/** The header fields fetched with every envelope (imap-mailbox DEFAULT_HEADER_FIELDS plus what we need). */
export const SYNC_HEADER_FIELDS: readonly string[] = [
  'Message-ID',
  'In-Reply-To',
  'References',
  'Content-Type',
  'List-Id',
];

function firstAddress(list: readonly Address[]): Address | null {
  return list.find((entry) => entry.address.length > 0 || entry.name.length > 0) ?? null;
}

function normalizedId(value: string | null): string | null {
  return parseMessageIds(value)[0] ?? null;
}

/** The message's Message-ID as the store keeps it (`<…>`), from the raw header, else the envelope. */
export function messageIdOf(header: RemoteMessageHeader): string | null {
  const raw = readRawHeaders(header.headers);
  return normalizedId(firstHeader(raw, 'message-id')) ?? normalizedId(header.envelope.messageId);
}

function toEnvelope(remote: RemoteEnvelope, headers: Buffer, messageId: string | null): Envelope {
  const raw = readRawHeaders(headers);
  return {
    messageId,
    inReplyTo: normalizedId(firstHeader(raw, 'in-reply-to')) ?? normalizedId(remote.inReplyTo),
    references: parseMessageIds(firstHeader(raw, 'references')),
    subject: (remote.subject ?? '').replace(/\s+/g, ' ').trim(),
    from: firstAddress(remote.from) ?? firstAddress(remote.sender),
    to: remote.to,
    cc: remote.cc,
    bcc: remote.bcc,
    replyTo: remote.replyTo,
    date: remote.date ? remote.date.toISOString() : null,
  };
}

/** multipart/mixed is how messages carry attachments (RFC 2046 section 5.1.3); a cheap first guess until the body is here. */
function looksLikeAttachments(headers: Buffer): boolean {
  const contentType = firstHeader(readRawHeaders(headers), 'content-type') ?? '';
  return /^\s*multipart\/mixed\b/i.test(contentType);
}

export function headerOnlyInput(folderId: string, uidValidity: number, header: RemoteMessageHeader): HeaderOnlyInput {
  const messageId = messageIdOf(header);
  return {
    folderId,
    imap: { uidvalidity: uidValidity, uid: header.uid },
    envelope: toEnvelope(header.envelope, header.headers, messageId),
    size: header.size,
    flags: header.flags,
    receivedAt: header.internalDate ? header.internalDate.toISOString() : null,
    hasAttachments: looksLikeAttachments(header.headers),
  };
}
