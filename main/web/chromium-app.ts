/**
 * How browser mode opens its window: Debian's Chromium in app mode (no tabs, no address bar) on a
 * profile of its own inside the Whereabouts profile, with the features that phone home turned off.
 */
import path from 'node:path';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface ChromiumAppInput {
  url: string;
  profileDir: string;
  /** Chromium refuses to start its sandbox as root; only then is it switched off. */
  isRoot: boolean;
}

export function chromiumAppArguments({ url, profileDir, isRoot }: ChromiumAppInput): string[] {
  return [
    `--app=${url}`,
    `--user-data-dir=${path.join(profileDir, 'chromium')}`,
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(isRoot ? ['--no-sandbox'] : []),
  ];
}

/** A graphical session exists when X11 or Wayland tells us where it is. */
export function hasDisplay(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY);
}
