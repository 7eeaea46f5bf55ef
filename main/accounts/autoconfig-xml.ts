/**
 * A deliberately small XML reader for Mozilla's autoconfig format (config-v1.1.xml): elements,
 * attributes, text, comments, CDATA and the XML declaration. It refuses DOCTYPE outright, so entity
 * tricks (external entities, "billion laughs") cannot happen, and it bounds size and depth because
 * the document comes from the network.
 */

export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (not its children's), untrimmed. */
  text: string;
}

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

/** Far larger than any real autoconfig document (a few KiB). */
export const MAXIMUM_XML_CHARACTERS = 1024 * 1024;
const MAXIMUM_DEPTH = 32;
const MAXIMUM_ELEMENTS = 10_000;

const PREDEFINED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
]);

const NAME_START = /[A-Za-z_:]/;
const NAME_CHARACTER = /[A-Za-z0-9_:.-]/;

function decodeEntities(raw: string, position: number): string {
  let result = '';
  let index = 0;
  while (index < raw.length) {
    const ampersand = raw.indexOf('&', index);
    if (ampersand === -1) {
      result += raw.slice(index);
      break;
    }
    result += raw.slice(index, ampersand);
    const semicolon = raw.indexOf(';', ampersand);
    if (semicolon === -1 || semicolon - ampersand > 10) {
      throw new XmlSyntaxError(`Bare "&" near character ${position + ampersand}.`);
    }
    const entity = raw.slice(ampersand + 1, semicolon);
    const predefined = PREDEFINED_ENTITIES.get(entity);
    if (predefined !== undefined) {
      result += predefined;
    } else if (/^#[0-9]+$/.test(entity) || /^#x[0-9a-fA-F]+$/.test(entity)) {
      const codePoint = entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      if (codePoint > 0x10ffff || codePoint === 0) throw new XmlSyntaxError(`Invalid character reference &${entity};.`);
      result += String.fromCodePoint(codePoint);
    } else {
      throw new XmlSyntaxError(`Unknown entity &${entity}; near character ${position + ampersand}.`);
    }
    index = semicolon + 1;
  }
  return result;
}

class Reader {
  position = 0;
  elements = 0;

  constructor(private readonly source: string) {}

  get done(): boolean {
    return this.position >= this.source.length;
  }

  startsWith(text: string): boolean {
    return this.source.startsWith(text, this.position);
  }

  expect(text: string): void {
    if (!this.startsWith(text)) throw new XmlSyntaxError(`Expected "${text}" at character ${this.position}.`);
    this.position += text.length;
  }

  skipWhitespace(): void {
    while (!this.done && /\s/.test(this.source[this.position])) this.position += 1;
  }

  /** Skips to just after `terminator`. */
  skipPast(terminator: string, what: string): string {
    const end = this.source.indexOf(terminator, this.position);
    if (end === -1) throw new XmlSyntaxError(`Unterminated ${what} at character ${this.position}.`);
    const skipped = this.source.slice(this.position, end);
    this.position = end + terminator.length;
    return skipped;
  }

  readName(): string {
    const start = this.position;
    if (this.done || !NAME_START.test(this.source[this.position])) {
      throw new XmlSyntaxError(`Expected a name at character ${this.position}.`);
    }
    while (!this.done && NAME_CHARACTER.test(this.source[this.position])) this.position += 1;
    return this.source.slice(start, this.position);
  }

  /** Comments, processing instructions and whitespace between elements; DOCTYPE is refused. */
  skipMisc(): void {
    for (;;) {
      this.skipWhitespace();
      if (this.startsWith('<!--')) {
        this.position += 4;
        this.skipPast('-->', 'comment');
      } else if (this.startsWith('<?')) {
        this.position += 2;
        this.skipPast('?>', 'processing instruction');
      } else if (this.startsWith('<!DOCTYPE') || this.startsWith('<!doctype')) {
        throw new XmlSyntaxError('Document type declarations are not accepted in autoconfig documents.');
      } else {
        return;
      }
    }
  }

  readElement(depth: number): XmlElement {
    if (depth > MAXIMUM_DEPTH) throw new XmlSyntaxError('The document is nested too deeply.');
    this.elements += 1;
    if (this.elements > MAXIMUM_ELEMENTS) throw new XmlSyntaxError('The document has too many elements.');
    this.expect('<');
    const name = this.readName();
    const attributes = new Map<string, string>();
    for (;;) {
      this.skipWhitespace();
      if (this.startsWith('/>')) {
        this.position += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (this.startsWith('>')) {
        this.position += 1;
        break;
      }
      const attribute = this.readName();
      this.skipWhitespace();
      this.expect('=');
      this.skipWhitespace();
      const quote = this.source[this.position];
      if (quote !== '"' && quote !== "'")
        throw new XmlSyntaxError(`Expected a quoted value at character ${this.position}.`);
      this.position += 1;
      const valueStart = this.position;
      const value = this.skipPast(quote, 'attribute value');
      if (value.includes('<')) throw new XmlSyntaxError(`"<" inside an attribute value at character ${valueStart}.`);
      if (attributes.has(attribute)) throw new XmlSyntaxError(`Repeated attribute "${attribute}" on <${name}>.`);
      attributes.set(attribute, decodeEntities(value, valueStart));
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      if (this.done) throw new XmlSyntaxError(`<${name}> is never closed.`);
      if (this.startsWith('</')) {
        this.position += 2;
        const closing = this.readName();
        if (closing !== name) throw new XmlSyntaxError(`</${closing}> closes <${name}> at character ${this.position}.`);
        this.skipWhitespace();
        this.expect('>');
        return { name, attributes, children, text };
      }
      if (this.startsWith('<!--')) {
        this.position += 4;
        this.skipPast('-->', 'comment');
      } else if (this.startsWith('<![CDATA[')) {
        this.position += 9;
        text += this.skipPast(']]>', 'CDATA section');
      } else if (this.startsWith('<?')) {
        this.position += 2;
        this.skipPast('?>', 'processing instruction');
      } else if (this.startsWith('<!')) {
        throw new XmlSyntaxError(`Declarations are not accepted inside elements (character ${this.position}).`);
      } else if (this.startsWith('<')) {
        children.push(this.readElement(depth + 1));
      } else {
        const next = this.source.indexOf('<', this.position);
        const end = next === -1 ? this.source.length : next;
        text += decodeEntities(this.source.slice(this.position, end), this.position);
        this.position = end;
      }
    }
  }
}

/** Parses a whole document and returns its root element; throws XmlSyntaxError on anything malformed. */
export function parseXml(source: string): XmlElement {
  if (source.length > MAXIMUM_XML_CHARACTERS) throw new XmlSyntaxError('The document is too large.');
  const reader = new Reader(source.replace(/^\uFEFF/, ''));
  reader.skipMisc();
  if (reader.done) throw new XmlSyntaxError('The document is empty.');
  const root = reader.readElement(0);
  reader.skipMisc();
  if (!reader.done)
    throw new XmlSyntaxError(`Unexpected content after the root element at character ${reader.position}.`);
  return root;
}

/** Direct children named `name`. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** Trimmed text of the first direct child named `name`, or null. */
export function childText(element: XmlElement, name: string): string | null {
  const child = element.children.find((candidate) => candidate.name === name);
  return child ? child.text.trim() : null;
}
