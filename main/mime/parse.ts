/**
 * MIME parsing for the index and the reader, in the main process, with limits.
 *
 * Library choice: mailparser 3.9.3 (its streaming `MailParser` class), not postal-mime. It is
 * already a dependency (no new package), it is a Node stream so a stored file is fed from disk in
 * 64 KB chunks and cut at MAX_PARSE_INPUT_BYTES instead of being read whole, its splitter
 * (@zone-eu/mailsplit) has built-in caps on header size and part count, it decodes every charset
 * iconv-lite knows (including ISO-2022-JP and UTF-7, which the WHATWG TextDecoder lacks), and it
 * yields between chunks, so a timeout can fire while it works. postal-mime needs the whole
 * message in memory as one ArrayBuffer.
 *
 * What mailparser does not give us, we do here: one body part per MIME part (it joins HTML parts
 * with `<br/>`), IMAP part numbers (RFC 3501 §6.4.5) instead of its own, the Date header as
 * written (it substitutes "now" for a bad date, which would make the index differ on rebuild),
 * HTML → text with a linear scanner, and a guarantee: `parseMessage` never throws and always
 * settles within PARSE_TIMEOUT_MS, returning what it could read plus a warning.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { MailParserOptions } from 'mailparser';
import type { Address, AttachmentInfo, BodyPart } from '../../shared/model';
import { elideAttachmentBodies, type Elision } from './elide';
import { collapseWhiteSpace, htmlToText } from './html-text';
import {
  MAX_RAW_HEADER_BYTES,
  decodeEncodedWords,
  firstHeader,
  parseAddressList,
  parseDate,
  parseMessageIds,
  readRawHeaders,
  type RawHeader,
} from './raw-headers';

/** Bytes of a message given to the parser; the rest is stored and counted, not indexed. */
export const MAX_PARSE_INPUT_BYTES = 20 * 1024 * 1024;
/** Header bytes allowed per MIME part (mailsplit's maxHeadSize). */
export const MAX_HEADER_BYTES = 512 * 1024;
/** MIME parts in one message (mailsplit's maxChildNodes). */
export const MAX_MIME_PARTS = 1000;
/** Parts nested deeper than this are neither shown nor indexed. */
export const MAX_NESTING_DEPTH = 32;
/** Decoded characters of one HTML part handed to the reader; a longer part is cut. */
export const MAX_HTML_PART_CHARS = 8 * 1024 * 1024;
/** Characters of body text put into the full-text index. */
export const MAX_INDEXED_BODY_CHARS = 1024 * 1024;
export const PREVIEW_CHARS = 200;
export const PARSE_TIMEOUT_MS = 10_000;
const READ_CHUNK_BYTES = 64 * 1024;

/** The envelope of a message: what both a header-only (IMAP ENVELOPE) and a full row carry. */
export interface Envelope {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: Address | null;
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  /** ISO date from the Date header, or null when missing or not a date. */
  date: string | null;
}

export interface ParsedMessage {
  envelope: Envelope;
  threadId: string | null;
  /** Decoded body text with HTML stripped, for the full-text index (capped). */
  bodyText: string;
  preview: string;
  /** Displayable parts in order; one entry per MIME part. */
  parts: BodyPart[];
  attachments: AttachmentInfo[];
  /** True when an attachment exists that is not just an inline image of an HTML body. */
  hasAttachments: boolean;
  /** Null when the message parsed completely. */
  parseWarning: string | null;
  /**
   * SHA-256 (hex) of the message bytes, when the parse was asked for it (`digest`) and given them in
   * memory: computed where the parse runs, on the parse worker, so that the store does not hash
   * every downloaded message a second time on the main thread.
   */
  sourceSha256?: string;
}

/** The message bytes: in memory, or a stored file (read from disk, never whole). */
export type ParseInput = Buffer | { path: string };

export interface ParseOptions {
  timeoutMs?: number;
  maxInputBytes?: number;
  /** When set, the decoded content of this attachment part is kept and returned. */
  capturePartId?: string;
  /**
   * Only what the index stores (envelope, body text, preview, attachment facts): `parts` comes back
   * empty. For parses on the parse worker, whose result is copied back to the main thread: the
   * decoded parts (up to MAX_HTML_PART_CHARS each) would be copied for nothing.
   */
  indexOnly?: boolean;
  /**
   * Base64 attachment bodies are counted rather than decoded (elide.ts), with the same result,
   * unless this is false (the tests' reference parses) or an attachment is captured.
   */
  elide?: boolean;
  /** For tests: the shortest attachment body counted instead of decoded (elide.ts). */
  minElidedBodyBytes?: number;
  /** Also hash a Buffer input: the result's `sourceSha256`. */
  digest?: boolean;
}

export interface ParseResult extends ParsedMessage {
  captured: { filename: string; contentType: string; content: Buffer } | null;
}

/**
 * Thread id: the root of the References chain (its first entry, RFC 5322 §3.6.4), else the
 * parent named by In-Reply-To, else the message's own Message-ID. Deterministic from the
 * headers alone, so a rebuilt index threads the same way.
 */
export function threadIdOf(envelope: Pick<Envelope, 'messageId' | 'inReplyTo' | 'references'>): string | null {
  return envelope.references[0] ?? envelope.inReplyTo ?? envelope.messageId ?? null;
}

export function previewOf(text: string): string {
  // Only the start matters: flatten a growing prefix rather than a body of up to a million
  // characters. Once a prefix flattens to more than PREVIEW_CHARS + 1 characters, its first
  // PREVIEW_CHARS - 1 are those of the whole text (only its last could be a cut run of spaces).
  for (let length = PREVIEW_CHARS * 4; length < text.length; length *= 4) {
    const flat = text.slice(0, length).replace(/\s+/g, ' ').trimStart();
    if (flat.length > PREVIEW_CHARS + 1) return `${flat.slice(0, PREVIEW_CHARS - 1)}…`;
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

// ---- the parser's tree, checked where it arrives (it is an internal of mailparser) ----

interface TreeNode {
  contentType: string;
  children: TreeNode[];
  textContent: string | null;
  isAttachment: boolean;
  headers: object | null;
}

function toTreeNode(value: unknown, depth: number): TreeNode | null {
  if (typeof value !== 'object' || value === null) return null;
  const raw = value as {
    contentType?: unknown;
    children?: unknown;
    textContent?: unknown;
    isAttachment?: unknown;
    headers?: unknown;
  };
  const children: TreeNode[] = [];
  if (Array.isArray(raw.children) && depth < MAX_NESTING_DEPTH + 2) {
    for (const child of raw.children) {
      const node = toTreeNode(child, depth + 1);
      if (node) children.push(node);
    }
  }
  return {
    contentType: typeof raw.contentType === 'string' ? raw.contentType.toLowerCase() : 'text/plain',
    children,
    textContent: typeof raw.textContent === 'string' ? raw.textContent : null,
    isAttachment: raw.isAttachment === true,
    headers: typeof raw.headers === 'object' && raw.headers !== null ? raw.headers : null,
  };
}

interface AttachmentMeta {
  filename: string | null;
  contentType: string;
  size: number;
  inlineRelated: boolean;
  content: Buffer[] | null;
}

const DISPLAYABLE_TEXT_TYPES = new Set(['text/plain', 'text/html', 'message/delivery-status']);

function isTextLeaf(node: TreeNode): boolean {
  return !node.isAttachment && DISPLAYABLE_TEXT_TYPES.has(node.contentType) && node.textContent !== null;
}

function isDisplayable(node: TreeNode, depth: number): boolean {
  if (depth > MAX_NESTING_DEPTH) return false;
  if (isTextLeaf(node)) return true;
  return node.children.some((child) => isDisplayable(child, depth + 1));
}

function containsPlainText(node: TreeNode, depth: number): boolean {
  if (depth > MAX_NESTING_DEPTH) return false;
  if (isTextLeaf(node)) return node.contentType !== 'text/html';
  return node.children.some((child) => containsPlainText(child, depth + 1));
}

function childPartId(parentId: string, index: number): string {
  return parentId ? `${parentId}.${index + 1}` : `${index + 1}`;
}

interface WalkState {
  parts: BodyPart[];
  indexText: string[];
  attachments: AttachmentInfo[];
  hasAttachments: boolean;
  warnings: Set<string>;
  metaByHeaders: Map<object, AttachmentMeta>;
  capturePartId: string | null;
  captured: ParseResult['captured'];
}

/**
 * Walks the MIME tree assigning IMAP part numbers (RFC 3501 §6.4.5): children of a multipart are
 * N.1, N.2…; a message/rfc822 part's multipart body shares its number and a single-part body is
 * N.1. In multipart/alternative the last part we can show is shown (RFC 2046 §5.1.4: the last is
 * the preferred one) and the plain-text one, when present, is what gets indexed.
 */
function walk(node: TreeNode, partId: string, depth: number, show: boolean, index: boolean, state: WalkState): void {
  if (depth > MAX_NESTING_DEPTH) {
    state.warnings.add(`Parts nested deeper than ${MAX_NESTING_DEPTH} levels are not shown.`);
    return;
  }
  // A part with children that is not multipart: mailsplit honours a boundary parameter on any
  // content type (seen in spam: text/html with a boundary), so walk it as a container.
  const isContainer =
    node.contentType.startsWith('multipart/') || (node.children.length > 0 && node.contentType !== 'message/rfc822');
  if (isContainer) {
    let shownChild = -1;
    let indexedChild = -1;
    if (node.contentType === 'multipart/alternative') {
      node.children.forEach((child, position) => {
        if (isDisplayable(child, depth + 1)) shownChild = position;
      });
      indexedChild = node.children.findIndex((child) => containsPlainText(child, depth + 1));
      if (indexedChild === -1) indexedChild = shownChild;
    }
    node.children.forEach((child, position) => {
      const alternative = node.contentType === 'multipart/alternative';
      walk(
        child,
        childPartId(partId, position),
        depth + 1,
        show && (!alternative || position === shownChild),
        index && (!alternative || position === indexedChild),
        state,
      );
    });
    return;
  }
  if (node.contentType === 'message/rfc822' && node.children.length > 0) {
    const inner = node.children[0];
    const innerId = inner.contentType.startsWith('multipart/') ? partId || '1' : childPartId(partId || '1', 0);
    walk(inner, innerId, depth + 1, show, index, state);
    return;
  }
  const ownId = partId || '1';
  if (isTextLeaf(node)) {
    const content = node.textContent ?? '';
    if (node.contentType === 'text/html') {
      if (show) {
        if (content.length > MAX_HTML_PART_CHARS) {
          state.warnings.add(`An HTML part longer than ${MAX_HTML_PART_CHARS} characters was cut.`);
        }
        state.parts.push({ partId: ownId, kind: 'html', content: content.slice(0, MAX_HTML_PART_CHARS) });
      }
      if (index) state.indexText.push(htmlToText(content));
    } else {
      if (show) state.parts.push({ partId: ownId, kind: 'text', content });
      if (index) state.indexText.push(content);
    }
    return;
  }
  const meta = node.headers ? state.metaByHeaders.get(node.headers) : undefined;
  if (!meta) {
    // A text part whose content never arrived (input cut short) or a node the parser dropped.
    return;
  }
  state.attachments.push({
    partId: ownId,
    filename: meta.filename ?? `part-${ownId}`,
    contentType: meta.contentType,
    size: meta.size,
  });
  if (!meta.inlineRelated) state.hasAttachments = true;
  if (state.capturePartId === ownId && meta.content) {
    state.captured = {
      filename: meta.filename ?? `part-${ownId}`,
      contentType: meta.contentType,
      content: Buffer.concat(meta.content),
    };
  }
}

// ---- headers ----

function addressesFrom(value: unknown): Address[] {
  const objects = Array.isArray(value) ? value : [value];
  const result: Address[] = [];
  const visit = (entries: unknown): void => {
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { name, address, group } = entry as { name?: unknown; address?: unknown; group?: unknown };
      if (Array.isArray(group)) {
        visit(group);
        continue;
      }
      const cleanName = typeof name === 'string' ? name.trim() : '';
      const cleanAddress = typeof address === 'string' ? address.trim() : '';
      if (cleanName || cleanAddress) result.push({ name: cleanName, address: cleanAddress });
    }
  };
  for (const object of objects) {
    if (typeof object === 'object' && object !== null) visit((object as { value?: unknown }).value);
  }
  return result;
}

function stringFrom(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return null;
}

/** The envelope from the raw header fields alone (the fallback, and the Date source always). */
export function envelopeFromRawHeaders(headers: readonly RawHeader[]): Envelope {
  const from = literalAddressesOnly(parseAddressList(firstHeader(headers, 'from')), firstHeader(headers, 'from'));
  return {
    messageId: parseMessageIds(firstHeader(headers, 'message-id'))[0] ?? null,
    inReplyTo: parseMessageIds(firstHeader(headers, 'in-reply-to'))[0] ?? null,
    references: parseMessageIds(firstHeader(headers, 'references')),
    subject: collapseWhiteSpace(decodeEncodedWords(firstHeader(headers, 'subject') ?? '')),
    from: from[0] ?? null,
    to: headers.filter((header) => header.name === 'to').flatMap((header) => parseAddressList(header.value)),
    cc: headers.filter((header) => header.name === 'cc').flatMap((header) => parseAddressList(header.value)),
    bcc: headers.filter((header) => header.name === 'bcc').flatMap((header) => parseAddressList(header.value)),
    replyTo: parseAddressList(firstHeader(headers, 'reply-to')),
    date: parseDate(firstHeader(headers, 'date')),
  };
}

/**
 * An address must stand in the header as written, outside any encoded word. An RFC 2047 encoded
 * word may only carry display text (RFC 2047 section 5): an "address" that appears only after
 * decoding (`From: =?utf-8?B?…ceo@bank.example…?=`, the Mailsploit trick) is a display name that
 * pretends to be a sender, and is shown as such.
 */
export function literalAddressesOnly(addresses: readonly Address[], rawValue: string | null): Address[] {
  if (rawValue === null || !rawValue.includes('=?')) return [...addresses];
  const literal = (rawValue ?? '').replace(/=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=/g, ' ').toLowerCase();
  return addresses.map((entry) => {
    if (entry.address === '' || literal.includes(entry.address.toLowerCase())) return entry;
    const name = [entry.name, entry.address].filter((part) => part !== '').join(' ');
    return { name, address: '' };
  });
}

function envelopeFromParserHeaders(headers: Map<string, unknown>, raw: readonly RawHeader[]): Envelope {
  const subject = stringFrom(headers.get('subject'));
  const from = literalAddressesOnly(addressesFrom(headers.get('from')), firstHeader(raw, 'from'));
  const referencesValue = headers.get('references');
  const references = (Array.isArray(referencesValue) ? referencesValue : [referencesValue])
    .filter((entry): entry is string => typeof entry === 'string')
    .flatMap((entry) => parseMessageIds(entry));
  return {
    messageId: parseMessageIds(stringFrom(headers.get('message-id')))[0] ?? null,
    inReplyTo: parseMessageIds(stringFrom(headers.get('in-reply-to')))[0] ?? null,
    references,
    subject: subject !== null ? collapseWhiteSpace(subject) : '',
    from: from[0] ?? null,
    to: addressesFrom(headers.get('to')),
    cc: addressesFrom(headers.get('cc')),
    bcc: addressesFrom(headers.get('bcc')),
    replyTo: addressesFrom(headers.get('reply-to')),
    // mailparser replaces a bad Date with "now"; the index must not depend on when it parsed.
    date: parseDate(firstHeader(raw, 'date')),
  };
}

async function readHead(input: ParseInput): Promise<Buffer> {
  if (Buffer.isBuffer(input)) return input.subarray(0, MAX_RAW_HEADER_BYTES);
  const handle = await open(input.path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_RAW_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** An error's message, cut to a length that fits a warning. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * What a parse that had to be abandoned from outside yields (parse-pool.ts: a worker that hung or
 * died): the envelope from the raw headers, no body, and `warning`.
 */
export async function headersOnlyParse(input: ParseInput, warning: string): Promise<ParseResult> {
  const warnings = [warning];
  let raw: RawHeader[] = [];
  try {
    raw = readRawHeaders(await readHead(input));
  } catch (error) {
    warnings.push(`The headers could not be read: ${describeError(error)}`);
  }
  const envelope = envelopeFromRawHeaders(raw);
  return {
    envelope,
    threadId: threadIdOf(envelope),
    bodyText: '',
    preview: '',
    parts: [],
    attachments: [],
    hasAttachments: false,
    parseWarning: warnings.join(' '),
    captured: null,
  };
}

/** mailsplit's limits, which MailParser passes through to its Splitter. */
interface ParserLimits extends MailParserOptions {
  maxHeadSize: number;
  maxChildNodes: number;
}

/**
 * mailparser (with html-to-text, linkify-it and more behind it) is loaded by the first parse, not
 * at start-up: a CLI command that parses nothing (a resync with no new mail) starts without it.
 */
let mailparser: Promise<typeof import('mailparser')> | null = null;

function loadMailparser(): Promise<typeof import('mailparser')> {
  // In the CommonJS bundles (CLI, Electron, also from an asar archive) a plain require; under
  // ESM (the tests) import().
  mailparser ??=
    typeof require === 'function'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        Promise.resolve(require('mailparser') as typeof import('mailparser'))
      : import('mailparser');
  return mailparser;
}

/**
 * Parses a message. Never throws, never hangs: on a malformed or hostile message it returns
 * what it could extract (at least the raw headers) with `parseWarning` set.
 */
export async function parseMessage(input: ParseInput, options: ParseOptions = {}): Promise<ParseResult> {
  const result = await parseWithoutDigest(input, options);
  if (options.digest === true && Buffer.isBuffer(input)) {
    result.sourceSha256 = createHash('sha256').update(input).digest('hex');
  }
  return result;
}

async function parseWithoutDigest(input: ParseInput, options: ParseOptions): Promise<ParseResult> {
  const maxInputBytes = options.maxInputBytes ?? MAX_PARSE_INPUT_BYTES;
  if (options.elide === false || options.capturePartId !== undefined) {
    return (await parseWith(input, options, null)).result;
  }
  // Attachment bodies are counted rather than decoded (elide.ts: a 14 MB message with five
  // photos opens in ≈ 20 ms instead of ≈ 160 ms); the result is kept only when mailparser read the
  // shortened message the way the scanner did. A stored file is read whole for that when the
  // parser would read it whole anyway.
  const bytes = Buffer.isBuffer(input) ? input : await readWhole(input.path, maxInputBytes);
  const elision =
    bytes !== null && bytes.length <= maxInputBytes ? elideAttachmentBodies(bytes, options.minElidedBodyBytes) : null;
  if (bytes !== null && elision) {
    const { result, elisionHeld, timedOut } = await parseWith(bytes, options, elision);
    // A parse of the shortened message that ran out of time says what it read, as any parse that
    // runs out of time: the whole message would take longer still (and a parse worker's watchdog
    // allows one time limit, not two).
    if (elisionHeld || timedOut) return result;
  }
  return (await parseWith(bytes ?? input, options, null)).result;
}

/**
 * A stored file's bytes, or null when it is longer than `maxBytes` or cannot be read (the
 * streaming parse then reads what it can and says why).
 */
async function readWhole(path: string, maxBytes: number): Promise<Buffer | null> {
  try {
    const handle = await open(path, 'r');
    try {
      if ((await handle.stat()).size > maxBytes) return null;
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/** Longest decoded content that can be a marker of elide.ts. */
const MAX_MARKER_BYTES = 64;

async function parseWith(
  original: ParseInput,
  options: ParseOptions,
  elision: Elision | null,
): Promise<{ result: ParseResult; elisionHeld: boolean; timedOut: boolean }> {
  const input = elision ? elision.source : original;
  const maxInputBytes = options.maxInputBytes ?? MAX_PARSE_INPUT_BYTES;
  const timeoutMs = options.timeoutMs ?? PARSE_TIMEOUT_MS;
  const warnings = new Set<string>();

  // The raw header fields: the Date always comes from here, the rest only when the parser fails
  // (parsing a huge address list twice would double the cost of hostile mail).
  let rawHeaders: RawHeader[] = [];
  try {
    rawHeaders = readRawHeaders(await readHead(input));
  } catch (error) {
    warnings.add(`The headers could not be read: ${describeError(error)}`);
  }

  const limits: ParserLimits = {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
    maxHeadSize: MAX_HEADER_BYTES,
    maxChildNodes: MAX_MIME_PARTS,
  };
  const { MailParser } = await loadMailparser();
  const parser = new MailParser(limits);
  const metaByHeaders = new Map<object, AttachmentMeta>();
  const markerIndex = new Map(elision?.markers.map((marker, index) => [marker.toString('latin1'), index]));
  const markersSeen = elision ? elision.markers.map(() => 0) : [];
  let parserHeaders: Map<string, unknown> | null = null;
  // Held in an object: assigned inside the promise executor, read after it.
  const reading: { stream: ReturnType<typeof createReadStream> | null } = { stream: null };

  const finished = await new Promise<'end' | 'error' | 'timeout'>((resolve) => {
    let settled = false;
    const settle = (outcome: 'end' | 'error' | 'timeout'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => settle('timeout'), timeoutMs);

    parser.on('headers', (headers: Map<string, unknown>) => {
      parserHeaders = headers;
    });
    parser.on('data', (data: unknown) => {
      if (typeof data !== 'object' || data === null) return;
      const chunk = data as {
        type?: unknown;
        content?: unknown;
        headers?: unknown;
        filename?: unknown;
        contentType?: unknown;
        related?: unknown;
        contentDisposition?: unknown;
        partId?: unknown;
        release?: unknown;
      };
      if (chunk.type !== 'attachment') return;
      const meta: AttachmentMeta = {
        filename: typeof chunk.filename === 'string' && chunk.filename.trim() ? chunk.filename.trim() : null,
        contentType: typeof chunk.contentType === 'string' ? chunk.contentType : 'application/octet-stream',
        size: 0,
        inlineRelated: chunk.related === true && chunk.contentDisposition !== 'attachment',
        content: null,
      };
      if (typeof chunk.headers === 'object' && chunk.headers !== null) metaByHeaders.set(chunk.headers, meta);
      const release = (): void => {
        if (typeof chunk.release === 'function') (chunk.release as () => void)();
      };
      const content = chunk.content as NodeJS.ReadableStream | undefined;
      if (!content || typeof content.on !== 'function') {
        release();
        return;
      }
      const capture: Buffer[] = [];
      const start: Buffer[] = [];
      content.on('data', (piece: Buffer) => {
        meta.size += piece.length;
        if (options.capturePartId !== undefined) capture.push(piece);
        if (elision && meta.size <= MAX_MARKER_BYTES) start.push(piece);
      });
      content.on('error', (error: unknown) => {
        warnings.add(`An attachment could not be decoded: ${describeError(error)}`);
        release();
      });
      content.on('end', () => {
        meta.content = options.capturePartId !== undefined ? capture : null;
        if (elision && meta.size <= MAX_MARKER_BYTES) {
          // A marker: the size is that of the body it stands for.
          const index = markerIndex.get(Buffer.concat(start).toString('latin1'));
          if (index !== undefined) {
            meta.size = elision.sizes[index];
            markersSeen[index] += 1;
          }
        }
        release();
      });
    });
    parser.on('error', (error: unknown) => {
      warnings.add(`The message is malformed: ${describeError(error)}`);
      settle('error');
    });
    // MailParser drops an error of its splitter (such as a size limit) that arrives after the
    // input ended; listen to the splitter itself so the limit shows up as a warning.
    const splitter = (parser as unknown as { splitter?: unknown }).splitter;
    if (splitter instanceof EventEmitter) {
      splitter.on('error', (error: unknown) => warnings.add(`The message is malformed: ${describeError(error)}`));
    }
    parser.on('end', () => settle('end'));

    try {
      if (Buffer.isBuffer(input)) {
        if (input.length > maxInputBytes) {
          warnings.add(`Only the first ${Math.round(maxInputBytes / 1024 / 1024)} MB were read for the index.`);
        }
        parser.end(input.subarray(0, maxInputBytes));
      } else {
        const source = createReadStream(input.path, {
          start: 0,
          end: maxInputBytes - 1,
          highWaterMark: READ_CHUNK_BYTES,
        });
        reading.stream = source;
        source.on('error', (error) => {
          warnings.add(`The stored message could not be read: ${describeError(error)}`);
          settle('error');
        });
        source.on('end', () => {
          if (source.bytesRead >= maxInputBytes) {
            warnings.add(`Only the first ${Math.round(maxInputBytes / 1024 / 1024)} MB were read for the index.`);
          }
        });
        source.pipe(parser);
      }
    } catch (error) {
      warnings.add(`The message could not be parsed: ${describeError(error)}`);
      settle('error');
    }
  });

  if (finished === 'timeout') warnings.add(`Parsing took longer than ${timeoutMs / 1000} s and was stopped.`);
  if (finished !== 'end') {
    reading.stream?.destroy();
    parser.unpipe();
    // Later errors of an abandoned parser must not become uncaught 'error' events.
    parser.on('error', () => undefined);
    parser.destroy();
  }

  const headersSeen: Map<string, unknown> | null = parserHeaders;
  if (!headersSeen && warnings.size === 0) warnings.add('The message headers could not be parsed.');
  const envelope = headersSeen
    ? envelopeFromParserHeaders(headersSeen, rawHeaders)
    : envelopeFromRawHeaders(rawHeaders);

  const state: WalkState = {
    parts: [],
    indexText: [],
    attachments: [],
    hasAttachments: false,
    warnings,
    metaByHeaders,
    capturePartId: options.capturePartId ?? null,
    captured: null,
  };
  try {
    const tree = toTreeNode((parser as unknown as { tree?: unknown }).tree, 0);
    if (tree) walk(tree, '', 0, true, true, state);
  } catch (error) {
    warnings.add(`The message structure could not be read: ${describeError(error)}`);
  }

  const bodyText = collapseWhiteSpace(state.indexText.join('\n')).slice(0, MAX_INDEXED_BODY_CHARS);
  const result: ParseResult = {
    envelope,
    threadId: threadIdOf(envelope),
    bodyText,
    preview: previewOf(bodyText),
    parts: options.indexOnly ? [] : state.parts,
    attachments: state.attachments,
    hasAttachments: state.hasAttachments,
    parseWarning: warnings.size > 0 ? [...warnings].join(' ') : null,
    captured: state.captured,
  };
  // The elision holds when the parse ran to its end and each marker came back, once, as the whole
  // content of an attachment: mailparser then read every elided body as the scanner did.
  return {
    result,
    elisionHeld: finished === 'end' && markersSeen.every((count) => count === 1),
    timedOut: finished === 'timeout',
  };
}
