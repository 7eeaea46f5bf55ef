/**
 * What most UI specs start with: a fresh profile folder, the built browser-mode host on it and a
 * Chromium; `open` adds a page (a fresh context), `stop` closes them all and removes the profile.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startBrowserApp, type BrowserApp } from './browser-app';
import { launchChromium } from './chromium';
import { openAppPage, type OpenedPage } from './ui';

export interface UiSession {
  browser: Browser;
  app: BrowserApp;
  profileDir: string;
  open(options?: Parameters<typeof openAppPage>[2]): Promise<OpenedPage>;
  stop(): Promise<void>;
}

/** `prepare` runs on the profile folder before the host starts (to seed a store, say). */
export async function startUiSession(
  name: string,
  prepare: (profileDir: string) => Promise<void> = async () => {},
  env?: Record<string, string>,
): Promise<UiSession> {
  const profileDir = await mkdtemp(path.join(os.tmpdir(), `whereabouts-${name}-`));
  const pages: OpenedPage[] = [];
  let browser: Browser | null = null;
  let app: BrowserApp | null = null;
  const stop = async (): Promise<void> => {
    for (const opened of pages.splice(0)) await opened.close().catch(() => {});
    await browser?.close();
    await app?.stop();
    await rm(profileDir, { recursive: true, force: true });
  };
  try {
    const [launched] = await Promise.all([launchChromium(), prepare(profileDir)]);
    browser = launched;
    app = await startBrowserApp({ profileDir, env });
  } catch (error) {
    await stop();
    throw error;
  }
  const session: UiSession = {
    browser,
    app,
    profileDir,
    async open(options) {
      const opened = await openAppPage(session.browser, session.app.url, options);
      pages.push(opened);
      return opened;
    },
    stop,
  };
  return session;
}
