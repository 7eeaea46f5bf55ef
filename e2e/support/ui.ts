/**
 * Opening the app in a fresh browser context for the UI specs, with everything a spec may want
 * to assert on recorded: console errors, uncaught exceptions, and every URL requested.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PROJECT_ROOT } from './browser-app';

export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'test-results', 'screenshots');
/** Long enough for React's first render against a local service; a hang fails rather than stalls the run. */
export const VISIBLE_TIMEOUT_MS = 10_000;

export interface OpenedPage {
  page: Page;
  consoleErrors: string[];
  /** Every URL the page asked for, WebSockets included. */
  requests: string[];
  close(): Promise<void>;
}

export async function openAppPage(
  browser: Browser,
  url: string,
  options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const recorded = recordPage(page, context);
  await page.goto(url);
  return { page, ...recorded, close: () => context.close() };
}

/** Starts recording the page's console errors, uncaught exceptions and every URL its context requests. */
export function recordPage(page: Page, context: BrowserContext): Pick<OpenedPage, 'consoleErrors' | 'requests'> {
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  context.on('request', (request) => requests.push(request.url()));
  page.on('websocket', (socket) => requests.push(socket.url()));
  return { consoleErrors, requests };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** Requests to anything but the given loopback host:port. */
export function foreignRequests(requests: string[], loopbackHost: string): string[] {
  return requests.filter((url) => {
    if (url.startsWith('data:') || url.startsWith('about:')) return false;
    try {
      return new URL(url).host !== loopbackHost;
    } catch {
      return true;
    }
  });
}
