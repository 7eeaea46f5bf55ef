/**
 * The renderer needs no network: its code and assets come from app://, data it gets over IPC.
 * Every other request it makes (http(s), ws(s), file:) is cancelled, which also keeps remote
 * images in mail from loading behind the user's back (DESIGN.md, Security).
 */
const RENDERER_SCHEMES: ReadonlySet<string> = new Set(['app:', 'data:', 'blob:', 'devtools:']);

export function isRendererRequestAllowed(url: string): boolean {
  try {
    return RENDERER_SCHEMES.has(new URL(url).protocol);
  } catch {
    return false;
  }
}
