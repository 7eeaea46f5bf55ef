/**
 * The renderer's own origin in Electron. A custom standard, secure scheme instead of file://, so
 * the page has a real origin (file: pages share one opaque origin and, by default, extra
 * privileges), the CSP can be a response header, and the sender of every IPC message can be
 * recognised by its URL.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'whereabouts';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** The one IPC channel the preload and main talk over. */
export const RPC_CHANNEL = 'whereabouts:rpc';

export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}
