/**
 * The checks of the MIME fuzz tests, shared by the bounded run in `npm test` (mime-fuzz.test.ts)
 * and the long run (fuzz-long.ts). Each returns normally or throws an Error saying what broke.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { BodyPart } from '../../shared/model';
import { elideAttachmentBodies } from '../mime/elide';
import { PARSE_TIMEOUT_MS, parseMessage, type ParseResult } from '../mime/parse';
import type { MessageStore } from '../store/message-store';
import { renderMessage, type MessageSpec, type RenderedMessage } from './mime-arbitrary';

/** Slack on top of the parser's own timeout for a loaded 2-core machine (timers fire late). */
export const PARSE_SLACK_MS = 2_000;
const MARKER = /QZX\d+XZQ/g;

function fail(message: string, rendered: RenderedMessage): never {
  const preview = rendered.raw.subarray(0, 600).toString('latin1');
  throw new Error(`${message}\n--- first bytes of the message ---\n${preview}`);
}

async function timedParse(rendered: RenderedMessage): Promise<ParseResult> {
  const started = performance.now();
  let result: ParseResult;
  try {
    result = await parseMessage(rendered.raw);
  } catch (error) {
    fail(`parseMessage threw: ${error instanceof Error ? error.stack : String(error)}`, rendered);
  }
  const elapsed = performance.now() - started;
  if (elapsed > PARSE_TIMEOUT_MS + PARSE_SLACK_MS) {
    fail(`parseMessage took ${Math.round(elapsed)} ms (limit ${PARSE_TIMEOUT_MS} ms)`, rendered);
  }
  return result;
}

function markersIn(part: BodyPart): string[] {
  return [...new Set(part.content.match(MARKER) ?? [])];
}

/** Line ends, byte-order marks and replacement characters aside: what the bytes say as UTF-8. */
function comparable(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/[\ufeff\ufffd]/g, '');
}

function checkShape(result: ParseResult, rendered: RenderedMessage): void {
  const ids = [...result.parts.map((part) => part.partId), ...result.attachments.map((item) => item.partId)];
  if (new Set(ids).size !== ids.length) fail(`part numbers repeat: ${ids.join(', ')}`, rendered);
  for (const id of ids) {
    if (!/^[1-9]\d*(\.[1-9]\d*)*$/.test(id)) fail(`"${id}" is not an IMAP part number`, rendered);
  }
  for (const part of result.parts) {
    if (part.kind !== 'text' && part.kind !== 'html')
      fail(`part ${part.partId} has kind ${String(part.kind)}`, rendered);
    if (typeof part.content !== 'string') fail(`part ${part.partId} has no text content`, rendered);
  }
}

/**
 * Hostile input: never throws, settles in time, and every HTML part shown is the content of one
 * MIME part — a contiguous run of the message's own bytes (hostile HTML is sent as 8-bit UTF-8),
 * never pieces of several parts joined together (mailparser joins HTML parts with `<br/>`).
 */
export async function checkHostile(spec: MessageSpec): Promise<void> {
  const rendered = renderMessage(spec, true);
  const result = await timedParse(rendered);
  checkShape(result, rendered);
  const raw = comparable(rendered.raw.toString('utf8'));
  for (const part of result.parts) {
    if (part.kind !== 'html') continue;
    if (!raw.includes(comparable(part.content))) {
      fail(`HTML part ${part.partId} is not the content of one MIME part:\n${part.content.slice(0, 400)}`, rendered);
    }
  }
}

/**
 * Well-formed input: each displayable part is shown once, under its IMAP part number, decoded
 * from its charset and transfer encoding, and never mixed with another part; the sender's
 * address is never taken from an encoded word.
 */
export async function checkWellFormed(spec: MessageSpec): Promise<void> {
  const rendered = renderMessage(spec, false);
  const result = await timedParse(rendered);
  checkShape(result, rendered);
  if (result.parseWarning !== null) fail(`a well-formed message got a warning: ${result.parseWarning}`, rendered);
  const leafByMarker = new Map(rendered.leaves.map((leaf) => [leaf.marker, leaf]));
  const shown = new Set<string>();
  for (const part of result.parts) {
    const markers = markersIn(part);
    if (markers.length !== 1) {
      fail(`part ${part.partId} holds ${markers.length} MIME parts (${markers.join(', ')})`, rendered);
    }
    const leaf = leafByMarker.get(markers[0]);
    if (!leaf) fail(`part ${part.partId} shows an unknown marker ${markers[0]}`, rendered);
    if (shown.has(leaf.marker)) fail(`the MIME part ${leaf.partId} is shown twice`, rendered);
    shown.add(leaf.marker);
    if (leaf.attached) fail(`part ${leaf.partId} of an attached message is shown as a body part`, rendered);
    if (part.partId !== leaf.partId) fail(`part ${leaf.partId} is shown as part ${part.partId}`, rendered);
    if ((part.kind === 'html') !== leaf.html) fail(`part ${leaf.partId} is shown as ${part.kind}`, rendered);
    if (!part.content.includes(leaf.text)) {
      fail(`part ${leaf.partId} does not show "${leaf.text}" decoded:\n${part.content.slice(0, 300)}`, rendered);
    }
  }
  for (const leaf of rendered.leaves) {
    if (!leaf.alternative && !leaf.attached && !shown.has(leaf.marker)) {
      fail(`part ${leaf.partId} (${leaf.html ? 'HTML' : 'text'}) is not shown`, rendered);
    }
  }
  const from = result.envelope.from;
  if (from?.address === spec.from.forbidden) fail(`the sender address came out of an encoded word`, rendered);
  if (spec.from.address !== null && from?.address !== spec.from.address) {
    fail(`the sender is ${JSON.stringify(from)}, expected ${spec.from.address}`, rendered);
  }
}

/**
 * A parse that counts attachment bodies instead of decoding them (elide.ts; every base64 body is
 * left out, however short: the generated attachments are small) gives the same parts, envelope,
 * text, attachments and warnings as one that decodes them, and the parse for the index the same
 * without the parts. Returns whether the message had bodies to leave out, so that a run can tell
 * it compared more than unelided ones.
 */
export async function checkElidedParse(spec: MessageSpec, hostile: boolean): Promise<boolean> {
  const rendered = renderMessage(spec, hostile);
  const full = await parseMessage(rendered.raw, { elide: false });
  const elided = await parseMessage(rendered.raw, { minElidedBodyBytes: 1 });
  const indexed = await parseMessage(rendered.raw, { indexOnly: true, minElidedBodyBytes: 1 });
  // A parse cut by its time limit on a loaded machine says nothing about the elision.
  const timedOut = (result: ParseResult) => result.parseWarning?.includes('was stopped') === true;
  if (timedOut(full) || timedOut(elided) || timedOut(indexed)) return false;
  if (!isDeepStrictEqual(elided, full)) {
    fail(
      `the parse that counts attachment bodies differs from the one that decodes them:\n${JSON.stringify(elided).slice(0, 800)}\n${JSON.stringify(full).slice(0, 800)}`,
      rendered,
    );
  }
  if (!isDeepStrictEqual(indexed, { ...full, parts: [] })) {
    fail(
      `the parse for the index differs from the full parse:\n${JSON.stringify(indexed).slice(0, 800)}\n${JSON.stringify({ ...full, parts: [] }).slice(0, 800)}`,
      rendered,
    );
  }
  return elideAttachmentBodies(rendered.raw, 1) !== null;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Stored bytes equal the input (file and recorded SHA-256), and the stored message opens. */
export async function checkStored(spec: MessageSpec, store: MessageStore, folderId: string): Promise<void> {
  const rendered = renderMessage(spec, true);
  const { record } = await store.insertMessage({ folderId, source: rendered.raw, onServer: false });
  const expected = sha256(rendered.raw);
  if (record.sha256 !== expected) fail(`the index records SHA-256 ${record.sha256}, expected ${expected}`, rendered);
  if (record.localPath === null) fail('the message was stored without a file', rendered);
  const stored = await readFile(record.localPath);
  if (sha256(stored) !== expected) fail('the stored file differs from the input', rendered);
  const detail = await store.getMessageDetail(record.id);
  if (detail.parts === null) fail('the stored message does not open', rendered);
  await store.deleteMessage(record.id);
}
