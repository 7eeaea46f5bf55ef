/**
 * The mail sanitizer (renderer/src/features/reader/sanitize.ts) inside real Chromium, on a page
 * WITHOUT any Content Security Policy, so only the sanitizer stands between hostile mail and the
 * network: no script may run and not a single request may leave the page while the sanitized
 * HTML is displayed. Every request is routed and recorded (then aborted); requests Playwright's
 * routing does not see (those from sandboxed srcdoc frames) reach a loopback canary server, because
 * Chromium resolves every host name to it. A positive control per test proves a leak would show.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_EXECUTABLE } from './support/chromium';
import { EVIL_ORIGIN, HOSTILE_SAMPLES, NEWSLETTER_HTML } from './support/hostile-html';
import { bundleRendererModule } from './support/renderer-module';

const TEST_PAGE = 'http://sanitizer.test/';
/** Image loads start within a frame or two; this is generous so a slow machine still catches a leak. */
const SETTLE_MS = 600;
/** How long a positive control may take to show its request. */
const CONTROL_TIMEOUT_MS = 5_000;
/**
 * The hosts the hostile samples name (RFC 2606 reserved names). Chromium's own traffic (updates,
 * clock checks) also reaches the canary under other names; only these can come from the page.
 */
const SAMPLE_HOST = /(?:^|\.)(?:example|test)(?::\d+)?$/;
/** A 1×1 PNG, as main would hand back a fetched remote image. */
const PIXEL_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

interface SanitizedHtml {
  body: string;
  blockedRemoteCount: number;
  remoteUrls: string[];
  missingRemoteCount: number;
  links: { text: string; href: string; host: string | null; deceptive: boolean }[];
}
interface SanitizerModule {
  sanitizeMailHtml(
    html: string,
    options: { allowRemote: boolean; remoteImages?: Record<string, string> },
  ): SanitizedHtml;
  frameDocument(sanitized: SanitizedHtml): string;
  htmlToText(html: string): string;
}
declare global {
  interface Window {
    WhereaboutsSanitizer: SanitizerModule;
    __xss?: number;
    __control?: number;
  }
}

let browser: Browser;
let bundle: string;
let canary: http.Server;
/** Every request that reached the canary server, as "host/path". */
const canaryHits: string[] = [];

beforeAll(async () => {
  canary = http.createServer((request, response) => {
    const host = request.headers.host ?? '?';
    const url = `http://${host}${request.url ?? ''}`;
    // Each URL once: a request both routed and seen by the canary is one leak, not two.
    if (SAMPLE_HOST.test(host) && !canaryHits.includes(url)) canaryHits.push(url);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const canaryPort = (canary.address() as AddressInfo).port;
  [browser, bundle] = await Promise.all([
    chromium.launch({
      executablePath: CHROMIUM_EXECUTABLE,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        // Every name resolves to the canary, so a request that escapes routing is still seen; and
        // the canary being on loopback must not make Chromium refuse (Local Network Access) what
        // it would send to a real host.
        `--host-resolver-rules=MAP * 127.0.0.1:${canaryPort}`,
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights',
      ],
    }),
    bundleRendererModule('renderer/src/features/reader/sanitize.ts', 'WhereaboutsSanitizer'),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => canary?.close(resolve));
});

interface Harness {
  context: BrowserContext;
  page: Page;
  /** Every URL requested besides the test page itself (routed, or arrived at the canary). */
  requests: string[];
  dialogs: string[];
}

async function openHarness(): Promise<Harness> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  canaryHits.length = 0;
  // The canary's list is shared by reference, so both sources land in one list.
  const requests: string[] = canaryHits;
  const dialogs: string[] = [];
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url === TEST_PAGE) {
      await route.fulfill({
        contentType: 'text/html; charset=utf-8',
        // Every sample sits stacked in the top-left corner, inside the viewport, so nothing is
        // skipped as off-screen (lazy images, deferred frames) and a leak cannot hide below the fold.
        body:
          '<!doctype html><html><head><title>sanitizer</title><style>' +
          '#host > *{position:absolute;top:0;left:0;width:300px;height:200px;overflow:hidden}' +
          '</style></head><body><div id="host"></div></body></html>',
      });
      return;
    }
    if (!requests.includes(url)) requests.push(url);
    await route.abort();
  });
  const page = await context.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (url !== TEST_PAGE && !url.startsWith('data:') && !requests.includes(url)) requests.push(url);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(TEST_PAGE);
  await page.addScriptTag({ content: bundle });
  return { context, page, requests, dialogs };
}

/** Elements and attributes that must never survive, checked on the live DOM the browser built. */
async function forbiddenLeftovers(page: Page, containerId: string): Promise<string[]> {
  return page.evaluate((id) => {
    const container = document.getElementById(id);
    if (container === null) return ['container missing'];
    const found: string[] = [];
    const forbiddenTags = new Set([
      'SCRIPT',
      'IFRAME',
      'FRAME',
      'FRAMESET',
      'OBJECT',
      'EMBED',
      'FORM',
      'INPUT',
      'BUTTON',
      'BASE',
      'META',
      'LINK',
      'VIDEO',
      'AUDIO',
      'SOURCE',
      'PICTURE',
      'TEMPLATE',
      'svg',
      'math',
    ]);
    for (const element of Array.from(container.querySelectorAll('*'))) {
      if (forbiddenTags.has(element.tagName)) found.push(`<${element.tagName.toLowerCase()}>`);
      for (const attribute of Array.from(element.attributes)) {
        const name = attribute.name.toLowerCase();
        if (name.startsWith('on')) found.push(`${element.tagName} ${name}`);
        if (['href', 'srcset', 'action', 'formaction', 'poster', 'ping', 'lowsrc', 'dynsrc'].includes(name)) {
          found.push(`${element.tagName} ${name}="${attribute.value}"`);
        }
        if ((name === 'src' || name === 'background') && !attribute.value.startsWith('data:image/')) {
          found.push(`${element.tagName} ${name}="${attribute.value}"`);
        }
      }
    }
    return found;
  }, containerId);
}

/** Hover and focus everything, so handlers that wait for a user would fire now. */
async function provoke(page: Page): Promise<void> {
  await page.evaluate(() => {
    for (const element of Array.from(document.querySelectorAll('#host *'))) {
      for (const type of ['mouseover', 'mouseenter', 'click', 'focus']) {
        element.dispatchEvent(new MouseEvent(type, { bubbles: true }));
      }
    }
  });
}

describe('the mail sanitizer in Chromium, with no CSP to help it', () => {
  it(`removes every script and every request from ${HOSTILE_SAMPLES.length} hostile samples`, async () => {
    const { context, page, requests, dialogs } = await openHarness();
    const leftovers: Record<string, string[]> = {};
    for (const [index, sample] of HOSTILE_SAMPLES.entries()) {
      const id = `sample-${index}`;
      await page.evaluate(
        ({ html, id: containerId }) => {
          const container = document.createElement('div');
          container.id = containerId;
          container.innerHTML = window.WhereaboutsSanitizer.sanitizeMailHtml(html, { allowRemote: false }).body;
          document.getElementById('host')?.append(container);
        },
        { html: sample.html, id },
      );
      const found = await forbiddenLeftovers(page, id);
      if (found.length > 0) leftovers[sample.name] = found;
    }
    await provoke(page);
    await page.waitForTimeout(SETTLE_MS);

    expect(leftovers).toEqual({});
    expect(requests).toEqual([]);
    expect(await page.evaluate(() => window.__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);

    // Positive control: the same page does run handlers and does record requests when not sanitized.
    await page.evaluate((origin) => {
      const control = document.createElement('div');
      control.innerHTML = `<img src="${origin}/control.png"><img src="x" onerror="window.__control = 1">`;
      document.getElementById('host')?.append(control);
    }, EVIL_ORIGIN);
    await expect.poll(() => requests, { timeout: CONTROL_TIMEOUT_MS }).toContain(`${EVIL_ORIGIN}/control.png`);
    // The error event of the aborted request may come a moment after the request itself.
    await expect.poll(() => page.evaluate(() => window.__control), { timeout: CONTROL_TIMEOUT_MS }).toBe(1);
    await context.close();
  });

  it('shows each sanitized sample in a sandboxed srcdoc frame without a request or a script', async () => {
    const { context, page, requests, dialogs } = await openHarness();
    await page.evaluate((samples) => {
      for (const sample of samples) {
        const sanitized = window.WhereaboutsSanitizer.sanitizeMailHtml(sample.html, { allowRemote: false });
        const frame = document.createElement('iframe');
        frame.setAttribute('sandbox', '');
        frame.srcdoc = window.WhereaboutsSanitizer.frameDocument(sanitized);
        document.getElementById('host')?.append(frame);
      }
    }, HOSTILE_SAMPLES);
    await page.waitForTimeout(SETTLE_MS);
    expect(requests).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(page.frames().length).toBe(HOSTILE_SAMPLES.length + 1);

    // Control: the same frame without the sanitizer does load a remote image, so the silence above is real.
    await page.evaluate((origin) => {
      const frame = document.createElement('iframe');
      frame.setAttribute('sandbox', '');
      frame.srcdoc = `<img src="${origin}/frame-control.png">`;
      document.getElementById('host')?.append(frame);
    }, EVIL_ORIGIN);
    await expect.poll(() => requests, { timeout: CONTROL_TIMEOUT_MS }).toEqual([`${EVIL_ORIGIN}/frame-control.png`]);
    await context.close();
  });

  it('keeps inline images and styles, counts blocked remote images, and lists links with a warning for deceptive ones', async () => {
    const { context, page } = await openHarness();
    const [blocked, allowedNothingFetched] = await page.evaluate(
      (html) => [
        window.WhereaboutsSanitizer.sanitizeMailHtml(html, { allowRemote: false }),
        window.WhereaboutsSanitizer.sanitizeMailHtml(html, { allowRemote: true }),
      ],
      NEWSLETTER_HTML,
    );
    expect(blocked.blockedRemoteCount).toBe(1);
    expect(blocked.remoteUrls).toEqual([`${EVIL_ORIGIN}/banner.png`]);
    expect(blocked.body).toContain('src="data:image/png;base64,');
    expect(blocked.body).not.toContain('banner.png');
    expect(blocked.body).toContain('.card');
    // Allowed, but main has not fetched it (yet): still nothing remote in the markup.
    expect(allowedNothingFetched.blockedRemoteCount).toBe(0);
    expect(allowedNothingFetched.missingRemoteCount).toBe(1);
    expect(allowedNothingFetched.body).not.toContain(EVIL_ORIGIN);
    expect(blocked.links).toEqual([
      {
        text: 'https://www.bank.example/login',
        href: 'https://bank.evil.example/login',
        host: 'bank.evil.example',
        deceptive: true,
      },
      { text: 'the full story', href: 'https://news.example.org/spring', host: 'news.example.org', deceptive: false },
    ]);
    await context.close();
  });

  it('puts the data main fetched in place of each remote image: img src, srcset candidates and CSS url()', async () => {
    const { context, page, requests } = await openHarness();
    const fetched = `data:image/png;base64,${PIXEL_BASE64}`;
    const html = [
      `<img id="a" src="${EVIL_ORIGIN}/a.png" alt="a">`,
      `<img id="b" srcset="${EVIL_ORIGIN}/b1.png 1x, ${EVIL_ORIGIN}/b2.png 2x, ${EVIL_ORIGIN}/not-fetched.png 3x" alt="b">`,
      `<div id="c" style="background-image:url('${EVIL_ORIGIN}/c.png');height:10px">c</div>`,
      `<style>.d{background:url(${EVIL_ORIGIN}/d.png) no-repeat}</style><div class="d">d</div>`,
      `<table background="${EVIL_ORIGIN}/e.png"><tr><td>e</td></tr></table>`,
      `<img id="f" src="${EVIL_ORIGIN}/f.png" alt="f">`,
    ].join('');
    const result = await page.evaluate(
      ({ source, data, origin }) => {
        const first = window.WhereaboutsSanitizer.sanitizeMailHtml(source, { allowRemote: false });
        const remoteImages: Record<string, string> = {};
        for (const url of first.remoteUrls) if (!/not-fetched|f\.png/.test(url)) remoteImages[url] = data;
        // Main never returns anything but raster data; anything else given here is ignored.
        remoteImages[`${origin}/f.png`] = 'data:text/html;base64,PHNjcmlwdD4=';
        const second = window.WhereaboutsSanitizer.sanitizeMailHtml(source, { allowRemote: true, remoteImages });
        const container = document.createElement('div');
        container.id = 'fetched';
        container.innerHTML = second.body;
        document.getElementById('host')?.append(container);
        return { urls: first.remoteUrls, second };
      },
      { source: html, data: fetched, origin: EVIL_ORIGIN },
    );
    expect(result.urls.sort()).toEqual(
      ['a', 'b1', 'b2', 'not-fetched', 'c', 'd', 'e', 'f'].map((name) => `${EVIL_ORIGIN}/${name}.png`).sort(),
    );
    expect(result.second.body).not.toContain(EVIL_ORIGIN);
    expect(result.second.missingRemoteCount).toBe(2);
    expect(await page.locator('#fetched #a').getAttribute('src')).toBe(fetched);
    expect(await page.locator('#fetched #b').getAttribute('srcset')).toBe(`${fetched} 1x, ${fetched} 2x`);
    expect(await page.locator('#fetched #c').getAttribute('style')).toContain(`url("${fetched}")`);
    expect(await page.locator('#fetched style').textContent()).toContain(`url("${fetched}")`);
    expect(await page.locator('#fetched table').getAttribute('background')).toBe(fetched);
    expect(await page.locator('#fetched #f').getAttribute('src')).toBeNull();
    await page.waitForTimeout(SETTLE_MS);
    expect(requests).toEqual([]);
    await context.close();
  });

  it('refuses a URL that swallowed markup (EFAIL) even when remote content is allowed', async () => {
    const { context, page } = await openHarness();
    const efail = HOSTILE_SAMPLES.filter((sample) => sample.name.startsWith('efail'));
    const bodies = await page.evaluate(
      ({ samples, data }) =>
        samples.map((sample) => {
          // Even with every URL it names fetched, a URL that swallowed markup is never used.
          const { remoteUrls } = window.WhereaboutsSanitizer.sanitizeMailHtml(sample.html, { allowRemote: false });
          const remoteImages = Object.fromEntries(remoteUrls.map((url) => [url, data]));
          return window.WhereaboutsSanitizer.sanitizeMailHtml(sample.html, { allowRemote: true, remoteImages }).body;
        }),
      { samples: efail, data: `data:image/png;base64,${PIXEL_BASE64}` },
    );
    for (const body of bodies) {
      expect(body).not.toContain(EVIL_ORIGIN);
      expect(body).not.toMatch(/src=|background=/);
    }
    await context.close();
  });

  it('turns an HTML part into readable plain text for the plain-text view', async () => {
    const { context, page } = await openHarness();
    const text = await page.evaluate(() =>
      window.WhereaboutsSanitizer.htmlToText(
        '<style>p{color:red}</style><h1>Title</h1><p>First<br>line two</p><script>x()</script><ul><li>one</li><li>two</li></ul>',
      ),
    );
    expect(text).toBe('Title\nFirst\nline two\none\ntwo');
    await context.close();
  });
});
