/**
 * The reader inside the real app (scripted service on the real host, the app's own CSP): hostile
 * mail is shown without a script running or a request leaving the machine, each HTML part in its
 * own sandboxed frame; remote content waits for the user; deceptive links are called out; the
 * plain-text view and "view source" work. Every host name resolves to a loopback canary, so even
 * a request that Playwright's own routing would miss is counted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../main/web/web-host';
import { CHROMIUM_EXECUTABLE } from './support/chromium';
import { EVIL_ORIGIN, HOSTILE_SAMPLES, NEWSLETTER_HTML } from './support/hostile-html';
import {
  createScriptedService,
  htmlMessage,
  REMOTE_PIXEL_BASE64,
  serveScripted,
  type ScriptedService,
} from './support/scripted-service';
import { foreignRequests, openAppPage, screenshot, VISIBLE_TIMEOUT_MS } from './support/ui';

const SETTLE_MS = 800;
/**
 * The hosts the hostile samples name (RFC 2606 reserved names). Chromium's own traffic (updates,
 * clock checks) also reaches the canary under other names; only these can come from the page.
 */
const SAMPLE_HOST = /(?:^|\.)(?:example|test)(?::\d+)?$/;

const hostile = htmlMessage('hostile', 'Hostile mail', HOSTILE_SAMPLES.map((sample) => sample.html).join('\n'));
// A second HTML part that tries to close the first one's markup: it must get its own frame.
hostile.parts = [
  { partId: '1', kind: 'html', content: hostile.parts?.[0].content ?? '' },
  { partId: '2', kind: 'html', content: `"></a></style></div><img src="${EVIL_ORIGIN}/part-two.png">Second part` },
  { partId: '3', kind: 'text', content: 'And a plain text part.' },
];
const newsletter = htmlMessage('newsletter', 'Spring newsletter', NEWSLETTER_HTML, {
  name: 'News Desk',
  address: 'news@newsletter.example',
});

let browser: Browser;
let service: ScriptedService;
let host: WebHost;
let canary: http.Server;
const canaryHits: string[] = [];

beforeAll(async () => {
  canary = http.createServer((request, response) => {
    const hostHeader = request.headers.host ?? '?';
    if (SAMPLE_HOST.test(hostHeader)) canaryHits.push(`http://${hostHeader}${request.url ?? ''}`);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const canaryPort = (canary.address() as AddressInfo).port;
  service = createScriptedService({ specialMessages: [hostile, newsletter] });
  [browser, host] = await Promise.all([
    chromium.launch({
      executablePath: CHROMIUM_EXECUTABLE,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        `--host-resolver-rules=MAP * 127.0.0.1:${canaryPort}, EXCLUDE 127.0.0.1`,
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights',
      ],
    }),
    serveScripted(service),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await new Promise((resolve) => canary?.close(resolve));
});

async function openMessage(
  subject: string,
): Promise<{ page: Page; requests: string[]; dialogs: string[]; close(): Promise<void> }> {
  const opened = await openAppPage(browser, host.url, { width: 1440, height: 900 });
  const dialogs: string[] = [];
  opened.page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const row = opened.page.locator('[role="listbox"] [role="option"]', { hasText: subject }).first();
  await row.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  await row.click();
  await opened.page.getByRole('heading', { name: subject, level: 1 }).waitFor({ timeout: VISIBLE_TIMEOUT_MS });
  return { page: opened.page, requests: opened.requests, dialogs, close: opened.close };
}

describe('the reader', () => {
  it('shows hostile mail with no script running and no request leaving, each HTML part in its own sandboxed frame', async () => {
    canaryHits.length = 0;
    const { page, requests, dialogs, close } = await openMessage('Hostile mail');
    const frames = page.locator('iframe.mail-frame');
    await expect.poll(() => frames.count()).toBe(2);
    for (const frame of await frames.all()) {
      expect(await frame.getAttribute('sandbox')).toBe('');
      expect(await frame.getAttribute('srcdoc')).toContain(
        `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'`,
      );
    }
    expect(await page.getByText('And a plain text part.').isVisible()).toBe(true);
    // Hover and click everything inside the frames, as a curious reader would.
    for (const frame of page.frames().slice(1)) {
      await frame.evaluate(() => {
        for (const element of Array.from(document.querySelectorAll('*'))) {
          for (const type of ['mouseover', 'click', 'focus'])
            element.dispatchEvent(new MouseEvent(type, { bubbles: true }));
        }
      });
    }
    await page.waitForTimeout(SETTLE_MS);
    expect(foreignRequests(requests, `127.0.0.1:${host.port}`)).toEqual([]);
    expect(canaryHits).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    for (const frame of page.frames().slice(1)) {
      expect(
        await frame.evaluate(
          () => document.querySelectorAll('script, iframe, form, base, meta[http-equiv="refresh"]').length,
        ),
      ).toBe(0);
    }
    await screenshot(page, 'reader-hostile');
    await close();
  });

  it('blocks remote images until asked, loads them through main, remembers "always from this sender", and warns about a deceptive link', async () => {
    const { page, requests, close } = await openMessage('Spring newsletter');
    const bar = page.getByRole('region', { name: 'Remote content' });
    expect(await bar.textContent()).toContain('1 remote image was blocked');
    expect(await page.locator('iframe.mail-frame').getAttribute('srcdoc')).not.toContain('banner.png');

    const links = page.locator('details.links');
    expect(await links.getAttribute('open')).not.toBeNull();
    expect(await links.textContent()).toContain('The text shows bank.example, but the link goes to bank.evil.example');
    const target = links.getByRole('link', { name: 'https://bank.evil.example/login' });
    expect(await target.getAttribute('rel')).toBe('noopener noreferrer');
    await screenshot(page, 'reader-remote-blocked');

    service.calls.length = 0;
    canaryHits.length = 0;
    await bar.getByRole('button', { name: 'Always from news@newsletter.example' }).click();
    // Main fetches the image (fetchRemoteImages); the frame gets it as data, never the remote address.
    await expect
      .poll(() => page.locator('iframe.mail-frame').getAttribute('srcdoc'))
      .toContain(`data:image/png;base64,${REMOTE_PIXEL_BASE64}`);
    const srcdoc = (await page.locator('iframe.mail-frame').getAttribute('srcdoc')) ?? '';
    expect(srcdoc).not.toContain(EVIL_ORIGIN);
    expect(srcdoc).toContain(`img-src data:;`);
    expect(service.calls.filter((call) => call.method === 'fetchRemoteImages').map((call) => call.request)).toEqual([
      { messageId: 'newsletter', urls: [`${EVIL_ORIGIN}/banner.png`] },
    ]);
    // The banner shows, at the size the mail gives it, from the data main handed over.
    const banner = page.frameLocator('iframe.mail-frame').getByRole('img', { name: 'Banner from the sender' });
    await expect.poll(() => banner.evaluate((image: HTMLImageElement) => image.naturalWidth)).toBe(480);
    await page.waitForTimeout(SETTLE_MS);
    expect(canaryHits).toEqual([]);
    expect(foreignRequests(requests, `127.0.0.1:${host.port}`)).toEqual([]);
    expect(await page.getByText('Remote content from news@newsletter.example is always loaded.').isVisible()).toBe(
      true,
    );
    expect(await page.evaluate(() => localStorage.getItem('whereabouts.remote-content.senders'))).toBe(
      '["news@newsletter.example"]',
    );
    await screenshot(page, 'reader-remote-loaded');

    // The plain-text view of an HTML-only message, and the message's source.
    await page.getByRole('button', { name: 'Plain text' }).click();
    await page
      .getByText('Spring newsletter Inline image stays.')
      .or(page.getByText('Inline image stays.'))
      .first()
      .waitFor();
    expect(await page.locator('iframe.mail-frame').count()).toBe(0);
    await page.getByRole('button', { name: 'Formatted' }).click();
    await page.getByRole('button', { name: 'View source' }).click();
    const source = page.getByRole('dialog', { name: /Source of/ });
    await source.getByText('Subject: Spring newsletter').waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    await close();
  });

  it('opens the composer with r, a and f, quoting the message', async () => {
    const { page, close } = await openMessage('Spring newsletter');
    await page.locator('[role="listbox"]').focus();
    await page.keyboard.press('a');
    const composer = page.getByRole('region', { name: 'Reply to all' });
    await composer.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await composer.getByLabel('To').inputValue()).toBe('News Desk <news@newsletter.example>');
    expect(await composer.getByLabel('Subject').inputValue()).toBe('Re: Spring newsletter');
    expect(await composer.getByLabel('Message').inputValue()).toContain('> Spring newsletter');
    await composer.getByRole('button', { name: 'Discard' }).click();
    await page.locator('[role="listbox"]').focus();
    await page.keyboard.press('f');
    const forward = page.getByRole('region', { name: 'Forward' });
    await forward.waitFor({ timeout: VISIBLE_TIMEOUT_MS });
    expect(await forward.getByLabel('Subject').inputValue()).toBe('Fwd: Spring newsletter');
    expect(await forward.getByLabel('Message').inputValue()).toContain('---------- Forwarded message ----------');
    await close();
  });
});
