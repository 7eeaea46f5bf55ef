/**
 * Debian's Chromium driven by playwright-core (Playwright's own browser builds cannot be
 * downloaded here), with the features that would talk to the network switched off so a test
 * can assert that the app itself makes no request beyond the loopback server.
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_EXECUTABLE = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_EXECUTABLE,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}
