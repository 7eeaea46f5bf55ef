/**
 * One app window in either shell, for the specs that run the same journey twice: browser mode
 * (the built host and Debian's Chromium, as startUiSession) and Electron (the built app through
 * Playwright's `_electron`, where its binary is installed). Each session has its own profile
 * folder; what differs between the shells (how a download is saved, where screenshots go) is
 * answered here so the journey reads the same in both.
 */
import { readFile } from 'node:fs/promises';
import { ELECTRON_BINARY, ELECTRON_SKIP_REASON } from './electron-app';
import { startElectronSession, type SavedDownload } from './electron-session';
import { screenshot, type OpenedPage } from './ui';
import { startUiSession } from './ui-session';

export const SHELLS = ['browser', 'electron'] as const;
export type Shell = (typeof SHELLS)[number];

export interface ShellSession {
  shell: Shell;
  profileDir: string;
  opened: OpenedPage;
  /** Runs `trigger` (the click) and returns the file the shell saved for the download it starts. */
  saveDownload(trigger: () => Promise<unknown>): Promise<SavedDownload>;
  /** A screenshot under test-results/screenshots; Electron's are named `electron-…` beside the browser's. */
  screenshot(name: string): Promise<void>;
  stop(): Promise<void>;
}

/** Why a shell cannot run on this machine, or null when it can. */
export function shellSkipReason(shell: Shell): string | null {
  return shell === 'electron' && ELECTRON_BINARY === null ? ELECTRON_SKIP_REASON : null;
}

export interface ShellSessionOptions {
  /** Runs on the session's profile folder before the host or app starts (to seed a store, say). */
  prepare?: (profileDir: string) => Promise<void>;
}

export async function startShellSession(
  shell: Shell,
  name: string,
  viewport: { width: number; height: number },
  options: ShellSessionOptions = {},
): Promise<ShellSession> {
  if (shell === 'browser') {
    const session = await startUiSession(name, options.prepare);
    let opened: OpenedPage;
    try {
      opened = await session.open(viewport);
    } catch (error) {
      await session.stop();
      throw error;
    }
    return {
      shell,
      profileDir: session.profileDir,
      opened,
      async saveDownload(trigger) {
        const [download] = await Promise.all([opened.page.waitForEvent('download'), trigger()]);
        return { filename: download.suggestedFilename(), bytes: await readFile(await download.path()) };
      },
      screenshot: (shotName) => screenshot(opened.page, shotName),
      stop: () => session.stop(),
    };
  }
  const session = await startElectronSession(`${name}-electron`, {
    ...viewport,
    colorScheme: 'light',
    prepare: options.prepare,
  });
  return {
    shell,
    profileDir: session.profileDir,
    opened: session.opened,
    saveDownload: (trigger) => session.saveNextDownload(trigger),
    screenshot: (shotName) => screenshot(session.opened.page, `electron-${shotName}`),
    stop: () => session.stop(),
  };
}
