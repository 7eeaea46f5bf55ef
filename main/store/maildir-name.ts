/**
 * Maildir file names (https://cr.yp.to/proto/maildir.html, with the `,S=` size field of Dovecot
 * and the `,U=` UID field of mbsync):
 *
 *   TIME.ID.HOST,S=SIZE[,V=UIDVALIDITY,U=UID][,P=UIDL]:2,FLAGS
 *
 * - TIME: seconds since the epoch when the file was stored (also the "downloaded at" time).
 * - ID: 32 hex digits, random; the message's id in the index and in the UI. Stable across a
 *   rebuild because it is part of the name.
 * - V/U: the IMAP identity (RFC 3501 §2.3.1.1: a UID is only meaningful with its UIDVALIDITY).
 * - P: the POP3 UIDL (RFC 1939 §7), base64url so any of its printable characters survive.
 * - FLAGS: the standard Maildir info flags, in ASCII order.
 *
 * The remote identity lives in the name, not in a side file, because a rename is atomic: the
 * file becomes visible in cur/ with its identity in the same step, so no crash can leave a stored
 * message whose server copy we can no longer recognise (which would download it twice). An
 * identity changes only by renaming, which is atomic as well. Presence of V/U or P means the
 * server copy is believed to exist; it is removed from the name when the server copy is gone.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface ImapIdentity {
  uidvalidity: number;
  uid: number;
}

export interface MaildirName {
  /** Seconds since the epoch. */
  time: number;
  id: string;
  host: string;
  size: number;
  imap: ImapIdentity | null;
  popUidl: string | null;
  /** IMAP system flags and `$Forwarded`, the ones Maildir can carry. */
  flags: string[];
}

/** RFC 3501 system flags ↔ Maildir info letters (P = "passed", i.e. forwarded). */
const FLAG_LETTERS: ReadonlyArray<readonly [string, string]> = [
  ['\\Draft', 'D'],
  ['\\Flagged', 'F'],
  ['$Forwarded', 'P'],
  ['\\Answered', 'R'],
  ['\\Seen', 'S'],
  ['\\Deleted', 'T'],
];

/** UIDLs longer than this (RFC 1939 allows 70 characters) are kept in the name as a hash. */
const MAX_UIDL_NAME_BYTES = 96;
const HASHED_UIDL_PREFIX = '~';

const ID_PATTERN = /^[0-9a-f]{32}$/;

/** Random bytes drawn in blocks: one randomBytes call per id costs more than the row insert. */
const ID_BYTES = 16;
const ID_POOL_BYTES = ID_BYTES * 1024;
let idPool = Buffer.alloc(0);
let idPoolOffset = 0;

export function newMessageId(): string {
  if (idPoolOffset + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_POOL_BYTES);
    idPoolOffset = 0;
  }
  const id = idPool.toString('hex', idPoolOffset, idPoolOffset + ID_BYTES);
  idPoolOffset += ID_BYTES;
  return id;
}

export function isMessageId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** A host name safe for the name's fields: no "/", ":" or ",", and short. */
export function safeHostName(host: string): string {
  const cleaned = host.replace(/[^A-Za-z0-9.-]/g, '_').replace(/^\.+/, '');
  return (cleaned || 'localhost').slice(0, 32);
}

export function flagsToInfo(flags: readonly string[]): string {
  const wanted = new Set(flags.map((flag) => flag.toLowerCase()));
  return FLAG_LETTERS.filter(([flag]) => wanted.has(flag.toLowerCase()))
    .map(([, letter]) => letter)
    .join('');
}

export function infoToFlags(info: string): string[] {
  return FLAG_LETTERS.filter(([, letter]) => info.includes(letter)).map(([flag]) => flag);
}

/** Flags the Maildir name cannot carry (keywords other than $Forwarded): index only. */
export function isMaildirFlag(flag: string): boolean {
  return FLAG_LETTERS.some(([known]) => known.toLowerCase() === flag.toLowerCase());
}

export function encodeUidl(uidl: string): string {
  const bytes = Buffer.from(uidl, 'utf8');
  if (bytes.length > MAX_UIDL_NAME_BYTES) {
    return HASHED_UIDL_PREFIX + createHash('sha256').update(bytes).digest('base64url');
  }
  return bytes.toString('base64url');
}

/** The UIDL, or null when the name only holds its hash (a UIDL beyond RFC 1939's length). */
export function decodeUidl(encoded: string): string | null {
  if (encoded.startsWith(HASHED_UIDL_PREFIX)) return null;
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return null;
  return Buffer.from(encoded, 'base64url').toString('utf8');
}

export function formatMaildirName(name: MaildirName): string {
  let base = `${name.time}.${name.id}.${safeHostName(name.host)},S=${name.size}`;
  if (name.imap) base += `,V=${name.imap.uidvalidity},U=${name.imap.uid}`;
  if (name.popUidl !== null) base += `,P=${encodeUidl(name.popUidl)}`;
  return `${base}:2,${flagsToInfo(name.flags)}`;
}

/** The name in tmp/, before size and flags are known. */
export function formatTmpName(time: number, id: string, host: string): string {
  return `${time}.${id}.${safeHostName(host)}`;
}

/**
 * Reads one of our names. Returns null for a name in another tool's format (the caller then
 * renames the file into ours) or for anything that is not a message file.
 */
export function parseMaildirName(fileName: string): MaildirName | null {
  const colon = fileName.indexOf(':');
  const base = colon === -1 ? fileName : fileName.slice(0, colon);
  const info = colon === -1 ? '' : fileName.slice(colon + 1);
  if (info && !info.startsWith('2,')) return null;
  const [stem, ...fields] = base.split(',');
  const firstDot = stem.indexOf('.');
  const secondDot = stem.indexOf('.', firstDot + 1);
  if (firstDot <= 0 || secondDot === -1) return null;
  const time = Number(stem.slice(0, firstDot));
  const id = stem.slice(firstDot + 1, secondDot);
  if (!Number.isSafeInteger(time) || time < 0 || !isMessageId(id)) return null;
  let size = -1;
  let uidvalidity: number | null = null;
  let uid: number | null = null;
  let popUidl: string | null = null;
  for (const field of fields) {
    const value = field.slice(2);
    if (field.startsWith('S=')) size = Number(value);
    else if (field.startsWith('V=')) uidvalidity = Number(value);
    else if (field.startsWith('U=')) uid = Number(value);
    else if (field.startsWith('P=')) popUidl = decodeUidl(value) ?? value;
  }
  if (!Number.isSafeInteger(size) || size < 0) return null;
  const imap =
    uidvalidity !== null && uid !== null && Number.isSafeInteger(uidvalidity) && Number.isSafeInteger(uid) && uid > 0
      ? { uidvalidity, uid }
      : null;
  return {
    time,
    id,
    host: stem.slice(secondDot + 1),
    size,
    imap,
    popUidl,
    flags: infoToFlags(info.slice(2)),
  };
}

/** The part of a name that never changes (flags and identity change by renaming). */
export function stableStem(fileName: string): string {
  const comma = fileName.indexOf(',');
  const colon = fileName.indexOf(':');
  const end = Math.min(comma === -1 ? fileName.length : comma, colon === -1 ? fileName.length : colon);
  return fileName.slice(0, end);
}
