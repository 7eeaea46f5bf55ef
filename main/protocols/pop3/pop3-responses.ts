/**
 * Reading the data in POP3 answers (RFC 1939, RFC 2449). Server data is checked where it arrives:
 * anything that does not have the documented shape is an error, never a guess.
 */
import { MailError } from '../../../shared/errors';
import type { MessageIdentity, Pop3Capabilities } from './pop3-mailbox';

/** RFC 2449 §8 response code, e.g. "IN-USE" from "-ERR [IN-USE] locked". */
export function responseCode(text: string): string | null {
  const match = /^\[([^\]]+)\]/.exec(text);
  return match ? match[1].toUpperCase() : null;
}

export function parseCapabilities(body: Buffer | null): Pop3Capabilities {
  const lines =
    body === null
      ? []
      : body
          .toString('latin1')
          .split('\r\n')
          .map((line) => line.trim())
          .filter((line) => line.length > 0);
  const names = new Set(lines.map((line) => line.split(/\s+/)[0].toUpperCase()));
  const argumentsOf = (name: string): string[] => {
    const line = lines.find((candidate) => candidate.split(/\s+/)[0].toUpperCase() === name);
    return line ? line.split(/\s+/).slice(1) : [];
  };
  const loginDelay = Number.parseInt(argumentsOf('LOGIN-DELAY')[0] ?? '', 10);
  const expire = argumentsOf('EXPIRE')[0]?.toUpperCase();
  const expireDays = Number.parseInt(expire ?? '', 10);
  return {
    known: body !== null,
    lines,
    stls: names.has('STLS'),
    pipelining: names.has('PIPELINING'),
    top: names.has('TOP'),
    uidl: names.has('UIDL'),
    user: names.has('USER'),
    responseCodes: names.has('RESP-CODES'),
    saslMechanisms: argumentsOf('SASL').map((mechanism) => mechanism.toUpperCase()),
    loginDelaySeconds: Number.isSafeInteger(loginDelay) ? loginDelay : null,
    expireDays: expire === 'NEVER' ? 'never' : Number.isSafeInteger(expireDays) ? expireDays : null,
  };
}

export function parseNumberPair(text: string, what: string): [number, number] {
  const match = /^(\d+) (\d+)(?:\s|$)/.exec(text);
  const first = match ? Number(match[1]) : Number.NaN;
  const second = match ? Number(match[2]) : Number.NaN;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second)) {
    throw new MailError('SERVER_ERROR', `The server sent an unreadable ${what}: "${text.slice(0, 80)}"`, {
      serverText: text,
    });
  }
  return [first, second];
}

/** RFC 1939 §7: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E. */
export function parseUidLine(text: string): MessageIdentity {
  const match = /^(\d+) ([\x21-\x7e]{1,70})\s*$/.exec(text);
  const number = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(number)) {
    throw new MailError('SERVER_ERROR', `The server sent an unreadable UIDL line: "${text.slice(0, 80)}"`, {
      serverText: text,
    });
  }
  return { number, uid: match[2] };
}

/** The lines of a multi-line answer such as LIST or UIDL, without CRLF and without empty lines. */
export function bodyLines(body: Buffer): string[] {
  return body
    .toString('latin1')
    .split('\r\n')
    .filter((line) => line.length > 0);
}
