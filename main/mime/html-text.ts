/**
 * HTML → plain text for the search index and the list preview. Not for display: the renderer
 * shows HTML itself (sanitized). This is a single forward scan with `indexOf`, so its cost is
 * linear in the input whatever the markup (no backtracking regular expressions: hostile mail
 * such as a 570 KB tag soup built to blow call stacks must not stall the main process).
 */

/** Decoded HTML considered for text extraction; the rest of a larger part is not indexed. */
export const MAX_HTML_TEXT_INPUT_CHARS = 2 * 1024 * 1024;

/** Elements whose content is never text a person reads. */
const SKIPPED_ELEMENTS = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'xml']);

/** Elements that break a line, so words on either side do not run together. */
const BLOCK_ELEMENTS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'br',
  'dd',
  'div',
  'dl',
  'dt',
  'footer',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'td',
  'th',
  'tr',
  'ul',
]);

const NAMED_ENTITIES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  shy: '',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  deg: '°',
  times: '×',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  eacute: 'é',
  egrave: 'è',
  ecirc: 'ê',
  aacute: 'á',
  agrave: 'à',
  acirc: 'â',
  iacute: 'í',
  oacute: 'ó',
  uacute: 'ú',
  ntilde: 'ñ',
  ccedil: 'ç',
  Eacute: 'É',
  zwnj: '',
  zwj: '',
});

const ENTITY_PATTERN = /&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?/g;

export function decodeHtmlEntities(text: string): string {
  return text.replace(ENTITY_PATTERN, (match, body: string) => {
    if (body.startsWith('#')) {
      const codePoint = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (!Number.isFinite(codePoint) || codePoint <= 0 || codePoint > 0x10ffff) return ' ';
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) return ' ';
      return String.fromCodePoint(codePoint);
    }
    return NAMED_ENTITIES[body] ?? match;
  });
}

function isNameCharacter(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 45;
}

/** Strips tags, comments, scripts and styles; decodes entities; collapses white space. */
export function htmlToText(html: string): string {
  const input = html.length > MAX_HTML_TEXT_INPUT_CHARS ? html.slice(0, MAX_HTML_TEXT_INPUT_CHARS) : html;
  // Closing tags are searched case-insensitively in one lower-cased copy, made once.
  const lower = input.toLowerCase();
  const pieces: string[] = [];
  let position = 0;
  while (position < input.length) {
    const open = input.indexOf('<', position);
    if (open === -1) {
      pieces.push(input.slice(position));
      break;
    }
    if (open > position) pieces.push(input.slice(position, open));
    if (input.startsWith('<!--', open)) {
      const end = input.indexOf('-->', open + 4);
      position = end === -1 ? input.length : end + 3;
      continue;
    }
    let nameStart = open + 1;
    if (input[nameStart] === '/') nameStart += 1;
    let nameEnd = nameStart;
    while (nameEnd < input.length && isNameCharacter(input.charCodeAt(nameEnd))) nameEnd += 1;
    if (nameEnd === nameStart && input[nameStart] !== '!' && input[nameStart] !== '?') {
      // A lone "<" (as in "a < b") is text, not markup.
      pieces.push('<');
      position = open + 1;
      continue;
    }
    const tagEnd = input.indexOf('>', nameEnd);
    if (tagEnd === -1) break;
    const name = lower.slice(nameStart, nameEnd);
    const isClosing = nameStart === open + 2;
    position = tagEnd + 1;
    if (!isClosing && SKIPPED_ELEMENTS.has(name)) {
      const close = lower.indexOf(`</${name}`, position);
      // An element never closed swallows the rest, as a browser would.
      if (close === -1) break;
      const closeEnd = input.indexOf('>', close);
      position = closeEnd === -1 ? input.length : closeEnd + 1;
      continue;
    }
    if (BLOCK_ELEMENTS.has(name)) pieces.push('\n');
  }
  return collapseWhiteSpace(decodeHtmlEntities(pieces.join('')));
}

/**
 * Runs of spaces become one space, runs of blank lines one line break. A lone space between words
 * is left alone rather than replaced by itself: matching every one of them made this twice as slow
 * (≈ 0.35 s per 18 MB of body text, on the parse worker).
 */
export function collapseWhiteSpace(text: string): string {
  return text
    .replace(/ [ \t\f\v\u00a0\r]+|[\t\f\v\u00a0\r][ \t\f\v\u00a0\r]*/g, ' ')
    .replace(/ ?\n\s*/g, '\n')
    .trim();
}
