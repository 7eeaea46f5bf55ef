/**
 * A small, forgiving reader of a message's header block (RFC 5322 §2.2), used where the full MIME
 * parser gives up: the message is still listed with whatever its raw headers say. Also decodes
 * RFC 2047 encoded words and RFC 5322 address lists for that path.
 */
import addressparser from 'nodemailer/lib/addressparser';
import type { Address } from '../../shared/model';

/** Header bytes read by the fallback reader; a longer header block is cut here. */
export const MAX_RAW_HEADER_BYTES = 512 * 1024;
/** Characters of one address field parsed by the fallback reader. */
const MAX_ADDRESS_FIELD_CHARS = 16 * 1024;

export interface RawHeader {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded value, still encoded (RFC 2047 words are not decoded here). */
  value: string;
}

/** Finds the end of the header block: the first empty line (CRLF CRLF, or bare LF LF). */
export function headerBlockEnd(bytes: Buffer): number {
  for (let index = 0; index < bytes.length; index += 1) {
    if (bytes[index] !== 0x0a) continue;
    if (bytes[index + 1] === 0x0a) return index + 1;
    if (bytes[index + 1] === 0x0d && bytes[index + 2] === 0x0a) return index + 1;
  }
  return bytes.length;
}

/**
 * Splits a header block into fields. Bytes are read as UTF-8 (RFC 6532 allows it; anything else
 * that is 8-bit becomes replacement characters rather than an error).
 */
export function readRawHeaders(bytes: Buffer): RawHeader[] {
  const head = bytes.subarray(0, Math.min(headerBlockEnd(bytes), MAX_RAW_HEADER_BYTES));
  const lines = head.toString('utf8').split(/\r?\n/);
  const headers: RawHeader[] = [];
  for (const line of lines) {
    if (line.length === 0) continue;
    if ((line[0] === ' ' || line[0] === '\t') && headers.length > 0) {
      // Folded continuation line (RFC 5322 §2.2.3): unfolding removes the line break only.
      headers[headers.length - 1].value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return headers;
}

export function firstHeader(headers: readonly RawHeader[], name: string): string | null {
  const found = headers.find((header) => header.name === name);
  return found ? found.value : null;
}

function decodeCharset(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase().split('*')[0]).decode(bytes);
  } catch {
    // An unknown charset label: Latin-1 keeps every byte visible instead of failing.
    return Buffer.from(bytes).toString('latin1');
  }
}

function decodeQuotedPrintableWord(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (character === '_') {
      bytes.push(0x20);
    } else if (character === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(index + 1, index + 3))) {
      bytes.push(parseInt(text.slice(index + 1, index + 3), 16));
      index += 2;
    } else {
      bytes.push(character.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** Decodes RFC 2047 encoded words; white space between two adjacent encoded words is dropped (§6.2). */
export function decodeEncodedWords(value: string): string {
  const joined = value.replace(/(\?=)\s+(?==\?)/g, '$1');
  return joined.replace(ENCODED_WORD, (_match, charset: string, encoding: string, text: string) => {
    const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintableWord(text);
    return decodeCharset(bytes, charset);
  });
}

/** Parses an address list, flattening groups (RFC 5322 §3.4) and decoding encoded display names. */
export function parseAddressList(value: string | null): Address[] {
  if (!value) return [];
  try {
    // addressparser is quadratic on some hostile input (a 130 KB To field takes ~0.4 s).
    return addressparser(value.slice(0, MAX_ADDRESS_FIELD_CHARS), { flatten: true })
      .map((entry) => ({
        name: decodeEncodedWords(entry.name ?? '').trim(),
        address: (entry.address ?? '').trim(),
      }))
      .filter((entry) => entry.name.length > 0 || entry.address.length > 0);
  } catch {
    return [];
  }
}

/** Message-ID tokens (`<...>`) of a Message-ID, In-Reply-To or References field (RFC 5322 §3.6.4). */
export function parseMessageIds(value: string | null): string[] {
  if (!value) return [];
  const found = value.match(/<[^<>\s]+>/g);
  if (found) return found;
  const bare = value.trim();
  return bare.length > 0 && !/\s/.test(bare) ? [`<${bare}>`] : [];
}

/** An RFC 5322 date, or null when it does not name a real moment (never "now" as a stand-in). */
export function parseDate(value: string | null): string | null {
  if (!value) return null;
  // Drop a trailing comment such as "(CET)" (RFC 5322 §3.2.2) before handing it to Date.
  const cleaned = value.replace(/\([^()]*\)\s*$/, '').trim();
  const time = Date.parse(cleaned);
  if (!Number.isFinite(time)) return null;
  const date = new Date(time);
  const year = date.getUTCFullYear();
  if (year < 1970 || year > 9999) return null;
  return date.toISOString();
}
