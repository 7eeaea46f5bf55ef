/**
 * Makes one HTML body part of a message safe to show. Security-critical: everything a sender
 * writes is hostile until this module has passed it.
 *
 * Layers, each enough on its own for scripts, and together for privacy (no request leaves this
 * computer unless the user allowed remote content):
 * 1. DOMPurify (HTML profile only: no SVG or MathML) removes scripts, event handlers, and the
 *    elements that load, submit or navigate: forms, base, meta (refresh), link, frames, media.
 * 2. Our hooks then allow only absolute `data:image/…` resources. A remote (http/https) image is
 *    never left in the markup: it is counted and removed, or, once the user chose to load remote
 *    content, replaced by the data: URL main fetched for it (fetchRemoteImages), so the renderer
 *    itself makes no request. Relative URLs are refused because a srcdoc document resolves them
 *    against the app's own address. srcset survives only as such data: candidates. Every CSS
 *    value is re-parsed by the browser's own CSS parser (so escapes such as `u\72l(` are
 *    resolved) and any url()/image-set() that is not allowed is removed; @import and @font-face
 *    are dropped.
 * 3. Links lose their `href` inside the frame (a sandboxed frame cannot open them safely); the
 *    reader lists them outside the frame with their real target and a warning when the text
 *    shows another host (link-check.ts).
 * 4. The result is shown in an iframe with `sandbox=""` (no scripts, opaque origin) and its own
 *    Content-Security-Policy meta, see frameDocument().
 *
 * Each MIME part is sanitized and framed on its own: markup is never concatenated across parts,
 * so an unclosed tag in one part cannot swallow another (EFAIL, CVE-2017-17688).
 */
import createDOMPurify from 'dompurify';
import { isDeceptiveLink, hostOfUrl } from './link-check';

export interface SanitizeOptions {
  /** The user chose to load remote content for this message or sender. */
  allowRemote: boolean;
  /**
   * Remote image URL → the data: URL main fetched for it (fetchRemoteImages). With `allowRemote`,
   * each remote image found here is shown from that data; any other is removed.
   */
  remoteImages?: Readonly<Record<string, string>>;
  /** The window whose DOM parses the mail; the page's own by default. */
  window?: Window;
}

export interface MailLink {
  text: string;
  href: string;
  /** The target's host (http/https), or null for mailto: links. */
  host: string | null;
  /** The visible text names another host than the target (a phishing sign). */
  deceptive: boolean;
}

export interface SanitizedHtml {
  /** Safe markup for the frame's <body>. */
  body: string;
  /** Distinct remote images removed because remote content is blocked (0 when allowed or none). */
  blockedRemoteCount: number;
  /** Every distinct remote image URL the part uses (that would be shown if allowed): what to fetch. */
  remoteUrls: string[];
  /** Remote images allowed but removed because no fetched data was given for them. */
  missingRemoteCount: number;
  links: MailLink[];
}

/** Image types a data: URL may carry. SVG is left out: a data: SVG as an image is inert, but gains nothing. */
const INLINE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)[;,]/i;
/** What main hands back for a fetched remote image (main/service/remote-content.ts): base64 raster data only. */
const FETCHED_IMAGE =
  /^data:image\/(?:png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon);base64,[A-Za-z0-9+/]*={0,2}$/;

/** Elements removed on top of DOMPurify's defaults: anything that loads, submits, navigates or plays. */
const FORBIDDEN_TAGS = [
  'base',
  'meta',
  'link',
  'form',
  'input',
  'button',
  'select',
  'option',
  'optgroup',
  'textarea',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'video',
  'audio',
  'source',
  'track',
  'picture',
  'portal',
  'template',
  'noscript',
  'dialog',
  'math',
  'svg',
];

/** Attributes that load or submit something and that we never keep. */
const FORBIDDEN_ATTRIBUTES = [
  'srcset',
  'sizes',
  'ping',
  'poster',
  'action',
  'formaction',
  'longdesc',
  'lowsrc',
  'dynsrc',
  'cite',
  'codebase',
  'archive',
  'manifest',
  'usemap',
  'target',
  'download',
  'http-equiv',
];

/** CSS functions that fetch or may fetch an image (after the browser has normalized strings into url()). */
const FETCHING_CSS = /(?:url|image-set|image|cross-fade|element|paint|src)\s*\(/i;
/** Values whose content is only known at use time: refused rather than traced. */
const INDIRECT_CSS = /(?:var|attr|env)\s*\(/i;
/** Every url(…) in serialized CSS, quoted or not. */
const CSS_URL = /url\(\s*(?:"((?:[^"\\]|\\[\s\S])*)"|'((?:[^'\\]|\\[\s\S])*)'|([^)\s]*))\s*\)/gi;

/** Node.ELEMENT_NODE, without needing the DOM's Node in this module's scope. */
const ELEMENT_NODE = 1;

type ResourceVerdict = { kind: 'inline' } | { kind: 'remote'; url: string } | { kind: 'refused' };

/**
 * Where a resource URL (image, background) would be fetched from. Only absolute URLs pass: a
 * relative one would resolve against the app's own address. Whitespace, quotes or angle brackets
 * inside a URL mean markup was swallowed into it (an unclosed `src="`), so it is refused.
 */
export function classifyResourceUrl(raw: string): ResourceVerdict {
  const url = raw.trim();
  if (url === '' || /[\s<>"'`\\]/.test(url)) return { kind: 'refused' };
  if (/^data:/i.test(url)) return INLINE_IMAGE.test(url) ? { kind: 'inline' } : { kind: 'refused' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'refused' };
  }
  if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '') {
    return { kind: 'remote', url };
  }
  return { kind: 'refused' };
}

/** A link target the reader may offer to open: web pages and mail addresses only. */
export function safeLinkTarget(raw: string): string | null {
  const url = raw.trim();
  if (/[\s<>"`\\]/.test(url)) return null;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'mailto:') {
      return parsed.href;
    }
  } catch {
    return null;
  }
  return null;
}

/** Reverses CSS string escapes (CSS Syntax 3, section 4.3.7) in a serialized url("…"). */
function unescapeCss(text: string): string {
  return text.replace(/\\(?:([0-9a-f]{1,6})\s?|([\s\S]))/gi, (_match, hex: string | undefined, other: string) =>
    hex === undefined ? other : String.fromCodePoint(Number.parseInt(hex, 16) || 0xfffd),
  );
}

class Sanitizer {
  readonly blocked = new Set<string>();
  readonly missing = new Set<string>();
  readonly remoteUrls = new Set<string>();
  readonly links: MailLink[] = [];
  /** srcset values as the mail gave them, read before DOMPurify drops the attribute. */
  readonly sourceSets = new WeakMap<Element, string>();

  constructor(
    private readonly allowRemote: boolean,
    private readonly remoteImages: Readonly<Record<string, string>>,
    private readonly view: Window & typeof globalThis,
  ) {}

  /** The URL to put in place of `url` (itself, or fetched data), or null when it must go. */
  resolveResource(url: string): string | null {
    const verdict = classifyResourceUrl(url);
    if (verdict.kind === 'inline') return url.trim();
    if (verdict.kind === 'refused') return null;
    this.remoteUrls.add(verdict.url);
    if (!this.allowRemote) {
      this.blocked.add(verdict.url);
      return null;
    }
    // Own-property lookup only: a URL such as "__proto__" must not reach Object.prototype.
    const fetched = Object.prototype.hasOwnProperty.call(this.remoteImages, verdict.url)
      ? this.remoteImages[verdict.url]
      : undefined;
    if (typeof fetched === 'string' && FETCHED_IMAGE.test(fetched)) return fetched;
    this.missing.add(verdict.url);
    return null;
  }

  /**
   * A srcset (HTML, "parse a srcset attribute") with each candidate resolved; candidates that must
   * go are dropped, and null when none is left. Descriptors are kept only in their plain forms.
   */
  resolveSourceSet(value: string): string | null {
    const kept: string[] = [];
    let position = 0;
    while (position < value.length) {
      const start = value.slice(position).search(/[^\s,]/);
      if (start < 0) break;
      position += start;
      const urlEnd = value.slice(position).search(/\s/);
      let url = urlEnd < 0 ? value.slice(position) : value.slice(position, position + urlEnd);
      position += url.length;
      let descriptor = '';
      if (url.endsWith(',')) {
        url = url.replace(/,+$/, '');
      } else {
        const comma = value.indexOf(',', position);
        descriptor = (comma < 0 ? value.slice(position) : value.slice(position, comma)).trim();
        position = comma < 0 ? value.length : comma + 1;
      }
      const resolved = this.resolveResource(url);
      if (resolved === null) continue;
      if (descriptor !== '' && !/^\d+(?:\.\d+)?[wxh]$/.test(descriptor)) continue;
      kept.push(descriptor === '' ? resolved : `${resolved} ${descriptor}`);
    }
    return kept.length > 0 ? kept.join(', ') : null;
  }

  /** `value` with every url() resolved (fetched data in place of remote images), or null when it must go. */
  resolveCssValue(value: string): string | null {
    if (INDIRECT_CSS.test(value)) return null;
    if (!FETCHING_CSS.test(value)) return value;
    const matches = [...value.matchAll(CSS_URL)];
    // A fetching function without a url() we can read (a bare string left unnormalized): refuse.
    if (matches.length === 0) return null;
    let accepted = true;
    let result = '';
    let last = 0;
    for (const match of matches) {
      const url = unescapeCss(match[1] ?? match[2] ?? match[3] ?? '');
      const resolved = this.resolveResource(url);
      if (resolved === null) {
        accepted = false;
        continue;
      }
      result += `${value.slice(last, match.index)}url("${resolved}")`;
      last = match.index + match[0].length;
    }
    return accepted ? result + value.slice(last) : null;
  }

  filterDeclarations(style: CSSStyleDeclaration): void {
    const names = Array.from({ length: style.length }, (_, index) => style.item(index));
    for (const name of names) {
      const value = style.getPropertyValue(name);
      const resolved = name.startsWith('--') ? null : this.resolveCssValue(value);
      if (resolved === null) style.removeProperty(name);
      // A value the parser refuses leaves the old one in place; failClosed() then drops it all.
      else if (resolved !== value) style.setProperty(name, resolved, style.getPropertyPriority(name));
    }
  }

  /** Filters a rule in place; false when the whole rule must go. */
  filterRule(rule: CSSRule): boolean {
    const { CSSFontFaceRule, CSSImportRule } = this.view;
    if (rule instanceof CSSFontFaceRule || rule instanceof CSSImportRule) return false;
    // @property and @counter-style can name images (initial-value, symbols): mail has no use for them.
    if (/^@(?:property|counter-style|font-palette-values)\b/i.test(rule.cssText)) return false;
    const withStyle = rule as CSSRule & { style?: CSSStyleDeclaration };
    if (withStyle.style instanceof this.view.CSSStyleDeclaration) this.filterDeclarations(withStyle.style);
    const grouping = rule as CSSRule & { cssRules?: CSSRuleList; deleteRule?: (index: number) => void };
    if (grouping.cssRules !== undefined && typeof grouping.deleteRule === 'function') {
      for (let index = grouping.cssRules.length - 1; index >= 0; index -= 1) {
        const child = grouping.cssRules[index];
        if (!this.filterRule(child)) {
          try {
            grouping.deleteRule.call(grouping, index);
          } catch {
            return false;
          }
        }
      }
    }
    return true;
  }

  /** The stylesheet with everything fetching removed, as the browser serializes it; '' when unsure. */
  filterStylesheet(cssText: string): string {
    const sheet = new this.view.CSSStyleSheet();
    try {
      // Constructed stylesheets ignore @import, and parsing here fetches nothing.
      sheet.replaceSync(cssText);
    } catch {
      return '';
    }
    const kept: string[] = [];
    for (const rule of Array.from(sheet.cssRules)) if (this.filterRule(rule)) kept.push(rule.cssText);
    return this.failClosed(kept.join('\n'));
  }

  /** The declarations of a style attribute, filtered; null when the attribute must go. */
  filterStyleAttribute(value: string): string | null {
    const sheet = new this.view.CSSStyleSheet();
    try {
      sheet.replaceSync(`*{${value}}`);
    } catch {
      return null;
    }
    const rules = sheet.cssRules;
    // A "}" in the attribute would have opened further rules: not a plain declaration list.
    const first = rules[0];
    if (rules.length !== 1 || !(first instanceof this.view.CSSStyleRule) || first.selectorText !== '*') return null;
    this.filterDeclarations(first.style);
    const result = this.failClosed(first.style.cssText);
    return result === '' ? null : result;
  }

  /** Last check on serialized CSS: no @import and no url() but data: images, or nothing at all. */
  private failClosed(css: string): string {
    if (/@import/i.test(css) || INDIRECT_CSS.test(css)) return '';
    for (const match of css.matchAll(CSS_URL)) {
      if (classifyResourceUrl(unescapeCss(match[1] ?? match[2] ?? match[3] ?? '')).kind !== 'inline') return '';
    }
    return css;
  }

  afterAttributes(element: Element): void {
    for (const name of FORBIDDEN_ATTRIBUTES) element.removeAttribute(name);
    const tag = element.tagName.toLowerCase();

    if (element.hasAttribute('src')) {
      const source = tag === 'img' ? this.resolveResource(element.getAttribute('src') ?? '') : null;
      if (source === null) {
        element.removeAttribute('src');
        // Without its size an image that is not shown reads as its alternative text, not a broken box.
        element.removeAttribute('width');
        element.removeAttribute('height');
      } else element.setAttribute('src', source);
    }
    const sourceSet = this.sourceSets.get(element);
    if (sourceSet !== undefined && tag === 'img') {
      // Resolved either way, so blocked candidates are counted and fetchable ones are known.
      const resolved = this.resolveSourceSet(sourceSet);
      if (resolved !== null && this.allowRemote) element.setAttribute('srcset', resolved);
    }
    // table/td/body background="…" is an image load like any other.
    if (element.hasAttribute('background')) {
      const background = this.resolveResource(element.getAttribute('background') ?? '');
      if (background === null) element.removeAttribute('background');
      else element.setAttribute('background', background);
    }
    if (element.hasAttribute('href')) {
      const href = element.getAttribute('href') ?? '';
      element.removeAttribute('href');
      if (tag === 'a' || tag === 'area') this.recordLink(element, href);
    }
    if (element.hasAttribute('style')) {
      const filtered = this.filterStyleAttribute(element.getAttribute('style') ?? '');
      if (filtered === null) element.removeAttribute('style');
      else element.setAttribute('style', filtered);
    }
  }

  private recordLink(element: Element, rawHref: string): void {
    const href = safeLinkTarget(rawHref);
    if (href === null) return;
    const text = (element.textContent ?? '').replace(/\s+/g, ' ').trim();
    const deceptive = isDeceptiveLink(text, href);
    this.links.push({ text, href, host: hostOfUrl(href), deceptive });
    const number = this.links.length;
    element.setAttribute('data-link', String(number));
    // Shown on hover inside the frame; the list outside the frame shows it on focus too.
    element.setAttribute(
      'title',
      deceptive
        ? `Warning: the text shows another address than the link goes to. Link ${number} goes to ${href}`
        : `Link ${number}: ${href}`,
    );
  }
}

/** Sanitizes one HTML body part. */
export function sanitizeMailHtml(html: string, options: SanitizeOptions): SanitizedHtml {
  const view = (options.window ?? window) as Window & typeof globalThis;
  const purify = createDOMPurify(view);
  const sanitizer = new Sanitizer(options.allowRemote, options.remoteImages ?? {}, view);
  purify.addHook('uponSanitizeElement', (node, data) => {
    if (data.tagName === 'style' && node.textContent !== null) {
      node.textContent = sanitizer.filterStylesheet(node.textContent);
    }
  });
  purify.addHook('beforeSanitizeAttributes', (element) => {
    // The hook also sees text and comment nodes.
    if (element.nodeType !== ELEMENT_NODE) return;
    const sourceSet = element.getAttribute('srcset');
    if (sourceSet !== null) sanitizer.sourceSets.set(element, sourceSet);
  });
  purify.addHook('afterSanitizeAttributes', (element) => sanitizer.afterAttributes(element));
  const body = purify.sanitize(html, {
    USE_PROFILES: { html: true },
    // <style> in the mail's <head> would otherwise be dropped with the head.
    FORCE_BODY: true,
    FORBID_TAGS: FORBIDDEN_TAGS,
    FORBID_ATTR: FORBIDDEN_ATTRIBUTES,
    ALLOW_DATA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    SAFE_FOR_TEMPLATES: false,
    WHOLE_DOCUMENT: false,
    RETURN_DOM: false,
  });
  return {
    body,
    blockedRemoteCount: sanitizer.blocked.size,
    remoteUrls: [...sanitizer.remoteUrls],
    missingRemoteCount: sanitizer.missing.size,
    links: sanitizer.links,
  };
}

/**
 * The frame's own policy: nothing but inline styles and data: images (remote images arrive as
 * data: URLs fetched by main). Scripts are also off by `sandbox=""`; this is the second lock.
 */
export function frameContentSecurityPolicy(): string {
  return [
    "default-src 'none'",
    'img-src data:',
    "style-src 'unsafe-inline'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Quiet defaults so mail without its own styles reads well: system font, images fit the width. */
const FRAME_BASE_STYLE = [
  'html{color-scheme:light}',
  'body{margin:16px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1b2230;background:#fff;overflow-wrap:anywhere}',
  'img{max-width:100%;height:auto}',
  // A blocked remote image keeps its alternative text, in a quiet box rather than as a broken image.
  'img:not([src]):not([srcset]){border:1px dashed #c5cad3;color:#5b6577;font-size:13px}',
  'a[data-link]{color:#1d4ed8;text-decoration:underline;cursor:help}',
  'pre{white-space:pre-wrap}',
  'blockquote{margin:0 0 0 8px;padding-left:12px;border-left:3px solid #d9dee7;color:#5b6577}',
].join('');

/** The complete srcdoc document for one sanitized part. */
export function frameDocument(sanitized: Pick<SanitizedHtml, 'body'>): string {
  const policy = frameContentSecurityPolicy().replace(/"/g, '&quot;');
  return (
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${policy}">` +
    '<meta name="referrer" content="no-referrer"><meta name="color-scheme" content="light">' +
    `<style>${FRAME_BASE_STYLE}</style></head><body>${sanitized.body}</body></html>`
  );
}

/** The text of a sanitized part, for the plain-text view of an HTML-only message. */
export function htmlToText(html: string, environment: Window = window): string {
  const view = environment as Window & typeof globalThis;
  const document = new view.DOMParser().parseFromString(
    createDOMPurify(view).sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style'] }),
    'text/html',
  );
  for (const element of Array.from(document.querySelectorAll('br'))) element.replaceWith('\n');
  for (const element of Array.from(document.querySelectorAll('p, div, tr, li, h1, h2, h3, h4, h5, h6'))) {
    element.append('\n');
  }
  return (document.body.textContent ?? '').replace(/\n{3,}/g, '\n\n').trim();
}
