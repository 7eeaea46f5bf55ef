/**
 * The browser-mode transport: a WebSocket to the loopback bridge that reconnects with backoff
 * when the service goes away, and never leaves a call hanging. A call sent while disconnected,
 * or in flight when the connection drops, is answered at once with CONNECTION_LOST, so the UI
 * can say so instead of waiting forever.
 */
import type { ErrorPayload } from '../../../shared/errors';
import { isWireMessage, type Transport, type WireMessage } from '../../../shared/rpc';
import type { ConnectionMonitor, ConnectionStatus } from './connection';

export const FIRST_RETRY_DELAY_MS = 500;
export const MAX_RETRY_DELAY_MS = 10_000;

const CONNECTION_LOST: ErrorPayload = {
  code: 'CONNECTION_LOST',
  message: 'Whereabouts cannot reach its service right now. It will try again shortly.',
};

/** The subset of the DOM WebSocket this transport uses, so tests can supply their own. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
}

export interface ReconnectingOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  now?: () => number;
}

export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_DELAY_MS);
}

const OPEN = 1;

export function reconnectingWebSocket(options: ReconnectingOptions): Transport & ConnectionMonitor & { close(): void } {
  const createSocket = options.createSocket ?? ((url: string) => new WebSocket(url));
  const now = options.now ?? Date.now;
  const listeners = new Set<(message: WireMessage) => void>();
  const statusListeners = new Set<(status: ConnectionStatus) => void>();
  /** Calls written to a socket that has not answered them yet. */
  const inFlight = new Set<number>();
  /** Calls made while the socket is still opening. */
  const queued: WireMessage[] = [];
  let socket: SocketLike | null = null;
  let status: ConnectionStatus = { state: 'connecting' };
  let failures = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  function setStatus(next: ConnectionStatus): void {
    status = next;
    for (const listener of statusListeners) listener(next);
  }

  function deliver(message: WireMessage): void {
    for (const listener of listeners) listener(message);
  }

  function failCall(id: number): void {
    deliver({ kind: 'result', id, ok: false, error: CONNECTION_LOST });
  }

  function connect(): void {
    retryTimer = null;
    if (closed) return;
    if (failures > 0) setStatus({ state: 'connecting' });
    const current = createSocket(options.url);
    socket = current;
    current.onopen = () => {
      failures = 0;
      setStatus({ state: 'connected' });
      for (const message of queued.splice(0)) write(message);
    };
    current.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let message: unknown;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!isWireMessage(message)) return;
      if (message.kind === 'result') inFlight.delete(message.id);
      deliver(message);
    };
    // A failed handshake fires error and then close; all the work is done once, on close.
    current.onerror = () => undefined;
    current.onclose = () => {
      if (socket !== current) return;
      socket = null;
      for (const id of [...inFlight]) failCall(id);
      inFlight.clear();
      for (const message of queued.splice(0)) if (message.kind === 'call') failCall(message.id);
      if (closed) return;
      failures += 1;
      const delay = retryDelayMs(failures);
      setStatus({ state: 'unreachable', retryAt: now() + delay, attempts: failures });
      retryTimer = setTimeout(connect, delay);
    };
  }

  function write(message: WireMessage): void {
    if (socket === null || socket.readyState !== OPEN) {
      if (message.kind === 'call') failCall(message.id);
      return;
    }
    if (message.kind === 'call') inFlight.add(message.id);
    socket.send(JSON.stringify(message));
  }

  connect();

  return {
    send(message) {
      if (socket !== null && socket.readyState !== OPEN && status.state === 'connecting') {
        queued.push(message);
        return;
      }
      // Answered on a later turn, like a real reply, so the caller's promise is set up first.
      if (socket === null || socket.readyState !== OPEN) queueMicrotask(() => write(message));
      else write(message);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status: () => status,
    onStatusChange(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    retryNow() {
      if (retryTimer === null) return;
      clearTimeout(retryTimer);
      connect();
    },
    close() {
      closed = true;
      if (retryTimer !== null) clearTimeout(retryTimer);
      socket?.close(1000);
    },
  };
}
