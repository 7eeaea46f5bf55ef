/**
 * Browser mode: the renderer bundle and the mail API on one loopback HTTP server. The page is
 * served to anyone on this computer who names the right Host; the API (a WebSocket at /rpc)
 * only to our own origin holding the per-launch token. See request-guard.ts for why.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { serve } from '../../shared/rpc';
import type { MailService } from '../service/create-service';
import { securityHeaders } from './csp';
import { guardPageRequest, guardUpgrade, TOKEN_PARAMETER, type GuardVerdict } from './request-guard';
import { readStaticFile } from './static-files';
import { websocketTransport } from './websocket-transport';

/** Browser mode listens on IPv4 loopback only: never on a LAN interface. */
export const LOOPBACK_ADDRESS = '127.0.0.1';
/** 32 random bytes: far beyond guessing, and short enough for a URL. */
const TOKEN_BYTES = 32;
/** The largest message the renderer may send (a new account, a message to send with attachments). */
const MAX_INCOMING_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface WebHostOptions {
  service: MailService;
  /** Folder holding the built renderer (out/renderer). */
  rendererDir: string;
  /** 0 lets the OS choose a free port. */
  port?: number;
}

export interface WebHost {
  /** The address to open, with the token in the fragment (never sent to a server, never in a Referer). */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function appUrl(port: number, token: string): string {
  return `http://${LOOPBACK_ADDRESS}:${port}/#${TOKEN_PARAMETER}=${token}`;
}

function refuse(response: http.ServerResponse, verdict: Extract<GuardVerdict, { ok: false }>): void {
  response.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  response.end(`${verdict.reason}\n`);
}

function refuseUpgrade(socket: Duplex, verdict: Extract<GuardVerdict, { ok: false }>): void {
  const statusText = http.STATUS_CODES[verdict.status] ?? 'Refused';
  socket.end(
    `HTTP/1.1 ${verdict.status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(verdict.reason) + 1}\r\n\r\n${verdict.reason}\n`,
  );
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { service, rendererDir } = options;
  const token = newToken();
  let port = 0;
  const sockets = new Set<WebSocket>();

  const server = http.createServer((request, response) => {
    void handlePage(request, response);
  });

  async function handlePage(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const verdict = guardPageRequest({ host: request.headers.host, origin: request.headers.origin }, port);
    if (!verdict.ok) return refuse(response, verdict);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('Only GET and HEAD.\n');
      return;
    }
    const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const file = await readStaticFile(rendererDir, pathname);
    if (file === null) return refuse(response, { ok: false, status: 404, reason: 'Not found.' });
    response.writeHead(200, {
      ...securityHeaders('browser'),
      'Content-Type': file.contentType,
      'Content-Length': file.body.length,
      'Cache-Control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : file.body);
  }

  const websocketServer = new WebSocketServer({ noServer: true, maxPayload: MAX_INCOMING_MESSAGE_BYTES });

  server.on('upgrade', (request, socket, head) => {
    const verdict = guardUpgrade(
      { url: request.url, host: request.headers.host, origin: request.headers.origin },
      port,
      token,
    );
    if (!verdict.ok) return refuseUpgrade(socket, verdict);
    websocketServer.handleUpgrade(request, socket, head, (websocket) => connect(websocket));
  });

  function connect(websocket: WebSocket): void {
    sockets.add(websocket);
    const connection = serve(websocketTransport(websocket), service.api);
    const unsubscribe = service.onEvent((name, payload) => connection.emit(name, payload));
    websocket.on('close', () => {
      sockets.delete(websocket);
      unsubscribe();
      connection.close();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK_ADDRESS, port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: appUrl(port, token),
    token,
    port,
    async close() {
      // RFC 6455 section 7.4.1: 1001 "going away", so the renderer shows the service as stopped.
      for (const websocket of sockets) websocket.close(1001, 'Whereabouts is stopping.');
      websocketServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
