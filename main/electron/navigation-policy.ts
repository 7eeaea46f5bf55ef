/**
 * What happens when the page tries to go somewhere. The window never leaves the app: in-window
 * navigation and new windows are always refused, and only plain web links are handed to the
 * system browser. file:, javascript:, data:, custom schemes and anything unparsable are never
 * passed to the OS, because shell.openExternal would launch whatever handler is registered.
 */
export type ExternalDecision = 'open-external' | 'deny';

export function decideExternalOpen(url: string): ExternalDecision {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'deny';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'deny';
  if (parsed.hostname.length === 0) return 'deny';
  // user:password@host links are a phishing device (RFC 3986 section 7.6 calls them out).
  if (parsed.username.length > 0 || parsed.password.length > 0) return 'deny';
  return 'open-external';
}

export type FrameNavigationDecision = 'allow' | 'open-external' | 'deny';

/**
 * Sub-frames (the sandboxed mail reader) may only hold inline documents; a link clicked in a
 * message goes to the system browser, never into the frame.
 */
export function decideFrameNavigation(url: string): FrameNavigationDecision {
  if (url === 'about:srcdoc' || url === 'about:blank') return 'allow';
  return decideExternalOpen(url);
}
