/**
 * Deceptive links: a link whose visible text shows one host ("www.bank.example") while its target
 * is another is the classic phishing trick. Pure functions, so they can be checked without a DOM.
 */

/** A host name as people write it in text: labels of letters, digits and hyphens, with a dot-separated TLD. */
const HOST_IN_TEXT = /(?:[a-z][a-z0-9+.-]*:\/\/)?((?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?\.)+\p{L}{2,63})\b/iu;

/** Top-level domains that are far more often file extensions in link text. */
const FILE_EXTENSIONS = new Set(
  'pdf doc docx xls xlsx ppt pptx odt ods txt csv rtf zip gz tgz rar png jpg jpeg gif webp svg mp3 mp4 mov avi htm html ics vcf eml'.split(
    ' ',
  ),
);

/** The host a piece of link text appears to name, lower-cased and without a leading "www.", or null. */
export function hostShownInText(text: string): string | null {
  const match = HOST_IN_TEXT.exec(text.trim());
  if (match === null) return null;
  // An e-mail address in the text ("write to help@bank.example") names a mailbox, not a web host.
  const before = text.trim().slice(0, match.index + match[0].length - match[1].length);
  if (before.endsWith('@')) return null;
  const host = match[1].toLowerCase();
  // "report.pdf" is a file name, not a host, unless the text clearly writes a web address.
  const written = /^[a-z][a-z0-9+.-]*:\/\//i.test(match[0]) || host.startsWith('www.');
  if (!written && FILE_EXTENSIONS.has(host.slice(host.lastIndexOf('.') + 1))) return null;
  return withoutWww(host);
}

/** The host of an absolute http(s) URL, lower-cased and without a leading "www.", or null. */
export function hostOfUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return withoutWww(parsed.hostname.toLowerCase());
  } catch {
    return null;
  }
}

function withoutWww(host: string): string {
  return host.startsWith('www.') ? host.slice(4) : host;
}

/**
 * True when the text names a host that is neither the target's host nor a parent or child domain
 * of it ("example.org" shown, "mail.example.org" targeted is fine; "bank.example" shown,
 * "bank.example.evil.test" targeted is not).
 */
export function isDeceptiveLink(text: string, href: string): boolean {
  const shown = hostShownInText(text);
  const target = hostOfUrl(href);
  if (shown === null || target === null) return false;
  if (shown === target) return false;
  return !target.endsWith(`.${shown}`) && !shown.endsWith(`.${target}`);
}
