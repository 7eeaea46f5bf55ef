/**
 * Attachment bodies left out of a parse (issue #7).
 *
 * The index and the reader need four facts about an attachment: its part number, file name,
 * content type and decoded size (its content is read on its own, when asked for). mailparser
 * nevertheless splits every line of an attachment's body, decodes it and hashes it: on the
 * benchmark corpus, messages with attachments take half of all parse time, and a message with
 * 10 MB of photos takes ≈ 160 ms to open. So before a parse (not one that captures an attachment's
 * content), each base64 body of a non-text leaf part is replaced by a marker: a few bytes of base64
 * that decode to this process's random mark and the body's number. Its decoded size is counted here
 * instead (base64 needs no decoding to know its length). mailparser then parses a message of the
 * same structure, with the same headers and text parts, a fraction of the size.
 *
 * This scanner reads the MIME structure independently of mailsplit, so the two could disagree on
 * malformed input. Nothing here is trusted: parse.ts keeps the elision only when each marker comes
 * back as the whole decoded content of exactly one attachment; otherwise it parses the original.
 * A body is elided only when it is unmistakably base64 (nothing but the base64 alphabet, line
 * breaks and final padding), so no line of it can be a boundary delimiter, and only in a message
 * short enough to be parsed whole (a cut message would be cut elsewhere once shortened).
 */
import { randomBytes } from 'node:crypto';
import { firstHeader, readRawHeaders } from './raw-headers';

/** A body shorter than this is left in: eliding it saves less than the bookkeeping costs. */
export const MIN_ELIDED_BODY_BYTES = 2048;
/** Nesting followed by the scanner; a deeper part is left as it is. */
const MAX_SCAN_DEPTH = 32;
/** Parts looked at in one message (mailsplit refuses more than 1000). */
const MAX_SCAN_PARTS = 1000;

const LF = 0x0a;
const CR = 0x0d;
const EQUALS = 0x3d;

/** Byte classes: 1 for the base64 alphabet (RFC 4648 §4), 0 for a line break, 2 for anything else. */
const BASE64_CLASS = new Uint8Array(256).fill(2);
for (const character of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') {
  BASE64_CLASS[character.charCodeAt(0)] = 1;
}
BASE64_CLASS[CR] = 0;
BASE64_CLASS[LF] = 0;
/** The same for two bytes at once: their alphabet characters (0–2), plus PAIR_INVALID for anything else. */
const PAIR_INVALID = 8;
let pairClasses: Uint8Array | null = null;

/** Made at the first count, not at start-up (≈ 4 ms that a CLI command that parses nothing would pay). */
function base64PairClasses(): Uint8Array {
  if (pairClasses) return pairClasses;
  pairClasses = new Uint8Array(65536);
  for (let pair = 0; pair < 65536; pair += 1) {
    const first = BASE64_CLASS[pair & 0xff];
    const second = BASE64_CLASS[pair >>> 8];
    pairClasses[pair] = (first & 1) + (second & 1) + ((first | second) & 2 ? PAIR_INVALID : 0);
  }
  return pairClasses;
}

/** A plain type/subtype (RFC 2045 §5.1 tokens); anything stranger is left to the parser. */
const PLAIN_CONTENT_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;
/** The types mailparser reads as text (its textTypes); every other leaf is an attachment to it. */
const TEXT_TYPES = new Set(['text/plain', 'text/html', 'message/delivery-status']);

function isAttachmentType(contentType: string): boolean {
  return PLAIN_CONTENT_TYPE.test(contentType) && !TEXT_TYPES.has(contentType) && !contentType.startsWith('multipart/');
}

export interface Elision {
  /** The message with each elided body replaced by its marker. */
  source: Buffer;
  /** What each marker decodes to, by elided body (in the order of the message). */
  markers: Buffer[];
  /** The decoded size of each elided body, as mailparser's base64 decoder would count it. */
  sizes: number[];
}

/** Marks of this process: random, so that no message can carry a marker of its own. */
const NONCE = randomBytes(9).toString('hex');

function markerFor(index: number): Buffer {
  // A length that is a multiple of 3 gives base64 without padding; a NUL start keeps it from ever
  // reading as text.
  let text = `\0wa-elided:${NONCE}:${index}:`;
  while (text.length % 3 !== 0) text += '\0';
  return Buffer.from(text, 'latin1');
}

/**
 * The size mailparser's decoder (libbase64: strip what is not base64, decode in groups of four,
 * the rest at the end) gives a body of `characters` alphabet characters with padding only at the
 * end: three bytes per group of four, and one or two for a last group of two or three characters.
 */
export function decodedBase64Size(characters: number): number {
  const rest = characters % 4;
  return Math.floor(characters / 4) * 3 + (rest === 3 ? 2 : rest === 2 ? 1 : 0);
}

/**
 * The number of base64 characters in `bytes[start, end)`, or -1 when anything but the alphabet,
 * line breaks and padding at the very end is there. This runs over every byte of every attachment,
 * so it reads four bytes at a time and classifies them two by two (≈ 2 GB/s here, 3× a byte loop).
 */
export function countBase64(bytes: Buffer, start: number, end: number): number {
  const firstEquals = bytes.subarray(start, end).indexOf(EQUALS);
  const padding = firstEquals === -1 ? end : start + firstEquals;
  let characters = 0;
  let invalid = 0;
  let index = start;
  // Byte by byte up to a 4-byte boundary of the underlying memory, word by word, byte by byte.
  const aligned = Math.min(padding, index + ((4 - ((bytes.byteOffset + index) & 3)) & 3));
  for (; index < aligned; index += 1) {
    const byteClass = BASE64_CLASS[bytes[index]];
    characters += byteClass & 1;
    invalid |= byteClass & 2;
  }
  const wordCount = (padding - index) >> 2;
  if (wordCount > 0) {
    const pairClass = base64PairClasses();
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + index, wordCount);
    for (let word = 0; word < wordCount; word += 1) {
      const value = words[word];
      const low = pairClass[value & 0xffff];
      const high = pairClass[value >>> 16];
      characters += (low & 3) + (high & 3);
      invalid |= (low | high) & PAIR_INVALID;
    }
    index += wordCount * 4;
  }
  for (; index < padding; index += 1) {
    const byteClass = BASE64_CLASS[bytes[index]];
    characters += byteClass & 1;
    invalid |= byteClass & 2;
  }
  if (invalid !== 0) return -1;
  for (index = padding; index < end; index += 1) {
    const byte = bytes[index];
    if (byte !== EQUALS && byte !== CR && byte !== LF) return -1;
  }
  return characters;
}

interface PartHead {
  /** Lower-cased type/subtype, '' when there is none. */
  contentType: string;
  /** The boundary parameter, when it is written plainly (no RFC 2231 continuation). */
  boundary: string | null;
  encoding: string;
  /** Where the body starts, after the empty line. */
  bodyStart: number;
}

/** The header block of the part starting at `start` (before `end`), or null when it has no end. */
function readPartHead(bytes: Buffer, start: number, end: number): PartHead | null {
  let blank: number;
  if (bytes[start] === LF) {
    blank = start;
  } else if (bytes[start] === CR && bytes[start + 1] === LF) {
    blank = start;
  } else {
    // The first empty line, CRLF or bare LF, within the part: each part's bytes are searched once,
    // however many parts a hostile message has. The bare LF is looked for only before the first
    // CRLF one (in a CRLF message it never occurs, and looking for it would read the whole part).
    const part = bytes.subarray(start, end);
    const crlf = part.indexOf('\n\r\n');
    const lfBefore = part.subarray(0, crlf === -1 ? part.length : crlf).indexOf('\n\n');
    const found = lfBefore !== -1 ? lfBefore : crlf;
    if (found === -1) return null;
    blank = start + found + 1;
  }
  const bodyStart = bytes[blank] === CR ? blank + 2 : blank + 1;
  if (bodyStart > end) return null;
  // The fields as the fallback reader reads them (raw-headers.ts): unfolded, the first of a repeated
  // field counting, as in mailsplit (getFirst).
  const fields = readRawHeaders(bytes.subarray(start, blank));
  const contentTypeField = firstHeader(fields, 'content-type') ?? '';
  const semicolon = contentTypeField.indexOf(';');
  const contentType = (semicolon === -1 ? contentTypeField : contentTypeField.slice(0, semicolon)).trim().toLowerCase();
  const boundaryMatch = /;\s*boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))/i.exec(contentTypeField);
  return {
    contentType,
    boundary: boundaryMatch ? (boundaryMatch[1] ?? boundaryMatch[2]) : null,
    encoding: (firstHeader(fields, 'content-transfer-encoding') ?? '').toLowerCase(),
    bodyStart,
  };
}

interface Region {
  start: number;
  end: number;
  size: number;
}

interface Scan {
  regions: Region[];
  parts: number;
  minBodyBytes: number;
}

/**
 * The delimiter lines of `boundary` in `bytes[from, end)`: where each line starts, where the line
 * after it starts, and whether it closes the multipart (RFC 2046 §5.1.1, as mailsplit reads them:
 * "--boundary" then a line break, or "--boundary--").
 */
function* delimiters(
  bytes: Buffer,
  boundary: Buffer,
  from: number,
  end: number,
): Generator<{ lineStart: number; next: number; closing: boolean }> {
  let search = from;
  while (search < end) {
    let lineStart: number;
    if (search === from && bytes[from] === 0x2d && bytes[from + 1] === 0x2d) {
      lineStart = from;
    } else {
      const found = bytes.indexOf('\n--', search);
      if (found === -1 || found >= end) return;
      lineStart = found + 1;
    }
    search = lineStart + 2;
    if (lineStart + 2 + boundary.length > bytes.length) return;
    if (bytes.compare(boundary, 0, boundary.length, lineStart + 2, lineStart + 2 + boundary.length) !== 0) continue;
    let cursor = lineStart + 2 + boundary.length;
    let closing = false;
    if (bytes[cursor] === 0x2d && bytes[cursor + 1] === 0x2d) {
      closing = true;
      cursor += 2;
    }
    if (bytes[cursor] === CR && bytes[cursor + 1] === LF) cursor += 2;
    else if (bytes[cursor] === LF) cursor += 1;
    else if (!(closing && cursor >= end)) continue;
    yield { lineStart, next: cursor, closing };
    if (closing) return;
  }
}

/** The start of the line break that ends the body before a delimiter line starting at `lineStart`. */
function bodyEndBefore(bytes: Buffer, lineStart: number, bodyStart: number): number {
  let end = lineStart;
  if (end > bodyStart && bytes[end - 1] === LF) end -= 1;
  if (end > bodyStart && bytes[end - 1] === CR) end -= 1;
  return end;
}

/** Finds the elidable bodies of the multipart whose body is `bytes[from, end)`. */
function scanMultipart(
  bytes: Buffer,
  boundaryText: string,
  from: number,
  end: number,
  depth: number,
  scan: Scan,
): void {
  if (depth > MAX_SCAN_DEPTH) return;
  // The header was read as UTF-8 (readRawHeaders), so the boundary goes back to bytes the same way;
  // one that is not valid UTF-8 then matches no line, and nothing is elided under it.
  const boundary = Buffer.from(boundaryText, 'utf8');
  let partStart = -1;
  for (const delimiter of delimiters(bytes, boundary, from, end)) {
    if (partStart !== -1) scanPart(bytes, partStart, delimiter.lineStart, depth + 1, scan);
    partStart = delimiter.closing ? -1 : delimiter.next;
    if (scan.parts > MAX_SCAN_PARTS) return;
  }
  // A multipart cut short (no closing delimiter): its last part runs to the end of what is left.
  if (partStart !== -1) scanPart(bytes, partStart, end, depth + 1, scan);
}

function scanPart(bytes: Buffer, start: number, end: number, depth: number, scan: Scan): void {
  scan.parts += 1;
  const head = readPartHead(bytes, start, end);
  if (!head) return;
  if (head.contentType.startsWith('multipart/')) {
    if (head.boundary !== null) scanMultipart(bytes, head.boundary, head.bodyStart, end, depth, scan);
    return;
  }
  if (head.encoding !== 'base64' || !isAttachmentType(head.contentType)) return;
  const bodyEnd = bodyEndBefore(bytes, end, head.bodyStart);
  if (bodyEnd - head.bodyStart < scan.minBodyBytes) return;
  const characters = countBase64(bytes, head.bodyStart, bodyEnd);
  if (characters < 0) return;
  scan.regions.push({ start: head.bodyStart, end: bodyEnd, size: decodedBase64Size(characters) });
}

/**
 * The message with its attachments' base64 bodies replaced by markers, or null when it has none
 * worth eliding (or its structure is not one this scanner reads).
 */
export function elideAttachmentBodies(bytes: Buffer, minBodyBytes = MIN_ELIDED_BODY_BYTES): Elision | null {
  const head = readPartHead(bytes, 0, bytes.length);
  if (!head || !head.contentType.startsWith('multipart/') || head.boundary === null) return null;
  const scan: Scan = { regions: [], parts: 0, minBodyBytes };
  scanMultipart(bytes, head.boundary, head.bodyStart, bytes.length, 0, scan);
  if (scan.regions.length === 0) return null;
  const pieces: Buffer[] = [];
  const markers: Buffer[] = [];
  let cursor = 0;
  scan.regions.forEach((region, index) => {
    const marker = markerFor(index);
    markers.push(marker);
    pieces.push(bytes.subarray(cursor, region.start), Buffer.from(marker.toString('base64'), 'latin1'));
    cursor = region.end;
  });
  pieces.push(bytes.subarray(cursor));
  return { source: Buffer.concat(pieces), markers, sizes: scan.regions.map((region) => region.size) };
}
