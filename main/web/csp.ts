/**
 * The Content Security Policy for the renderer, sent as a response header by both shells (the
 * Electron app:// protocol and the loopback server), so the identical bundle runs under the
 * identical policy. A header rather than a <meta> tag because `frame-ancestors` only works as a
 * header (CSP Level 3, section 6.4.2).
 */
export type RendererShell = 'electron' | 'browser';

export function contentSecurityPolicyDirectives(shell: RendererShell): Record<string, string[]> {
  return {
    'default-src': ["'none'"],
    // No inline script anywhere: Vite emits external module scripts only.
    'script-src': ["'self'"],
    // Mail is shown in sandboxed srcdoc frames (no scripts), which inherit this policy, and mail
    // is styled inline: styles may be inline; scripts never. Remote images are not allowed here:
    // main fetches those the user chose to load and hands them over as data: URLs.
    'style-src': ["'self'", "'unsafe-inline'"],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'"],
    // Electron talks over IPC and needs no connection at all; browser mode needs only its own
    // WebSocket, which 'self' covers (CSP Level 3 lets 'self' match ws: for an http: page).
    'connect-src': shell === 'electron' ? ["'none'"] : ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  };
}

export function contentSecurityPolicy(shell: RendererShell): string {
  return Object.entries(contentSecurityPolicyDirectives(shell))
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** Headers every renderer response carries, besides the CSP. */
export function securityHeaders(shell: RendererShell): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(shell),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
  };
}
