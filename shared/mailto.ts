/**
 * mailto: URLs (RFC 6068), from the operating system (Whereabouts as the default mail client) or
 * from a link in a message, turned into a draft for the composer. Only the fields a person sees
 * are taken (to, cc, bcc, subject, body); any other header in the URL is ignored, as RFC 6068
 * section 7 advises for security.
 */
export interface MailtoDraft {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  body: string;
}

const MAX_MAILTO_CHARS = 64 * 1024;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%2B'));
  } catch {
    return text;
  }
}

function addresses(text: string): string[] {
  return decode(text)
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address.length > 0 && !/[\r\n]/.test(address));
}

/** Null when `url` is not a mailto: URL or is unreasonably long. */
export function parseMailto(url: string): MailtoDraft | null {
  if (url.length > MAX_MAILTO_CHARS || !/^mailto:/i.test(url)) return null;
  const rest = url.slice('mailto:'.length);
  const queryAt = rest.indexOf('?');
  const draft: MailtoDraft = {
    to: addresses(queryAt === -1 ? rest : rest.slice(0, queryAt)),
    cc: [],
    bcc: [],
    subject: '',
    body: '',
  };
  if (queryAt === -1) return draft;
  for (const pair of rest.slice(queryAt + 1).split('&')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const name = pair.slice(0, equals).toLowerCase();
    const value = pair.slice(equals + 1);
    if (name === 'to') draft.to.push(...addresses(value));
    else if (name === 'cc') draft.cc.push(...addresses(value));
    else if (name === 'bcc') draft.bcc.push(...addresses(value));
    // A subject is one line (RFC 5322 unstructured header); the body keeps its line breaks.
    else if (name === 'subject') draft.subject = decode(value).replace(/[\r\n]+/g, ' ');
    else if (name === 'body') draft.body = decode(value).replace(/\r?\n/g, '\n');
  }
  return draft;
}
