/**
 * The browser-mode bridge, attacked the way a web page on this computer could: the API refuses
 * a wrong or missing token, a foreign Origin and a rebound Host name, at the WebSocket handshake
 * and (Host and Origin) for the page itself; it answers only listed methods; and it listens on
 * 127.0.0.1 alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Transport, type WireMessage } from '../shared/rpc';
import { startBrowserApp, type BrowserApp } from './support/browser-app';

let app: BrowserApp;
let profileDir: string;

beforeAll(async () => {
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-bridge-'));
  app = await startBrowserApp({ profileDir });
});

afterAll(async () => {
  await app?.stop();
  await rm(profileDir, { recursive: true, force: true });
});

interface Attempt {
  path?: string;
  host?: string | null;
  origin?: string | null;
}

/** A raw WebSocket handshake (RFC 6455 section 4.1), so every header is exactly what the test says. */
function handshake({ path: requestPath, host, origin }: Attempt): Promise<number> {
  const headers: Record<string, string> = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
  };
  if (host !== null) headers.Host = host ?? `127.0.0.1:${app.port}`;
  if (origin !== null) headers.Origin = origin ?? app.origin;
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port: app.port,
      path: requestPath ?? `/rpc?token=${app.token}`,
      headers,
      setHost: false,
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', reject);
    request.end();
  });
}

function get(requestPath: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port: app.port, path: requestPath, method, headers, setHost: !('Host' in headers) },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

async function openSocket(): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${app.port}/rpc?token=${app.token}`, { origin: app.origin });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return socket;
}

function socketTransport(socket: WebSocket): Transport {
  return {
    send: (message) => socket.send(JSON.stringify(message)),
    onMessage(listener) {
      const onData = (data: WebSocket.RawData) => listener(JSON.parse(data.toString()) as WireMessage);
      socket.on('message', onData);
      return () => socket.off('message', onData);
    },
  };
}

function nextMessage(socket: WebSocket): Promise<WireMessage> {
  return new Promise((resolve) =>
    socket.once('message', (data) => resolve(JSON.parse(data.toString()) as WireMessage)),
  );
}

describe('the WebSocket handshake', () => {
  it('is accepted with the token, our Origin and a loopback Host (so the refusals below mean something)', async () => {
    expect(await handshake({})).toBe(101);
    expect(await handshake({ host: `localhost:${app.port}`, origin: `http://localhost:${app.port}` })).toBe(101);
  });

  it('is refused with a wrong token', async () => {
    expect(await handshake({ path: `/rpc?token=${'A'.repeat(app.token.length)}` })).toBe(401);
    expect(await handshake({ path: `/rpc?token=${app.token.slice(0, -1)}` })).toBe(401);
  });

  it('is refused without a token', async () => {
    expect(await handshake({ path: '/rpc' })).toBe(401);
    expect(await handshake({ path: '/rpc?token=' })).toBe(401);
  });

  it('is refused from another Origin, or with none', async () => {
    expect(await handshake({ origin: 'http://evil.example' })).toBe(403);
    expect(await handshake({ origin: `http://127.0.0.1:${app.port + 1}` })).toBe(403);
    expect(await handshake({ origin: 'null' })).toBe(403);
    expect(await handshake({ origin: null })).toBe(403);
  });

  it('is refused when the Host is not loopback (DNS rebinding), even with the right token and Origin', async () => {
    expect(await handshake({ host: `evil.example:${app.port}` })).toBe(403);
    expect(await handshake({ host: '127.0.0.1' })).toBe(403);
    expect(await handshake({ host: null })).toBe(403);
  });
});

describe('the page', () => {
  it('is served with the CSP header and no inline script', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    // Scripts only from our own origin, never inline; inline styles are allowed for mail.
    expect(page.headers['content-security-policy']).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(page.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<div id="root">');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('is refused to a rebound Host name or another Origin', async () => {
    expect((await get('/', { Host: `evil.example:${app.port}` })).status).toBe(403);
    expect((await get('/', { Origin: 'http://evil.example' })).status).toBe(403);
  });

  it('never serves a file outside the renderer folder', async () => {
    const secret = await readFile(path.join(import.meta.dirname, '..', 'package.json'), 'utf8');
    for (const attempt of [
      '/../package.json',
      '/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/..%5c..%5cpackage.json',
      '/%00index.html',
      '/.%2e/.%2e/.%2e/etc/passwd',
    ]) {
      const response = await get(attempt);
      expect(response.status, attempt).toBe(404);
      expect(response.body).not.toContain(secret.slice(0, 40));
    }
  });

  it('only answers GET and HEAD', async () => {
    expect((await get('/', {}, 'POST')).status).toBe(405);
    expect((await get('/', {}, 'HEAD')).status).toBe(200);
  });
});

describe('the API over the bridge', () => {
  it('answers calls with the service the profile belongs to', async () => {
    const socket = await openSocket();
    const client = createClient(socketTransport(socket));
    try {
      const info = await client.api.getAppInfo();
      expect(info.shell).toBe('browser');
      expect(info.profileDir).toBe(profileDir);
      expect(await client.api.listAccounts()).toEqual([]);
    } finally {
      client.close();
      socket.close();
    }
  });

  it('refuses an unknown method with UNKNOWN_METHOD, including names from Object.prototype', async () => {
    const socket = await openSocket();
    try {
      for (const [id, method] of ['deleteEverything', '__proto__', 'constructor', 'toString'].entries()) {
        const reply = nextMessage(socket);
        socket.send(JSON.stringify({ kind: 'call', id, method, params: null }));
        expect(await reply).toMatchObject({ kind: 'result', id, ok: false, error: { code: 'UNKNOWN_METHOD' } });
      }
    } finally {
      socket.close();
    }
  });

  it('drops a connection that sends something other than a message (close code 1007)', async () => {
    const socket = await openSocket();
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send('this is not JSON');
    expect(await closed).toBe(1007);
  });
});

describe('the listening socket', () => {
  function canConnect(host: string): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host, port: app.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  it('is bound to 127.0.0.1 only', async () => {
    expect(await canConnect('127.0.0.1')).toBe(true);
    // Another loopback address and IPv6 loopback reach a socket bound to any address, but not ours.
    expect(await canConnect('127.0.0.2')).toBe(false);
    expect(await canConnect('::1')).toBe(false);
    const outward = Object.values(os.networkInterfaces())
      .flat()
      .filter((entry) => entry !== undefined && !entry.internal);
    for (const entry of outward) expect(await canConnect(entry!.address), entry!.address).toBe(false);
  });

  it('is listed by the kernel as 127.0.0.1:PORT and nothing else', async ({ skip }) => {
    if (process.platform !== 'linux')
      skip('skipped: /proc/net/tcp is Linux-only; the connection checks above still ran');
    const portHex = app.port.toString(16).toUpperCase().padStart(4, '0');
    const listening = (await readFile('/proc/net/tcp', 'utf8'))
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length > 3 && fields[3] === '0A' && fields[1].endsWith(`:${portHex}`))
      .map((fields) => fields[1]);
    // /proc/net/tcp writes IPv4 addresses in host byte order: 0100007F is 127.0.0.1.
    expect(listening).toEqual([`0100007F:${portHex}`]);
    const listeningV6 = (await readFile('/proc/net/tcp6', 'utf8').catch(() => ''))
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length > 3 && fields[3] === '0A' && fields[1].endsWith(`:${portHex}`));
    expect(listeningV6).toEqual([]);
  });
});
