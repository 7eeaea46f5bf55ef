/**
 * Opening a POP3 session for an account and reading what the server holds. A session is always
 * short: Dovecot (like most servers, RFC 1939 §8) locks the maildrop for its whole length, so a
 * session left open would lock out this account's next check and every other client.
 */
import { MailError } from '../../../shared/errors';
import type { Account } from '../../../shared/model';
import { credentialSourceOf, withCredentials } from '../../oauth/credentials';
import { openPop3Mailbox, type Pop3Mailbox } from '../../protocols/pop3/pop3-mailbox';
import { encodeUidl } from '../../store/maildir-name';
import type { EngineContext } from '../engine';

/** One message of the maildrop, as LIST (size) and UIDL (identity) describe it. */
export interface ServerMessage {
  /** Its number in this session only (RFC 1939 §5). */
  number: number;
  /** Its identity across sessions (RFC 1939 §7). */
  uidl: string;
  /** Octets, as LIST reports them (the adapter checks every download against it). */
  size: number;
}

/** RFC 1939 §7: TOP with 0 body lines returns the header and the empty line after it. */
export const HEADER_ONLY_BODY_LINES = 0;

export function requirePop3Account(account: Account): Account & { pop3: NonNullable<Account['pop3']> } {
  if (account.mode !== 'pop3') {
    throw new MailError('NOT_AVAILABLE_IN_MODE', `The account "${account.name}" is not in POP3 mode.`);
  }
  if (account.pop3 === null) {
    throw new MailError('INVALID_INPUT', `The account "${account.name}" has no POP3 server set up.`);
  }
  return account as Account & { pop3: NonNullable<Account['pop3']> };
}

export async function openAccountMailbox(context: EngineContext): Promise<Pop3Mailbox> {
  const account = requirePop3Account(context.account());
  return withCredentials(credentialSourceOf(context), (credentials) =>
    openPop3Mailbox({
      host: account.pop3.host,
      port: account.pop3.port,
      security: account.pop3.security,
      allowPlaintext: account.pop3.allowPlaintext,
      pinnedFingerprint: account.pop3.pinnedFingerprint ?? null,
      username: account.username,
      ...credentials,
    }),
  );
}

/**
 * LIST and UIDL joined by message number, in number order. A server without UIDL (it is optional
 * in RFC 1939 §7) cannot be used: without it nothing tells which messages were downloaded
 * already, and "download nothing twice" could not hold.
 */
export async function listServerMessages(mailbox: Pop3Mailbox): Promise<ServerMessage[]> {
  const listings = await mailbox.list();
  let identities: Awaited<ReturnType<Pop3Mailbox['uidl']>>;
  try {
    identities = await mailbox.uidl();
  } catch (error) {
    if (error instanceof MailError && error.code === 'SERVER_ERROR' && error.details.serverText !== undefined) {
      throw new MailError(
        'SERVER_ERROR',
        'This POP3 server does not tell messages apart (it refused UIDL, RFC 1939 §7), so Whereabouts cannot ' +
          'know which ones it already downloaded. Use IMAP for this account, or ask the provider to enable UIDL.',
        error.details,
      );
    }
    throw error;
  }
  const sizes = new Map(listings.map((listing) => [listing.number, listing.size]));
  const seen = new Set<string>();
  const messages: ServerMessage[] = [];
  for (const identity of identities) {
    const size = sizes.get(identity.number);
    // A UIDL must be unique in the maildrop (RFC 1939 §7); a repeated one would make two messages
    // one, so the repeat is left alone on the server rather than guessed at.
    if (size === undefined || seen.has(identity.uid)) continue;
    seen.add(identity.uid);
    messages.push({ number: identity.number, uidl: identity.uid, size });
  }
  return messages.sort((left, right) => left.number - right.number);
}

/**
 * The form a UIDL takes in the store when a Maildir name could only carry its hash (beyond RFC
 * 1939's 70 characters): a rebuilt index knows such a message by that form. Null for the others.
 */
export function hashedUidl(uidl: string): string | null {
  const encoded = encodeUidl(uidl);
  // '~' is outside the base64url alphabet: only the hashed form starts with it.
  return encoded.startsWith('~') ? encoded : null;
}

/** Looks a UIDL up in a map keyed by the UIDLs as the store holds them. */
export function lookUpUidl<T>(map: ReadonlyMap<string, T>, uidl: string): T | undefined {
  const found = map.get(uidl);
  if (found !== undefined) return found;
  const hashed = hashedUidl(uidl);
  return hashed === null ? undefined : map.get(hashed);
}

/** Server messages by UIDL, also under the hashed form (see hashedUidl). */
export function indexByUidl(messages: readonly ServerMessage[]): Map<string, ServerMessage> {
  const byUidl = new Map<string, ServerMessage>();
  for (const message of messages) {
    byUidl.set(message.uidl, message);
    const hashed = hashedUidl(message.uidl);
    if (hashed !== null) byUidl.set(hashed, message);
  }
  return byUidl;
}

/**
 * Runs a download so that Cancel (or closing the account) stops it at once, also in the middle of a
 * message. A RETR cannot be interrupted (RFC 1939), so the connection is dropped: what was stored
 * stays, the rest stays on the server, and nothing marked deleted in this session is deleted
 * (RFC 1939 §6). Only for downloads: a QUIT cut short would leave it unknown whether the server
 * applied the deletions. Rejects with the signal's reason when it was aborted.
 */
export async function droppingConnectionOnCancel<T>(
  mailbox: Pop3Mailbox,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const drop = (): void => mailbox.close();
  signal?.addEventListener('abort', drop, { once: true });
  try {
    if (signal?.aborted) drop();
    return await work();
  } catch (error) {
    // The dropped connection's error is only the consequence: report the cancellation.
    signal?.throwIfAborted();
    throw error;
  } finally {
    signal?.removeEventListener('abort', drop);
  }
}
