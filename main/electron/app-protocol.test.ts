import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../web/csp';
import { appProtocolResponse } from './app-protocol';

let base: string;
let rendererDir: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-protocol-'));
  rendererDir = path.join(base, 'renderer');
  await mkdir(rendererDir);
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>W</title>');
  await writeFile(path.join(base, 'package.json'), '{"secret":true}');
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

const get = (url: string, method = 'GET') => appProtocolResponse({ url, method }, rendererDir);

describe('app://whereabouts', () => {
  it('serves the renderer with the CSP as a header', async () => {
    const response = await get('app://whereabouts/index.html');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<!doctype html><title>W</title>');
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(contentSecurityPolicy('electron'));
  });

  it('serves nothing outside the renderer folder, nor for another host', async () => {
    expect((await get('app://whereabouts/../package.json')).status).toBe(404);
    expect((await get('app://whereabouts/%2e%2e/package.json')).status).toBe(404);
    expect((await get('app://whereabouts/..%2fpackage.json')).status).toBe(404);
    expect((await get('app://elsewhere/index.html')).status).toBe(404);
    expect((await get('app://whereabouts/index.html', 'POST')).status).toBe(405);
  });
});

describe('the content security policy', () => {
  it('allows only our own scripts, inline styles for mail, and nothing remote', () => {
    for (const shell of ['electron', 'browser'] as const) {
      const policy = contentSecurityPolicy(shell);
      expect(policy).toContain("default-src 'none'");
      expect(policy).toMatch(/(^|; )script-src 'self'(;|$)/);
      expect(policy).toContain("style-src 'self' 'unsafe-inline'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).not.toMatch(/unsafe-eval|https?:|\*/);
    }
  });

  it('lets only browser mode connect, and only to its own origin', () => {
    expect(contentSecurityPolicy('electron')).toContain("connect-src 'none'");
    expect(contentSecurityPolicy('browser')).toContain("connect-src 'self'");
  });
});
