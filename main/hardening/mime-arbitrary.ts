/**
 * Structured-random MIME messages for the parser fuzz tests (fast-check arbitraries).
 *
 * A message is first drawn as a plain-data tree (so fast-check can shrink a failure to a small
 * one), then rendered to bytes. Two flavours:
 * - well-formed: random nesting of multipart/mixed, alternative and related, message/rfc822
 *   attachments, binary attachments, text and HTML in many charsets and every transfer encoding
 *   (RFC 2045-2047), and a From header with encoded-word tricks. The renderer knows each text
 *   part's IMAP part number (RFC 3501 section 6.4.5) and decoded text, so a test can compare.
 * - hostile: the same trees with faults — closing boundaries missing or doubled, a boundary
 *   reused by a child, no boundary parameter, broken base64 and quoted-printable, unknown or
 *   garbage charsets, garbage Content-Type, bare LF or CR line ends, huge and malformed headers,
 *   nesting deeper than the parser's limit.
 *
 * Every text and HTML leaf carries a unique ASCII marker, so a test can tell which MIME part a
 * displayed part came from.
 */
import fc from 'fast-check';

// ---- charsets: sample text, its bytes, and how ASCII (markers, markup) is encoded alongside ----

export interface CharsetSample {
  /** The charset parameter as written (RFC 2046 section 4.1.2). */
  name: string;
  /** What the sample decodes to. */
  text: string;
  bytes: Buffer;
  /** ASCII in this charset: one byte per character, or UTF-16 code units. */
  ascii: 'latin1' | 'utf16le';
}

const hex = (digits: string): Buffer => Buffer.from(digits.replace(/\s+/g, ''), 'hex');

export const CHARSET_SAMPLES: readonly CharsetSample[] = [
  { name: 'us-ascii', text: 'plain words', bytes: Buffer.from('plain words', 'latin1'), ascii: 'latin1' },
  {
    name: 'utf-8',
    text: 'Grüße, 日本語, 🎉 done',
    bytes: Buffer.from('Grüße, 日本語, 🎉 done', 'utf8'),
    ascii: 'latin1',
  },
  { name: 'iso-8859-1', text: 'Grüße', bytes: Buffer.from('Grüße', 'latin1'), ascii: 'latin1' },
  // Euro sign, en dash, curly quotes: the bytes 0x80-0x9F where windows-1252 differs from latin1.
  { name: 'windows-1252', text: '€ – “quoted”', bytes: hex('80 20 96 20 93 71756f746564 94'), ascii: 'latin1' },
  { name: 'koi8-r', text: 'Привет', bytes: hex('f0 d2 c9 d7 c5 d4'), ascii: 'latin1' },
  // RFC 1468: switch to JIS X 0208 (ESC $ B), three characters, back to ASCII (ESC ( B).
  { name: 'iso-2022-jp', text: '日本語', bytes: hex('1b2442 467c 4b5c 386c 1b2842'), ascii: 'latin1' },
  { name: 'gbk', text: '中文', bytes: hex('d6d0 cec4'), ascii: 'latin1' },
  { name: 'utf-16le', text: 'wide 文字', bytes: Buffer.from('wide 文字', 'utf16le'), ascii: 'utf16le' },
];

// ---- the tree ----

export type TransferEncoding = '7bit' | '8bit' | 'base64' | 'quoted-printable';

export type LeafFault =
  | 'none'
  | 'bad-base64'
  | 'bad-quoted-printable'
  | 'unknown-charset'
  | 'garbage-charset'
  | 'no-content-type'
  | 'garbage-content-type';

export type MultipartFault =
  | 'none'
  | 'no-closing-boundary'
  | 'closed-twice'
  | 'no-boundary-parameter'
  | 'reuses-parent-boundary'
  | 'no-first-delimiter'
  | 'base64-transfer-encoding';

export interface TextLeaf {
  kind: 'text';
  html: boolean;
  charset: number;
  encoding: TransferEncoding;
  /** Extra text in the part (hostile messages: any Unicode; well-formed: a word list). */
  filler: string;
  fault: LeafFault;
}

export interface BinaryLeaf {
  kind: 'binary';
  mediaType: 'application/octet-stream' | 'image/png' | 'application/pdf';
  content: Uint8Array;
  filename: string;
  fault: LeafFault;
}

export interface MultipartNode {
  kind: 'multipart';
  subtype: 'mixed' | 'alternative' | 'related';
  /** Random boundary characters (RFC 2046 section 5.1.1 bchars); made unique when rendered. */
  boundary: string;
  preamble: string;
  epilogue: string;
  children: MimeNode[];
  fault: MultipartFault;
}

export interface AttachedMessage {
  kind: 'message';
  subject: string;
  body: MimeNode;
}

export type MimeNode = TextLeaf | BinaryLeaf | MultipartNode | AttachedMessage;

/** A From header and the address a correct parser must report for it (null: any but `forbidden`). */
export interface FromHeader {
  value: string;
  address: string | null;
  /** An address the parser must never report (the one hidden in an encoded word). */
  forbidden: string;
}

export type HeaderFault =
  | { kind: 'none' }
  | { kind: 'huge-subject'; bytes: number }
  | { kind: 'many-recipients'; count: number }
  | { kind: 'many-fields'; count: number }
  | { kind: 'deep-folding'; count: number }
  | { kind: 'nul-and-controls' }
  | { kind: 'field-without-colon' }
  | { kind: 'unterminated-encoded-words' };

export type LineEnding = 'crlf' | 'lf' | 'mixed' | 'cr';

export interface MessageSpec {
  from: FromHeader;
  body: MimeNode;
  headerFault: HeaderFault;
  lineEnding: LineEnding;
}

// ---- arbitraries ----

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const wordText = fc.array(fc.constantFrom(...WORDS), { maxLength: 12 }).map((words) => words.join(' '));
/** Any Unicode, without lines that start with "--" (which could close a part by accident). */
const unicodeText = fc
  .string({ unit: 'grapheme', maxLength: 200 })
  .map((text) => text.replace(/(^|[\r\n])-/g, '$1 -').replace(/\r/g, ''));
const boundaryCharacters = fc
  .string({
    unit: fc.constantFrom(..."abcXYZ0189'()+_,-./:=?".split('')),
    minLength: 1,
    maxLength: 40,
  })
  .map((text) => text.replace(/ +$/, ''));
const filename = fc.constantFrom('report.pdf', 'image.png', 'données.bin', 'a "quoted" name.txt', '../../etc/passwd');

function textLeaf(hostile: boolean): fc.Arbitrary<TextLeaf> {
  return fc.record({
    kind: fc.constant('text' as const),
    html: fc.boolean(),
    charset: fc.nat({ max: CHARSET_SAMPLES.length - 1 }),
    encoding: fc.constantFrom<TransferEncoding>('7bit', '8bit', 'base64', 'quoted-printable'),
    filler: hostile ? unicodeText : wordText,
    fault: hostile
      ? fc.constantFrom<LeafFault>(
          'none',
          'bad-base64',
          'bad-quoted-printable',
          'unknown-charset',
          'garbage-charset',
          'no-content-type',
          'garbage-content-type',
        )
      : fc.constant<LeafFault>('none'),
  });
}

function binaryLeaf(hostile: boolean): fc.Arbitrary<BinaryLeaf> {
  return fc.record({
    kind: fc.constant('binary' as const),
    mediaType: fc.constantFrom('application/octet-stream' as const, 'image/png' as const, 'application/pdf' as const),
    content: fc.uint8Array({ maxLength: 3000 }),
    filename,
    fault: hostile ? fc.constantFrom<LeafFault>('none', 'bad-base64', 'garbage-content-type') : fc.constant('none'),
  });
}

/** Relative odds of a leaf, a multipart and an attached message at one level of the tree. */
interface NodeWeights {
  leaf: number;
  multipart: number;
  message: number;
}

const INNER_WEIGHTS: NodeWeights = { leaf: 4, multipart: 3, message: 1 };
/** At the top, mostly multiparts: single-part messages are the easy case. */
const TOP_WEIGHTS: NodeWeights = { leaf: 1, multipart: 5, message: 0 };

function nodeArbitrary(
  hostile: boolean,
  depthLeft: number,
  weights: NodeWeights = INNER_WEIGHTS,
): fc.Arbitrary<MimeNode> {
  const leaves = fc.oneof({ weight: 3, arbitrary: textLeaf(hostile) }, { weight: 1, arbitrary: binaryLeaf(hostile) });
  if (depthLeft <= 0) return leaves;
  const multipart: fc.Arbitrary<MultipartNode> = fc.record({
    kind: fc.constant('multipart' as const),
    subtype: fc.constantFrom('mixed' as const, 'alternative' as const, 'related' as const),
    boundary: boundaryCharacters,
    preamble: hostile ? unicodeText : fc.constantFrom('', 'This is a multi-part message in MIME format.'),
    epilogue: hostile ? unicodeText : fc.constant(''),
    children: fc.array(nodeArbitrary(hostile, depthLeft - 1), { minLength: hostile ? 0 : 1, maxLength: 4 }),
    fault: hostile
      ? fc.constantFrom<MultipartFault>(
          'none',
          'no-closing-boundary',
          'closed-twice',
          'no-boundary-parameter',
          'reuses-parent-boundary',
          'no-first-delimiter',
          'base64-transfer-encoding',
        )
      : fc.constant<MultipartFault>('none'),
  });
  const attached: fc.Arbitrary<AttachedMessage> = fc.record({
    kind: fc.constant('message' as const),
    subject: wordText,
    body: nodeArbitrary(hostile, depthLeft - 1),
  });
  const choices: Array<fc.WeightedArbitrary<MimeNode>> = [
    { weight: weights.leaf, arbitrary: leaves },
    { weight: weights.multipart, arbitrary: multipart },
    { weight: weights.message, arbitrary: attached },
  ];
  return fc.oneof(...choices.filter((choice) => choice.weight > 0));
}

/** A chain of single-child multiparts deeper than the parser shows (MAX_NESTING_DEPTH is 32). */
function deepChain(depth: number, leaf: MimeNode): MimeNode {
  let node = leaf;
  for (let level = 0; level < depth; level += 1) {
    node = {
      kind: 'multipart',
      subtype: 'mixed',
      boundary: 'deep',
      preamble: '',
      epilogue: '',
      children: [node],
      fault: 'none',
    };
  }
  return node;
}

const base64Of = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function fromHeader(hostile: boolean): fc.Arbitrary<FromHeader> {
  const spoof = 'ceo@bank.example';
  const real = 'sender@mail.example';
  const choices: Array<fc.Arbitrary<FromHeader>> = [
    fc.constant({ value: `"Plain Name" <${real}>`, address: real, forbidden: spoof }),
    // An encoded display name that decodes to something that looks like an address list.
    fc.constant({
      value: `=?utf-8?B?${base64Of(`"Bank" <${spoof}>, other@x.example`)}?= <${real}>`,
      address: real,
      forbidden: spoof,
    }),
    fc.constant({ value: `=?utf-8?Q?ceo=40bank.example?= <${real}>`, address: real, forbidden: spoof }),
    fc.constant({ value: `=?iso-8859-1?Q?Gr=FC=DFe?= <${real}>`, address: real, forbidden: spoof }),
    fc.constant({
      value: `"=?utf-8?B?${base64Of(`<${spoof}>`)}?=" <${real}>`,
      address: real,
      forbidden: spoof,
    }),
    // Mailsploit (2017): encoded words with a NUL inside the local part of an address.
    fc.constant({
      value: `=?utf-8?b?${base64Of(spoof)}?==?utf-8?Q?=00?==?utf-8?b?${base64Of(`(${spoof})`)}?=@evil.example`,
      address: null,
      forbidden: spoof,
    }),
  ];
  if (hostile) {
    choices.push(
      fc.constant({ value: '=?x-unknown-charset?B?AAAA?= <a@b.example>', address: null, forbidden: spoof }),
      fc.constant({ value: '=?utf-8?B?not base64!!?= <a@b.example>', address: null, forbidden: spoof }),
      fc.constant({ value: '"unterminated <a@b.example>', address: null, forbidden: spoof }),
      fc.constant({ value: '<<<>>>@@@,,,;;;', address: null, forbidden: spoof }),
      unicodeText.map((text) => ({ value: text.replace(/\n/g, ' '), address: null, forbidden: spoof })),
    );
  }
  return fc.oneof(...choices);
}

const headerFault: fc.Arbitrary<HeaderFault> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('huge-subject' as const), bytes: fc.integer({ min: 10_000, max: 300_000 }) }),
  fc.record({ kind: fc.constant('many-recipients' as const), count: fc.integer({ min: 100, max: 3_000 }) }),
  fc.record({ kind: fc.constant('many-fields' as const), count: fc.integer({ min: 100, max: 5_000 }) }),
  fc.record({ kind: fc.constant('deep-folding' as const), count: fc.integer({ min: 100, max: 5_000 }) }),
  fc.constant({ kind: 'nul-and-controls' as const }),
  fc.constant({ kind: 'field-without-colon' as const }),
  fc.constant({ kind: 'unterminated-encoded-words' as const }),
);

/** Messages a conforming sender could write: every rule of RFC 2045-2049 respected. */
export function wellFormedMessage(): fc.Arbitrary<MessageSpec> {
  return fc.record({
    from: fromHeader(false),
    body: nodeArbitrary(false, 4, TOP_WEIGHTS),
    headerFault: fc.constant<HeaderFault>({ kind: 'none' }),
    lineEnding: fc.constant<LineEnding>('crlf'),
  });
}

/** Anything a spammer, a broken gateway or an attacker could send. */
export function hostileMessage(): fc.Arbitrary<MessageSpec> {
  const body = fc.oneof(
    { weight: 8, arbitrary: nodeArbitrary(true, 5, TOP_WEIGHTS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 30, max: 45 }), textLeaf(true))
        .map(([depth, leaf]) => deepChain(depth, leaf)),
    },
  );
  return fc.record({
    from: fromHeader(true),
    body,
    headerFault,
    lineEnding: fc.constantFrom<LineEnding>('crlf', 'crlf', 'lf', 'mixed', 'cr'),
  });
}

// ---- rendering ----

/** A text or HTML leaf as rendered: where a correct parser shows it, and what it must show. */
export interface RenderedLeaf {
  marker: string;
  html: boolean;
  /** IMAP part number (RFC 3501 section 6.4.5). */
  partId: string;
  /** The decoded sample text the part must contain (well-formed messages). */
  text: string;
  /** Inside a multipart/alternative: only one alternative is shown. */
  alternative: boolean;
  /** Inside an attached message/rfc822: shown as an attachment, not as a body part. */
  attached: boolean;
  /** Some fault on the way could make a parser see this leaf differently. */
  faulty: boolean;
}

export interface RenderedMessage {
  raw: Buffer;
  leaves: RenderedLeaf[];
}

interface RenderContext {
  leaves: RenderedLeaf[];
  nextMarker: number;
  nextBoundary: number;
}

interface Rendered {
  headers: string[];
  body: Buffer;
}

const CRLF = '\r\n';

/** RFC 2045 section 6.8: base64 in lines of 76 characters. */
function base64Lines(bytes: Buffer): string {
  const encoded = bytes.toString('base64');
  const lines: string[] = [];
  for (let start = 0; start < encoded.length; start += 76) lines.push(encoded.slice(start, start + 76));
  return lines.join(CRLF);
}

/** RFC 2045 section 6.7: quoted-printable, soft line breaks before 76 characters. */
function quotedPrintable(bytes: Buffer): string {
  const lines: string[] = [];
  let line = '';
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index];
    if (byte === 0x0d && bytes[index + 1] === 0x0a) {
      lines.push(line);
      line = '';
      index += 1;
      continue;
    }
    const literal = (byte >= 33 && byte <= 126 && byte !== 61) || (byte === 32 && bytes[index + 1] !== 0x0d);
    const piece = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (line.length + piece.length > 75) {
      lines.push(`${line}=`);
      line = '';
    }
    line += piece;
  }
  lines.push(line);
  return lines.join(CRLF);
}

function isSevenBit(bytes: Buffer): boolean {
  return bytes.every((byte) => byte > 0 && byte < 0x80);
}

function encodeBody(bytes: Buffer, encoding: TransferEncoding, fault: LeafFault): { cte: string; body: Buffer } {
  let cte = encoding;
  if ((cte === '7bit' && !isSevenBit(bytes)) || (cte === '8bit' && bytes.includes(0))) cte = 'base64';
  if (fault === 'bad-base64') {
    const encoded = base64Lines(bytes);
    // Characters outside the alphabet, padding in the middle, a cut last quantum.
    const broken = `${encoded.slice(0, Math.floor(encoded.length / 2))}!!@@==**${encoded.slice(Math.floor(encoded.length / 2), -1)}`;
    return { cte: 'base64', body: Buffer.from(broken, 'latin1') };
  }
  if (fault === 'bad-quoted-printable') {
    const encoded = quotedPrintable(bytes);
    return { cte: 'quoted-printable', body: Buffer.from(`=ZZ${encoded}=4=\r\n=\u00ff=`, 'latin1') };
  }
  switch (cte) {
    case 'base64':
      return { cte, body: Buffer.from(base64Lines(bytes), 'latin1') };
    case 'quoted-printable':
      return { cte, body: Buffer.from(quotedPrintable(bytes), 'latin1') };
    default:
      return { cte, body: bytes };
  }
}

function charsetParameter(sample: CharsetSample, fault: LeafFault): string {
  if (fault === 'unknown-charset') return 'x-whereabouts-unknown';
  if (fault === 'garbage-charset') return 'utf-8\u0000../../;"';
  return sample.name;
}

function renderText(leaf: TextLeaf, partId: string, context: RenderContext, flags: LeafFlags): Rendered {
  const sample = CHARSET_SAMPLES[leaf.charset];
  const marker = `QZX${context.nextMarker}XZQ`;
  context.nextMarker += 1;
  const faulty = flags.faulty || leaf.fault !== 'none';
  context.leaves.push({
    marker,
    html: leaf.html,
    partId,
    text: sample.text,
    alternative: flags.alternative,
    attached: flags.attached,
    faulty,
  });
  // Hostile HTML is plain UTF-8 text, so a part's content can be found verbatim in the raw bytes.
  const hostileHtml = flags.hostile && leaf.html;
  const ascii = (text: string): Buffer => Buffer.from(text, hostileHtml ? 'utf8' : sample.ascii);
  const filler = ascii(leaf.filler.replace(/\n/g, CRLF));
  const pieces = leaf.html
    ? [ascii('<html><body><p>'), hostileHtml ? filler : sample.bytes, ascii(`</p>\r\n<p>${marker}</p>\r\n`)]
    : [sample.bytes, ascii(`\r\n${marker}\r\n`), filler, ascii(CRLF)];
  const bytes = Buffer.concat(pieces);
  const mediaType = leaf.html ? 'text/html' : 'text/plain';
  if (hostileHtml) {
    const encoding = leaf.encoding === '7bit' && isSevenBit(bytes) ? '7bit' : '8bit';
    return {
      headers: [`Content-Type: ${mediaType}; charset=utf-8`, `Content-Transfer-Encoding: ${encoding}`],
      body: bytes,
    };
  }
  const { cte, body } = encodeBody(bytes, leaf.encoding, leaf.fault);
  const headers: string[] = [];
  if (leaf.fault === 'garbage-content-type') headers.push(`Content-Type: ${mediaType}; charset=; ;;; name==; =x`);
  else if (leaf.fault !== 'no-content-type') {
    headers.push(`Content-Type: ${mediaType}; charset="${charsetParameter(sample, leaf.fault)}"`);
  }
  headers.push(`Content-Transfer-Encoding: ${cte}`);
  return { headers, body };
}

function renderBinary(leaf: BinaryLeaf): Rendered {
  const { cte, body } = encodeBody(Buffer.from(leaf.content), 'base64', leaf.fault);
  const name = leaf.filename.replace(/["\\]/g, '\\$&');
  const type = leaf.fault === 'garbage-content-type' ? `${leaf.mediaType};;; name=` : leaf.mediaType;
  return {
    headers: [
      `Content-Type: ${type}; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      `Content-Transfer-Encoding: ${cte}`,
    ],
    body,
  };
}

interface LeafFlags {
  hostile: boolean;
  alternative: boolean;
  attached: boolean;
  faulty: boolean;
  parentBoundary: string | null;
}

function childId(parentId: string, index: number): string {
  return parentId ? `${parentId}.${index + 1}` : `${index + 1}`;
}

function renderMultipart(node: MultipartNode, partId: string, context: RenderContext, flags: LeafFlags): Rendered {
  context.nextBoundary += 1;
  const boundary =
    node.fault === 'reuses-parent-boundary' && flags.parentBoundary !== null
      ? flags.parentBoundary
      : `=_wb${context.nextBoundary}_${node.boundary}`;
  const childFlags: LeafFlags = {
    ...flags,
    alternative: flags.alternative || node.subtype === 'alternative',
    faulty: flags.faulty || node.fault !== 'none',
    parentBoundary: boundary,
  };
  const parts: Buffer[] = [];
  if (node.preamble) parts.push(Buffer.from(`${node.preamble.replace(/\n/g, CRLF)}${CRLF}`, 'utf8'));
  node.children.forEach((child, index) => {
    const rendered = renderNode(child, childId(partId, index), context, childFlags);
    const delimiter = index === 0 && node.fault === 'no-first-delimiter' ? '' : `--${boundary}${CRLF}`;
    parts.push(Buffer.from(`${delimiter}${rendered.headers.join(CRLF)}${CRLF}${CRLF}`, 'utf8'), rendered.body);
    parts.push(Buffer.from(CRLF));
  });
  if (node.fault !== 'no-closing-boundary') parts.push(Buffer.from(`--${boundary}--${CRLF}`));
  if (node.fault === 'closed-twice') parts.push(Buffer.from(`--${boundary}--${CRLF}--${boundary}${CRLF}`));
  if (node.epilogue) parts.push(Buffer.from(`${node.epilogue.replace(/\n/g, CRLF)}${CRLF}`, 'utf8'));
  const parameter = node.fault === 'no-boundary-parameter' ? '' : `; boundary="${boundary}"`;
  const headers = [`Content-Type: multipart/${node.subtype}${parameter}`];
  if (node.fault === 'base64-transfer-encoding') headers.push('Content-Transfer-Encoding: base64');
  return { headers, body: Buffer.concat(parts) };
}

function renderNode(node: MimeNode, partId: string, context: RenderContext, flags: LeafFlags): Rendered {
  switch (node.kind) {
    case 'text':
      return renderText(node, partId || '1', context, flags);
    case 'binary':
      return renderBinary(node);
    case 'multipart':
      return renderMultipart(node, partId, context, flags);
    case 'message': {
      // RFC 3501 section 6.4.5: a multipart inside message/rfc822 shares the part's number.
      const innerId = node.body.kind === 'multipart' ? partId : childId(partId, 0);
      const inner = renderNode(node.body, innerId, context, { ...flags, attached: true, parentBoundary: null });
      const head = [
        'From: Inner Sender <inner@mail.example>',
        `Subject: ${node.subject || 'attached'}`,
        'MIME-Version: 1.0',
        ...inner.headers,
      ];
      return {
        headers: ['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="attached.eml"'],
        body: Buffer.concat([Buffer.from(`${head.join(CRLF)}${CRLF}${CRLF}`, 'utf8'), inner.body]),
      };
    }
  }
}

function faultyHeaders(fault: HeaderFault): string[] {
  switch (fault.kind) {
    case 'none':
      return [];
    case 'huge-subject':
      return [`X-Huge: ${'word '.repeat(Math.ceil(fault.bytes / 5))}`];
    case 'many-recipients':
      return [
        `Cc: ${Array.from({ length: fault.count }, (_, index) => `"Person ${index}" <p${index}@example.org>`).join(',\r\n ')}`,
      ];
    case 'many-fields':
      return Array.from({ length: fault.count }, (_, index) => `X-Field-${index}: value ${index}`);
    case 'deep-folding':
      return [`X-Folded: start${'\r\n continued'.repeat(fault.count)}`];
    case 'nul-and-controls':
      return ['X-Controls: a\u0000b\u0001c\u001bd\u007f', 'Subject: =?utf-8?Q?nul=00inside?='];
    case 'field-without-colon':
      return ['This line has no colon at all', ': empty name', 'X-Ok: fine'];
    case 'unterminated-encoded-words':
      return ['Subject: =?utf-8?B?SGVsbG8', 'Reply-To: =?utf-8?Q?a <b@c.example>'];
  }
}

function applyLineEnding(raw: Buffer, lineEnding: LineEnding): Buffer {
  if (lineEnding === 'crlf') return raw;
  const text = raw.toString('latin1');
  if (lineEnding === 'lf') return Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1');
  if (lineEnding === 'cr') return Buffer.from(text.replace(/\r\n/g, '\r'), 'latin1');
  let toggle = false;
  return Buffer.from(
    text.replace(/\r\n/g, () => {
      toggle = !toggle;
      return toggle ? '\n' : '\r\n';
    }),
    'latin1',
  );
}

export function renderMessage(spec: MessageSpec, hostile: boolean): RenderedMessage {
  const context: RenderContext = { leaves: [], nextMarker: 0, nextBoundary: 0 };
  const flags: LeafFlags = { hostile, alternative: false, attached: false, faulty: false, parentBoundary: null };
  // The top-level body of a message is never message/rfc822 here; wrap one in a multipart.
  const body: MimeNode =
    spec.body.kind === 'message'
      ? {
          kind: 'multipart',
          subtype: 'mixed',
          boundary: 'top',
          preamble: '',
          epilogue: '',
          children: [spec.body],
          fault: 'none',
        }
      : spec.body;
  const rendered = renderNode(body, '', context, flags);
  const headers = [
    `From: ${spec.from.value}`,
    'To: Recipient <recipient@mail.example>',
    'Subject: fuzzed message',
    'Date: Mon, 01 Jan 2024 10:00:00 +0000',
    'Message-ID: <fuzz@mail.example>',
    ...faultyHeaders(spec.headerFault),
    'MIME-Version: 1.0',
    ...rendered.headers,
  ];
  const raw = Buffer.concat([Buffer.from(`${headers.join(CRLF)}${CRLF}${CRLF}`, 'utf8'), rendered.body]);
  return { raw: applyLineEnding(raw, spec.lineEnding), leaves: context.leaves };
}
