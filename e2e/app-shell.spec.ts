/**
 * The app as a user first meets it, in browser mode (Debian's Chromium against the built host):
 * the "Add an account" empty state, in light and dark, with no console errors and no request to
 * anything but the loopback server; the banner when the service goes away. The same checks run
 * in Electron where its binary is installed.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { _electron, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_METHODS, type MailApi } from '../shared/api';
import { MailError } from '../shared/errors';
import type { AccountView } from '../shared/model';
import type { MailService, ServiceEventListener } from '../main/service/create-service';
import { PROJECT_ROOT, startBrowserApp, type BrowserApp } from './support/browser-app';
import { launchChromium } from './support/chromium';
import { ELECTRON_BINARY, ELECTRON_MAIN, ELECTRON_SKIP_REASON } from './support/electron-app';
import { serveScripted } from './support/scripted-service';
import { recordPage } from './support/ui';

const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'test-results', 'screenshots');
/** Long enough for React's first render against a local service; a hang fails rather than stalls the run. */
const VISIBLE_TIMEOUT_MS = 10_000;

let browser: Browser;
let app: BrowserApp;
let profileDir: string;

beforeAll(async () => {
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-shell-'));
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  [browser, app] = await Promise.all([launchChromium(), startBrowserApp({ profileDir })]);
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await rm(profileDir, { recursive: true, force: true });
});

interface Recorded {
  page: Page;
  consoleErrors: string[];
  /** Every URL the page asked for, WebSockets included. */
  requests: string[];
}

async function openApp(url: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Recorded> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, colorScheme });
  const page = await context.newPage();
  const recorded = recordPage(page, context);
  await page.goto(url);
  return { page, ...recorded };
}

describe('browser mode', () => {
  it('shows the "Add an account" empty state, with no console errors and no request beyond the loopback server', async () => {
    const { page, consoleErrors, requests } = await openApp(app.url);
    await page
      .getByRole('heading', { name: 'Welcome to Whereabouts', level: 1 })
      .waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    const addAccount = page.getByRole('button', { name: 'Add an account' });
    expect(await addAccount.isVisible()).toBe(true);
    expect(await page.getByText('switch any time without losing a message').isVisible()).toBe(true);
    expect(await page.getByRole('main').count()).toBe(1);
    // Connected: no banner.
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'empty-state.png') });

    expect(consoleErrors).toEqual([]);
    const loopback = `127.0.0.1:${app.port}`;
    expect(requests.filter((url) => new URL(url).host !== loopback)).toEqual([]);
    // The page really did talk to the service over its WebSocket, with the token.
    expect(requests.some((url) => url.startsWith(`ws://${loopback}/rpc?token=`))).toBe(true);
    await page.context().close();
  });

  it('follows the system dark theme', async () => {
    const light = await openApp(app.url, 'light');
    const dark = await openApp(app.url, 'dark');
    for (const { page } of [light, dark]) {
      await page.getByRole('button', { name: 'Add an account' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    }
    const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await background(light.page)).toBe('rgb(246, 247, 249)');
    expect(await background(dark.page)).toBe('rgb(18, 22, 29)');
    await dark.page.screenshot({ path: path.join(SCREENSHOT_DIR, 'empty-state-dark.png') });
    expect(dark.consoleErrors).toEqual([]);
    await Promise.all([light.page.context().close(), dark.page.context().close()]);
  });

  it('shows keyboard focus on the primary button', async () => {
    const { page } = await openApp(app.url);
    const addAccount = page.getByRole('button', { name: 'Add an account' });
    await addAccount.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await page.keyboard.press('Tab');
    expect(await addAccount.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await addAccount.evaluate((element) => getComputedStyle(element).outlineStyle)).toBe('solid');
    await page.context().close();
  });

  it('says so when opened without its session key, instead of failing silently', async () => {
    const { page, requests } = await openApp(`${app.origin}/`);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await alert.textContent()).toContain('without its session key');
    expect(requests.some((url) => url.startsWith('ws:'))).toBe(false);
    await page.context().close();
  });

  it('shows a banner when the service stops, and keeps retrying', async () => {
    const ownProfile = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-banner-'));
    const ownApp = await startBrowserApp({ profileDir: ownProfile });
    try {
      const { page } = await openApp(ownApp.url);
      await page.getByRole('button', { name: 'Add an account' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      await ownApp.stop();
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      expect(await alert.textContent()).toContain('can’t reach its service');
      expect(await page.getByText(/Trying again/).isVisible()).toBe(true);
      expect(await page.getByRole('button', { name: 'Try now' }).isVisible()).toBe(true);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'service-unreachable.png') });
      await page.context().close();
    } finally {
      await ownApp.stop();
      await rm(ownProfile, { recursive: true, force: true });
    }
  });

  it('uses the same icon in the app as in the packages', async () => {
    const [packaged, inApp] = await Promise.all([
      readFile(path.join(PROJECT_ROOT, 'build', 'icon.svg'), 'utf8'),
      readFile(path.join(PROJECT_ROOT, 'renderer', 'public', 'icon.svg'), 'utf8'),
    ]);
    expect(inApp).toBe(packaged);
  });
});

/**
 * A service scripted to hold accounts, served by the real loopback host, so the shell can be seen
 * before account setup exists: the renderer cannot tell it from the real one.
 */
function scriptedService(
  initial: AccountView[],
): Pick<MailService, 'api' | 'onEvent' | 'close'> & { announce(accounts: AccountView[]): void } {
  const listeners = new Set<ServiceEventListener>();
  const refusing = Object.fromEntries(
    MAIL_METHODS.map((method) => [
      method,
      async () => Promise.reject(new MailError('INTERNAL', `${method}: not scripted`)),
    ]),
  ) as unknown as MailApi;
  return {
    api: {
      ...refusing,
      listAccounts: async () => initial,
      getAppInfo: async () => ({ version: '0', shell: 'browser', profileDir: '/nowhere' }),
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
    announce(accounts) {
      for (const listener of listeners) listener('accountsChanged', { accounts });
    },
  };
}

function account(id: string, name: string, mode: 'imap' | 'pop3'): AccountView {
  return {
    id,
    name,
    email: `${id}@example.org`,
    mode,
    username: id,
    imap: null,
    pop3: null,
    smtp: null,
    leaveOnServer: { kind: 'off' },
    offlineFolders: [],
    checkIntervalMinutes: 10,
    createdAt: '2024-01-01T00:00:00.000Z',
    connectivity: 'online',
    lastError: null,
    lastSyncAt: null,
  };
}

describe('the three-pane shell', () => {
  it('replaces the empty state as soon as the service reports an account, with named landmarks', async () => {
    const service = scriptedService([]);
    const host = await serveScripted(service);
    try {
      const { page, consoleErrors } = await openApp(host.url);
      await page.getByRole('button', { name: 'Add an account' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      service.announce([account('work', 'Work', 'imap'), account('home', 'Home', 'pop3')]);
      const sidebar = page.getByRole('navigation', { name: 'Accounts and folders' });
      await sidebar.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      // Each account under its name, with its mode; their folders cannot be listed by this script, which the
      // sidebar says instead of failing.
      expect(await sidebar.getByRole('heading', { level: 2 }).allTextContents()).toEqual(['Work', 'Home']);
      expect(await sidebar.locator('.mode-badge').allTextContents()).toEqual(['IMAP', 'POP3']);
      expect(await sidebar.getByText(/Folders could not be read/).count()).toBe(2);
      expect(await page.getByRole('main', { name: 'Messages' }).isVisible()).toBe(true);
      expect(await page.getByRole('region', { name: 'Reader' }).isVisible()).toBe(true);
      expect(await page.getByRole('heading', { name: 'Welcome to Whereabouts' }).count()).toBe(0);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'three-pane-shell.png') });
      expect(consoleErrors).toEqual([]);
      await page.context().close();
    } finally {
      await host.close();
    }
  });
});

describe('Electron', () => {
  const name = ELECTRON_BINARY
    ? 'loads the same empty state from app://, with only the preload transport exposed and new windows refused'
    : `loads the same empty state from app:// (${ELECTRON_SKIP_REASON})`;

  it.skipIf(ELECTRON_BINARY === null)(name, async () => {
    const electronProfile = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-electron-'));
    const electronApp = await _electron.launch({
      executablePath: ELECTRON_BINARY ?? undefined,
      args: [ELECTRON_MAIN, '--profile', electronProfile],
    });
    try {
      const appWindow = await electronApp.firstWindow();
      await appWindow.getByRole('button', { name: 'Add an account' }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
      expect(appWindow.url()).toBe('app://whereabouts/index.html');
      const exposed = await appWindow.evaluate(() => ({
        bridge: Object.keys((window as unknown as { whereabouts: object }).whereabouts).sort(),
        node: typeof (window as unknown as { require?: unknown }).require,
        process: typeof (window as unknown as { process?: unknown }).process,
        popup: window.open('https://example.com/') === null,
      }));
      expect(exposed).toEqual({ bridge: ['onMessage', 'send'], node: 'undefined', process: 'undefined', popup: true });
      await appWindow.screenshot({ path: path.join(SCREENSHOT_DIR, 'electron-empty-state.png') });
    } finally {
      await electronApp.close();
      await rm(electronProfile, { recursive: true, force: true });
    }
  });
});
