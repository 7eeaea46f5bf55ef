/**
 * Finds a message on the server by what survives renumbering: its Message-ID header and size
 * (RFC 4549 section 4.2.2 and 6: after an unanswered APPEND, COPY or MOVE the client looks for the
 * message before repeating the command, and after a UIDVALIDITY change it maps what it cached).
 * `fromUid` narrows the search to UIDs assigned since a moment the caller recorded (the folder's
 * UIDNEXT just before sending the command: RFC 3501 section 2.3.1.1, new messages get UIDs of at
 * least UIDNEXT).
 */
import type { ImapSession, RemoteMessageHeader } from '../../protocols/imap/imap-mailbox';
import { messageIdOf, SYNC_HEADER_FIELDS } from './header-rows';

/** Messages per FETCH while looking for one. */
const LOCATE_BATCH_SIZE = 500;

export interface LocatedMessage {
  uid: number;
  uidValidity: number;
  flags: string[];
}

export interface LocateRequest {
  path: string;
  messageIdHeader: string | null;
  size: number | null;
  /** Only UIDs from here up (default 1: the whole folder). */
  fromUid?: number;
  /** UIDs that are already accounted for (bound to other local rows). */
  exclude?: ReadonlySet<number>;
}

/**
 * The newest message in `path` with this Message-ID (and size, when given), or null. A message
 * without Message-ID cannot be recognized: null (the caller treats it as not found).
 */
export async function locateMessage(session: ImapSession, request: LocateRequest): Promise<LocatedMessage | null> {
  if (!request.messageIdHeader) return null;
  let found: LocatedMessage | null = null;
  const matches = (header: RemoteMessageHeader): boolean =>
    messageIdOf(header) === request.messageIdHeader &&
    (request.size === null || header.size === request.size) &&
    !(request.exclude?.has(header.uid) ?? false);
  await session.fetchHeaders(
    request.path,
    { from: Math.max(1, request.fromUid ?? 1) },
    { batchSize: LOCATE_BATCH_SIZE, headerFields: SYNC_HEADER_FIELDS },
    (batch) => {
      for (const header of batch.messages) {
        if (matches(header) && (found === null || header.uid > found.uid)) {
          found = { uid: header.uid, uidValidity: batch.uidValidity, flags: header.flags };
        }
      }
    },
  );
  return found;
}
