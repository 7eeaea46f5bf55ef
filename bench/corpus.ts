/**
 * The benchmark's mail corpus: a deterministic, seeded generator of realistic messages. The same
 * seed and index always give the same bytes, on any machine, so every run (and every peer) reads
 * exactly the same mailbox.
 *
 * The mix (per 10,000 messages, about 200 MB in all):
 * - 55 % plain text/plain, 30 % multipart/alternative (text + HTML), 15 % multipart/mixed with one to
 *   three base64 attachments of 1 KB to 2 MB each (decoded);
 * - 25 % of subjects (and some sender names) are RFC 2047 encoded words, B or Q, UTF-8 or ISO-8859-1;
 * - 30 % are replies (In-Reply-To and References per RFC 5322 §3.6.4, "Re: " subject) to a recent message;
 * - bodies are Zipf-distributed words from a fixed vocabulary (so full-text search behaves as on real
 *   mail), CRLF line ends, lines under 78 characters, quoted-printable where a body is not ASCII.
 *
 * A message is planned first (`planMessage`: kind, sizes, threading, flags; cheap) and rendered only when
 * its bytes are needed (`renderMessage`), so the proportions can be checked without building 200 MB.
 */

export const DEFAULT_SEED = 0x5eed_2026;
export const KILOBYTE = 1024;
export const MEGABYTE = 1024 * KILOBYTE;
/** RFC 2045 §6.8: base64 lines are at most 76 characters. */
const BASE64_LINE_CHARACTERS = 76;
/** RFC 2047 §2: an encoded word is at most 75 characters. */
const ENCODED_WORD_CHARACTERS = 75;
/** Text lines are wrapped before this, well under RFC 5322's 78-character recommendation. */
const TEXT_LINE_CHARACTERS = 72;
const MIN_ATTACHMENT_BYTES = 1 * KILOBYTE;
const MAX_ATTACHMENT_BYTES = 2 * MEGABYTE;
const FIRST_DATE_MS = Date.UTC(2019, 0, 2, 8, 0, 0);
/** Mean gap between two messages' Date headers. */
const MEAN_GAP_MS = 45 * 60 * 1000;
const MAIL_DOMAIN = 'bench.example.org';

export type MessageKind = 'plain' | 'alternative' | 'attachments';
export type SubjectEncoding = 'ascii' | 'utf8-base64' | 'utf8-quoted' | 'latin1-quoted';
/** IMAP system flags (RFC 3501 §2.3.2) as Maildir letters, the way they are stored on disk. */
export type MaildirFlag = 'F' | 'R' | 'S';

export const KIND_SHARE: Readonly<Record<MessageKind, number>> = { plain: 0.55, alternative: 0.3, attachments: 0.15 };
export const ENCODED_SUBJECT_SHARE = 0.25;
export const REPLY_SHARE = 0.3;

export interface AttachmentPlan {
  filename: string;
  contentType: string;
  /** Decoded size in bytes, 1 KB to 2 MB. */
  bytes: number;
}

export interface MessagePlan {
  index: number;
  kind: MessageKind;
  subjectEncoding: SubjectEncoding;
  /** Index of the message this one answers, or null. */
  parent: number | null;
  /** Words of body text. */
  bodyWords: number;
  attachments: AttachmentPlan[];
  flags: MaildirFlag[];
  /** Milliseconds since the epoch: the Date header (and the file's mtime, Dovecot's INTERNALDATE). */
  date: number;
}

// ------------------------------------------------------------------ deterministic randomness

/** splitmix32: turns (seed, index) into a well-mixed 32-bit state, so each message has its own stream. */
function mix(value: number): number {
  let state = (value + 0x9e3779b9) | 0;
  state = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
  state = Math.imul(state ^ (state >>> 13), 0xc2b2ae35);
  return (state ^ (state >>> 16)) >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): fast, good statistics, 32-bit only. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    this.a = mix(seed);
    this.b = mix(this.a ^ stream);
    this.c = mix(this.b + 0x6d2b79f5);
    this.d = 1;
    for (let round = 0; round < 12; round += 1) this.next();
  }

  /** A uniform unsigned 32-bit integer. */
  next(): number {
    const result = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + result) | 0;
    return result >>> 0;
  }

  /** Uniform in [0, 1). */
  fraction(): number {
    return this.next() / 4_294_967_296;
  }

  /** Uniform integer in [low, high]. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.fraction() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.fraction() * items.length)];
  }

  /** Log-uniform in [low, high]: as many 1–10 KB items as 10–100 KB ones, like real sizes. */
  logUniform(low: number, high: number): number {
    return Math.round(low * Math.pow(high / low, this.fraction()));
  }

  /** `length` random bytes: incompressible, like the JPEG, PDF and ZIP files real attachments are. */
  bytes(length: number): Buffer {
    const words = new Uint32Array(Math.ceil(length / 4));
    for (let index = 0; index < words.length; index += 1) words[index] = this.next();
    return Buffer.from(words.buffer, 0, length);
  }
}

// ------------------------------------------------------------------ vocabulary

/** Real words, most frequent first; searches in the benchmark use them. */
const COMMON_WORDS = `the of and to in is for that on with as it be this are from at by was have not or an
will we you your our can all has more about which they their one there been would if when other into what
only some time new also these may any than such first then its two could over after like most those well
meeting project report budget review schedule update invoice contract deadline team customer release
proposal agenda quarter summary design draft feedback approval travel conference server backup network
database migration security password account payment order shipping delivery warranty support ticket
invoice holiday weekend family dinner birthday photos garden kitchen recipe football concert tickets
hotel flight train airport museum library school teacher student homework exam holiday insurance doctor
appointment pharmacy apartment landlord repair plumber electricity heating subscription newsletter
discount offer coupon receipt refund shipment tracking parcel courier minutes action items decision
risk milestone roadmap architecture performance benchmark latency throughput memory profile regression
deployment staging production incident outage postmortem monitoring alert dashboard metrics capacity
hiring interview candidate onboarding training workshop seminar webinar keynote speaker venue catering
quarterly annual forecast revenue expenses audit compliance policy procedure guideline template checklist`
  .split(/\s+/)
  .filter((word) => word.length > 0);

/** Rare, searchable words: each appears in only a few hundred messages of 100,000. */
export const RARE_WORDS = [
  'zeppelin',
  'quokka',
  'fjord',
  'kumquat',
  'obsidian',
  'marzipan',
  'tundra',
  'xylophone',
  'gazpacho',
  'nebula',
  'saffron',
  'vermilion',
] as const;

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ren',
  'tas',
  'vo',
  'zu',
  'bel',
  'dor',
  'fin',
  'gra',
  'hu',
  'jel',
  'nok',
  'pri',
  'sul',
];

/** 4,000 pseudo-words after the real ones, so the long tail of a real vocabulary is there too. */
function buildVocabulary(): string[] {
  const words = [...COMMON_WORDS];
  for (let index = 0; words.length < 4_000 + COMMON_WORDS.length; index += 1) {
    let word = '';
    let rest = index;
    do {
      word += SYLLABLES[rest % SYLLABLES.length];
      rest = Math.floor(rest / SYLLABLES.length);
    } while (rest > 0);
    if (word.length >= 4) words.push(word);
  }
  return words;
}

const VOCABULARY = buildVocabulary();
/** Zipf's law with exponent 1.07, as measured on English text. */
const ZIPF_CUMULATIVE = (() => {
  const weights = VOCABULARY.map((_word, rank) => 1 / Math.pow(rank + 1, 1.07));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let running = 0;
  return weights.map((weight) => (running += weight / total));
})();

function zipfWord(random: Random): string {
  const target = random.fraction();
  let low = 0;
  let high = ZIPF_CUMULATIVE.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ZIPF_CUMULATIVE[middle] < target) low = middle + 1;
    else high = middle;
  }
  return VOCABULARY[low];
}

export const PEOPLE: ReadonlyArray<{ name: string; address: string }> = [
  { name: 'Alice Martin', address: 'alice.martin' },
  { name: 'Bob Nakamura', address: 'bob' },
  { name: 'Chloé Dubois', address: 'chloe.dubois' },
  { name: 'Dmitri Ivanov', address: 'dmitri' },
  { name: 'Eva Lindqvist', address: 'eva.lindqvist' },
  { name: 'Farid Haddad', address: 'farid' },
  { name: 'Grace Okafor', address: 'grace.okafor' },
  { name: 'Hiroshi Tanaka', address: 'h.tanaka' },
  { name: 'Ingrid Sørensen', address: 'ingrid' },
  { name: 'Jürgen Müller', address: 'juergen.mueller' },
  { name: 'Kavya Reddy', address: 'kavya' },
  { name: 'Lucía Fernández', address: 'lucia.fernandez' },
  { name: 'Mateo Rossi', address: 'mateo' },
  { name: 'Nadia Kowalska', address: 'nadia.kowalska' },
  { name: 'Oliver Smith', address: 'oliver' },
  { name: 'Priya Shah', address: 'priya.shah' },
  { name: 'Release Robot', address: 'noreply-builds' },
  { name: 'Newsletter Team', address: 'news' },
];

/** Non-ASCII subjects of the kind real mail carries; the Latin-1-only ones may go out as ISO-8859-1. */
const INTERNATIONAL_SUBJECTS = [
  'Grüße aus München',
  'Réunion de l’équipe — ordre du jour',
  'Año nuevo: reserva confirmada',
  'Smörgåsbord på fredag?',
  'Привет, отчёт за квартал',
  '会議の議事録を送ります',
  'Ελληνικά: πρόγραμμα συνάντησης',
  'Fwd: 🎉 Party on Friday 🎂',
  'Zażółć gęślą jaźń — faktura',
  'مرحبا: تقرير المشروع',
] as const;

// ------------------------------------------------------------------ planning

const ATTACHMENT_TYPES = [
  { extension: 'pdf', contentType: 'application/pdf' },
  { extension: 'jpg', contentType: 'image/jpeg' },
  { extension: 'png', contentType: 'image/png' },
  { extension: 'zip', contentType: 'application/zip' },
  { extension: 'docx', contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
] as const;

/** Attachments at or above this size are the "large" class (photos, archives). */
export const LARGE_ATTACHMENT_BYTES = 128 * KILOBYTE;
export const LARGE_ATTACHMENT_SHARE = 0.05;

/**
 * A decoded attachment size: 95 % log-uniform in 1–128 KB (documents, small images), 5 % log-uniform
 * in 128 KB–2 MB (photos, archives); with base64's 4/3 that makes about 200 MB per 10,000 messages.
 */
function attachmentBytes(random: Random): number {
  if (random.fraction() >= LARGE_ATTACHMENT_SHARE)
    return random.logUniform(MIN_ATTACHMENT_BYTES, LARGE_ATTACHMENT_BYTES);
  return random.logUniform(LARGE_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES);
}

function messageRandom(seed: number, index: number, stream: number): Random {
  return new Random(mix(seed ^ Math.imul(index + 1, 0x27d4eb2d)), stream);
}

/** What message number `index` of the corpus seeded with `seed` is; cheap (no bytes). */
export function planMessage(seed: number, index: number): MessagePlan {
  const random = messageRandom(seed, index, 1);
  const kindDraw = random.fraction();
  const kind: MessageKind =
    kindDraw < KIND_SHARE.plain
      ? 'plain'
      : kindDraw < KIND_SHARE.plain + KIND_SHARE.alternative
        ? 'alternative'
        : 'attachments';
  const encodingDraw = random.fraction();
  const subjectEncoding: SubjectEncoding =
    encodingDraw >= ENCODED_SUBJECT_SHARE
      ? 'ascii'
      : encodingDraw < ENCODED_SUBJECT_SHARE * 0.5
        ? 'utf8-base64'
        : encodingDraw < ENCODED_SUBJECT_SHARE * 0.8
          ? 'utf8-quoted'
          : 'latin1-quoted';
  const isReply = random.fraction() < REPLY_SHARE && index > 0;
  const parent = isReply ? Math.max(0, index - 1 - random.integer(0, 40)) : null;
  // A reply keeps its thread's subject, so it keeps its encoding too.
  const threadEncoding = parent === null ? subjectEncoding : planMessage(seed, parent).subjectEncoding;
  const bodyWords = random.logUniform(30, 1_200);
  const attachments: AttachmentPlan[] = [];
  if (kind === 'attachments') {
    const count = random.fraction() < 0.7 ? 1 : random.integer(2, 3);
    for (let number = 1; number <= count; number += 1) {
      const type = random.pick(ATTACHMENT_TYPES);
      attachments.push({
        filename: `${zipfWord(random)}-${index}-${number}.${type.extension}`,
        contentType: type.contentType,
        bytes: attachmentBytes(random),
      });
    }
  }
  const flags: MaildirFlag[] = [];
  if (random.fraction() < 0.06) flags.push('F');
  if (random.fraction() < 0.12) flags.push('R');
  if (random.fraction() < 0.8) flags.push('S');
  // Dates only grow with the index (a mailbox in arrival order), with a jitter around the mean gap.
  const date = FIRST_DATE_MS + index * MEAN_GAP_MS + random.integer(0, MEAN_GAP_MS - 1);
  return { index, kind, subjectEncoding: threadEncoding, parent, bodyWords, attachments, flags, date };
}

/** The first message of the plan's thread, and the chain of Message-IDs from it down to the parent. */
function threadOf(seed: number, plan: MessagePlan): { root: MessagePlan; references: number[] } {
  const chain: number[] = [];
  let current = plan;
  while (current.parent !== null && chain.length < 20) {
    chain.unshift(current.parent);
    current = planMessage(seed, current.parent);
  }
  return { root: current, references: chain };
}

// ------------------------------------------------------------------ rendering

function messageIdOf(seed: number, index: number): string {
  return `<${index.toString(36)}.${seed.toString(16)}@${MAIL_DOMAIN}>`;
}

function rfc5322Date(milliseconds: number, offsetMinutes: number): string {
  const local = new Date(milliseconds + offsetMinutes * 60_000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (value: number): string => String(value).padStart(2, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return (
    `${days[local.getUTCDay()]}, ${two(local.getUTCDate())} ${months[local.getUTCMonth()]} ${local.getUTCFullYear()} ` +
    `${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} ` +
    `${sign}${two(Math.floor(absolute / 60))}${two(absolute % 60)}`
  );
}

function isLatin1(text: string): boolean {
  return [...text].every((character) => (character.codePointAt(0) ?? 0) <= 0xff);
}

/** RFC 2047 §4.2 "Q" encoding of one chunk of bytes (space as "_"). */
function qEncode(bytes: Buffer): string {
  let encoded = '';
  for (const byte of bytes) {
    const isPlain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    if (isPlain) encoded += String.fromCharCode(byte);
    else if (byte === 0x20) encoded += '_';
    else encoded += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/**
 * `text` as RFC 2047 encoded words, each at most 75 characters and never splitting a character
 * (§5: each encoded word must hold whole characters), joined by folding whitespace.
 */
export function encodeWords(text: string, encoding: Exclude<SubjectEncoding, 'ascii'>): string {
  const charset = encoding === 'latin1-quoted' ? 'ISO-8859-1' : 'UTF-8';
  const letter = encoding === 'utf8-base64' ? 'B' : 'Q';
  const prefix = `=?${charset}?${letter}?`;
  const room = ENCODED_WORD_CHARACTERS - prefix.length - 2;
  const toBytes = (characters: string): Buffer =>
    Buffer.from(characters, encoding === 'latin1-quoted' ? 'latin1' : 'utf8');
  const encode = (characters: string): string =>
    letter === 'B' ? toBytes(characters).toString('base64') : qEncode(toBytes(characters));
  const words: string[] = [];
  let current = '';
  for (const character of text) {
    if (current !== '' && encode(current + character).length > room) {
      words.push(`${prefix}${encode(current)}?=`);
      current = '';
    }
    current += character;
  }
  if (current !== '') words.push(`${prefix}${encode(current)}?=`);
  return words.join('\r\n ');
}

function sentence(random: Random, words: number): string {
  const parts: string[] = [];
  for (let count = 0; count < words; count += 1) parts.push(zipfWord(random));
  // One message in about 300 mentions a rare word, so searching for it finds a few hundred in 100,000.
  if (random.fraction() < 0.02) parts.splice(random.integer(0, parts.length), 0, random.pick(RARE_WORDS));
  const text = parts.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** Paragraphs of roughly `words` words. */
function paragraphs(random: Random, words: number): string[] {
  const result: string[] = [];
  let remaining = words;
  while (remaining > 0) {
    const sentences: string[] = [];
    const paragraphWords = Math.min(remaining, random.integer(20, 90));
    let used = 0;
    while (used < paragraphWords) {
      const length = Math.min(paragraphWords - used, random.integer(5, 18));
      sentences.push(sentence(random, length));
      used += length;
    }
    remaining -= paragraphWords;
    result.push(sentences.join(' '));
  }
  return result;
}

function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > TEXT_LINE_CHARACTERS) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** RFC 2045 §6.7 quoted-printable of UTF-8 text whose lines are already short. */
function quotedPrintable(lines: readonly string[]): string {
  const encodedLines: string[] = [];
  for (const line of lines) {
    let encoded = '';
    let width = 0;
    const bytes = Buffer.from(line, 'utf8');
    for (let position = 0; position < bytes.length; position += 1) {
      const byte = bytes[position];
      const isLast = position === bytes.length - 1;
      const literal = (byte >= 33 && byte <= 126 && byte !== 61) || (byte === 32 && !isLast);
      const piece = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      // §6.7 rule 5: encoded lines are at most 76 characters; a soft break "=" ends a longer one.
      if (width + piece.length > 75) {
        encoded += '=\r\n';
        width = 0;
      }
      encoded += piece;
      width += piece.length;
    }
    encodedLines.push(encoded);
  }
  return encodedLines.join('\r\n');
}

function base64Lines(bytes: Buffer): string {
  const text = bytes.toString('base64');
  const lines: string[] = [];
  for (let start = 0; start < text.length; start += BASE64_LINE_CHARACTERS) {
    lines.push(text.slice(start, start + BASE64_LINE_CHARACTERS));
  }
  return lines.join('\r\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Part {
  headers: string[];
  body: string | Buffer;
}

function textPart(lines: readonly string[]): Part {
  const text = lines.join('\r\n');
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) {
    return { headers: ['Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit'], body: text };
  }
  return {
    headers: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'],
    body: quotedPrintable(lines),
  };
}

function htmlPart(paragraphTexts: readonly string[], greeting: string): Part {
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><style>p { font-family: sans-serif; margin: 0 0 1em; }</style></head>',
    '<body>',
    `<p><b>${escapeHtml(greeting)}</b></p>`,
    ...paragraphTexts.map((text) => `<p>${escapeHtml(text)}</p>`),
    '</body></html>',
  ];
  return {
    headers: ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable'],
    body: quotedPrintable(html.flatMap((line) => wrap(line))),
  };
}

function multipart(subtype: string, boundary: string, parts: readonly Part[]): Part {
  const chunks: Array<string | Buffer> = ['This is a multi-part message in MIME format.\r\n'];
  for (const part of parts) {
    chunks.push(`\r\n--${boundary}\r\n${part.headers.join('\r\n')}\r\n\r\n`);
    chunks.push(part.body);
  }
  chunks.push(`\r\n--${boundary}--\r\n`);
  return {
    headers: [`Content-Type: multipart/${subtype}; boundary="${boundary}"`],
    body: Buffer.concat(chunks.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk))),
  };
}

function subjectText(seed: number, root: MessagePlan): string {
  const random = messageRandom(seed, root.index, 2);
  if (root.subjectEncoding === 'ascii') {
    const words = sentence(random, random.integer(3, 8));
    return words.slice(0, -1);
  }
  const candidates =
    root.subjectEncoding === 'latin1-quoted' ? INTERNATIONAL_SUBJECTS.filter(isLatin1) : INTERNATIONAL_SUBJECTS;
  return `${random.pick(candidates)} ${zipfWord(random)} ${root.index}`;
}

function addressHeader(person: { name: string; address: string }, encodeName: boolean): string {
  const name =
    encodeName && !/^[\x20-\x7e]*$/.test(person.name) ? encodeWords(person.name, 'utf8-quoted') : `"${person.name}"`;
  return `${name} <${person.address}@${MAIL_DOMAIN}>`;
}

/** The bytes of a planned message: CRLF line ends, ready for a Maildir file. */
export function renderMessage(seed: number, plan: MessagePlan): Buffer {
  const random = messageRandom(seed, plan.index, 3);
  const { root, references } = threadOf(seed, plan);
  const rootSubject = subjectText(seed, root);
  const subject = plan.parent === null ? rootSubject : `Re: ${rootSubject}`;
  const from = random.pick(PEOPLE);
  const to = random.pick(PEOPLE.filter((person) => person !== from));
  const offsetMinutes = random.pick([-480, -300, 0, 60, 120, 330, 540]);
  const encodedSubject =
    root.subjectEncoding === 'ascii'
      ? subject
      : `${plan.parent === null ? '' : 'Re: '}${encodeWords(rootSubject, root.subjectEncoding)}`;
  const received = new Date(plan.date + 2_000);
  const headers = [
    `Return-Path: <${from.address}@${MAIL_DOMAIN}>`,
    `Received: from mx.${MAIL_DOMAIN} (mx.${MAIL_DOMAIN} [192.0.2.${1 + (plan.index % 250)}])\r\n\tby mail.example.net with ESMTPS id ${plan.index.toString(36)}\r\n\tfor <me@example.net>; ${rfc5322Date(received.getTime(), 0)}`,
    `From: ${addressHeader(from, random.fraction() < 0.5)}`,
    `To: ${addressHeader(to, false)}`,
    ...(random.fraction() < 0.2 ? [`Cc: ${addressHeader(random.pick(PEOPLE), false)}`] : []),
    `Subject: ${encodedSubject}`,
    `Date: ${rfc5322Date(plan.date, offsetMinutes)}`,
    `Message-ID: ${messageIdOf(seed, plan.index)}`,
    ...(plan.parent === null
      ? []
      : [
          `In-Reply-To: ${messageIdOf(seed, plan.parent)}`,
          `References: ${references.map((index) => messageIdOf(seed, index)).join('\r\n ')}`,
        ]),
    ...(from.address.startsWith('news') ? [`List-Id: <news.${MAIL_DOMAIN}>`, 'Precedence: bulk'] : []),
    'MIME-Version: 1.0',
  ];
  const greeting = `Hello ${to.name.split(' ')[0]},`;
  const bodyParagraphs = paragraphs(random, plan.bodyWords);
  const signature = ['-- ', from.name];
  const textLines = [greeting, '', ...bodyParagraphs.flatMap((text) => [...wrap(text), '']), ...signature];
  const boundary = (name: string): string => `=_${name}_${plan.index.toString(36)}_${random.next().toString(16)}`;
  let content: Part;
  if (plan.kind === 'plain') {
    content = textPart(textLines);
  } else {
    const alternative = multipart('alternative', boundary('alt'), [
      textPart(textLines),
      htmlPart(bodyParagraphs, greeting),
    ]);
    if (plan.kind === 'alternative') content = alternative;
    else {
      const attachmentParts: Part[] = plan.attachments.map((attachment) => ({
        headers: [
          `Content-Type: ${attachment.contentType}; name="${attachment.filename}"`,
          'Content-Transfer-Encoding: base64',
          `Content-Disposition: attachment; filename="${attachment.filename}"`,
        ],
        body: base64Lines(random.bytes(attachment.bytes)),
      }));
      content = multipart('mixed', boundary('mix'), [alternative, ...attachmentParts]);
    }
  }
  const head = `${[...headers, ...content.headers].join('\r\n')}\r\n\r\n`;
  const body = typeof content.body === 'string' ? Buffer.from(`${content.body}\r\n`, 'utf8') : content.body;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** Messages `first` … `first + count - 1` of the corpus, one at a time (the corpus never sits in memory whole). */
export function* generateCorpus(options: {
  seed?: number;
  count: number;
  first?: number;
}): Generator<{ plan: MessagePlan; raw: Buffer }> {
  const seed = options.seed ?? DEFAULT_SEED;
  const first = options.first ?? 0;
  for (let index = first; index < first + options.count; index += 1) {
    const plan = planMessage(seed, index);
    yield { plan, raw: renderMessage(seed, plan) };
  }
}

/** Sum of the decoded attachment sizes and the count of each kind, from the plans alone. */
export function summarizePlans(plans: readonly MessagePlan[]): {
  kinds: Record<MessageKind, number>;
  encodedSubjects: number;
  replies: number;
  attachmentBytes: number;
  smallestAttachment: number;
  largestAttachment: number;
} {
  const kinds: Record<MessageKind, number> = { plain: 0, alternative: 0, attachments: 0 };
  let encodedSubjects = 0;
  let replies = 0;
  let attachmentTotal = 0;
  let smallestAttachment = Number.POSITIVE_INFINITY;
  let largestAttachment = 0;
  for (const plan of plans) {
    kinds[plan.kind] += 1;
    if (plan.subjectEncoding !== 'ascii') encodedSubjects += 1;
    if (plan.parent !== null) replies += 1;
    for (const attachment of plan.attachments) {
      attachmentTotal += attachment.bytes;
      smallestAttachment = Math.min(smallestAttachment, attachment.bytes);
      largestAttachment = Math.max(largestAttachment, attachment.bytes);
    }
  }
  return { kinds, encodedSubjects, replies, attachmentBytes: attachmentTotal, smallestAttachment, largestAttachment };
}
