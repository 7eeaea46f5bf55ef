/**
 * IMAP sequence sets of UIDs (RFC 3501 section 9, `sequence-set`), written compactly for commands
 * and read defensively from server responses (COPYUID, VANISHED), which come from outside and are
 * checked where they arrive.
 */

/** The largest UID: UIDs are 32-bit unsigned, non-zero (RFC 3501 section 2.3.1.1). */
export const MAX_UID = 0xffff_ffff;

/**
 * Upper bound on how many UIDs one server-sent set may expand to. A set such as "1:4294967295"
 * would otherwise make us allocate billions of numbers because a server said so.
 */
export const MAX_EXPANDED_UIDS = 1_000_000;

export function isUid(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_UID;
}

/** Sorted, without duplicates; throws on anything that is not a UID (a caller bug, not server input). */
export function normalizeUids(uids: Iterable<number>): number[] {
  const unique = new Set<number>();
  for (const uid of uids) {
    if (!isUid(uid)) throw new RangeError(`Not an IMAP UID: ${String(uid)}`);
    unique.add(uid);
  }
  return [...unique].sort((left, right) => left - right);
}

/** [1, 2, 3, 5, 7, 8] → "1:3,5,7:8". An empty list has no IMAP form: callers skip the command. */
export function formatUidSet(uids: Iterable<number>): string {
  const sorted = normalizeUids(uids);
  if (sorted.length === 0) throw new RangeError('An IMAP UID set cannot be empty');
  const parts: string[] = [];
  let start = sorted[0];
  let previous = start;
  for (const uid of sorted.slice(1)) {
    if (uid === previous + 1) {
      previous = uid;
      continue;
    }
    parts.push(start === previous ? String(start) : `${start}:${previous}`);
    start = uid;
    previous = uid;
  }
  parts.push(start === previous ? String(start) : `${start}:${previous}`);
  return parts.join(',');
}

/** Splits a list into runs of at most `size` (for batched FETCHes). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`Batch size must be a positive integer: ${size}`);
  const chunks: T[][] = [];
  for (let index = 0; index < items.length; index += size) chunks.push(items.slice(index, index + size));
  return chunks;
}

function parseUid(text: string): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return null;
  const value = Number(text);
  return value <= MAX_UID ? value : null;
}

/**
 * Expands a server-sent UID set in the order the server wrote it (COPYUID pairs source and
 * destination UIDs by position, RFC 4315 section 3). `*` has no meaning in these responses and is
 * refused, as is anything malformed or larger than MAX_EXPANDED_UIDS: the caller then treats the
 * response as absent rather than trusting a half-parsed mapping.
 */
export function parseUidSet(text: string): number[] | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  const uids: number[] = [];
  for (const part of text.split(',')) {
    const bounds = part.split(':');
    if (bounds.length > 2) return null;
    const first = parseUid(bounds[0]);
    const last = bounds.length === 2 ? parseUid(bounds[1]) : first;
    if (first === null || last === null) return null;
    // RFC 3501: "2:4" and "4:2" are the same range; COPYUID keeps the order of the source.
    const step = last >= first ? 1 : -1;
    if (uids.length + Math.abs(last - first) + 1 > MAX_EXPANDED_UIDS) return null;
    for (let uid = first; uid !== last + step; uid += step) uids.push(uid);
  }
  return uids;
}
