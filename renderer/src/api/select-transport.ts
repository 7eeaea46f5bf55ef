/**
 * Picks the transport once, at start: the preload's IPC transport in Electron, otherwise a
 * WebSocket to the loopback bridge that served this page, carrying the session key the page was
 * opened with (in the fragment, `#token=…`, which no request ever sends; or in the query).
 */
import { createClient, type MailClient, type Transport } from '../../../shared/rpc';
import { ALWAYS_CONNECTED, type ConnectionMonitor, type ConnectionStatus } from './connection';
import { reconnectingWebSocket } from './reconnecting-websocket';

export const TOKEN_PARAMETER = 'token';
export const RPC_PATH = '/rpc';

export interface ServiceConnection {
  client: MailClient;
  connection: ConnectionMonitor;
}

export function tokenFromLocation(location: Pick<Location, 'hash' | 'search'>): string | null {
  const fromFragment = new URLSearchParams(location.hash.replace(/^#/, '')).get(TOKEN_PARAMETER);
  const token = fromFragment ?? new URLSearchParams(location.search).get(TOKEN_PARAMETER);
  return token !== null && token.length > 0 ? token : null;
}

export function rpcUrl(location: Pick<Location, 'protocol' | 'host'>, token: string): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${RPC_PATH}?${TOKEN_PARAMETER}=${encodeURIComponent(token)}`;
}

const NO_TOKEN: ConnectionMonitor = {
  status: (): ConnectionStatus => ({ state: 'no-token' }),
  onStatusChange: () => () => undefined,
  retryNow: () => undefined,
};

/** A transport that answers every call with CONNECTION_LOST, for a page that cannot connect. */
function disconnectedTransport(): Transport {
  const listeners = new Set<Parameters<Transport['onMessage']>[0]>();
  return {
    send(message) {
      if (message.kind !== 'call') return;
      const reply = {
        kind: 'result',
        id: message.id,
        ok: false,
        error: { code: 'CONNECTION_LOST', message: 'This page was opened without its session key.' },
      } as const;
      queueMicrotask(() => listeners.forEach((listener) => listener(reply)));
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function connectToService(environment: Window = window): ServiceConnection {
  const preloadTransport = environment.whereabouts;
  if (preloadTransport !== undefined) {
    return { client: createClient(preloadTransport), connection: ALWAYS_CONNECTED };
  }
  const token = tokenFromLocation(environment.location);
  if (token === null) return { client: createClient(disconnectedTransport()), connection: NO_TOKEN };
  const transport = reconnectingWebSocket({ url: rpcUrl(environment.location, token) });
  return { client: createClient(transport), connection: transport };
}
