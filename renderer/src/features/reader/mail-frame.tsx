/**
 * One sanitized HTML part in a sandboxed frame: `sandbox=""` (no scripts, no same-origin, no
 * forms, no popups, no top navigation) and the frame document's own CSP (sanitize.ts). The frame
 * cannot tell us its height without scripts, so it scrolls inside a generous fixed height.
 */
import { frameDocument, type SanitizedHtml } from './sanitize';

export function MailFrame({ sanitized, title }: { sanitized: SanitizedHtml; title: string }) {
  return (
    <iframe
      className="mail-frame"
      title={title}
      sandbox=""
      referrerPolicy="no-referrer"
      srcDoc={frameDocument(sanitized)}
    />
  );
}
