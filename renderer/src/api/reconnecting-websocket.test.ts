/**
 * The browser-mode transport against scripted sockets: calls made while connecting wait for the
 * connection, calls cut off by a drop fail at once with CONNECTION_LOST, and it keeps retrying
 * with growing delays until the service is back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WireMessage } from '../../../shared/rpc';
import type { ConnectionStatus } from './connection';
import { MAX_RETRY_DELAY_MS, reconnectingWebSocket, retryDelayMs, type SocketLike } from './reconnecting-websocket';

class ScriptedSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: Event) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessage: ((event: MessageEvent) => void) | null = null;
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.({} as Event);
  }
  drop() {
    this.readyState = 3;
    this.onerror?.({} as Event);
    this.onclose?.({} as CloseEvent);
  }
  receive(message: WireMessage) {
    this.onmessage?.({ data: JSON.stringify(message) } as MessageEvent);
  }
}

let sockets: ScriptedSocket[];
const setup = () => {
  const transport = reconnectingWebSocket({
    url: 'ws://127.0.0.1:1/rpc?token=t',
    createSocket: () => {
      const socket = new ScriptedSocket();
      sockets.push(socket);
      return socket;
    },
  });
  const received: WireMessage[] = [];
  const statuses: ConnectionStatus['state'][] = [];
  transport.onMessage((message) => received.push(message));
  transport.onStatusChange((status) => statuses.push(status.state));
  return { transport, received, statuses };
};
const call = (id: number): WireMessage => ({ kind: 'call', id, method: 'listAccounts', params: null });

beforeEach(() => {
  sockets = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the reconnecting WebSocket transport', () => {
  it('holds calls made while connecting and sends them once open', async () => {
    const { transport, statuses } = setup();
    transport.send(call(1));
    expect(sockets[0].sent).toEqual([]);
    sockets[0].open();
    expect(sockets[0].sent.map((text) => JSON.parse(text))).toEqual([call(1)]);
    expect(statuses).toEqual(['connected']);
  });

  it('fails calls in flight with CONNECTION_LOST when the connection drops, and says the service is unreachable', async () => {
    const { transport, received } = setup();
    sockets[0].open();
    transport.send(call(1));
    transport.send(call(2));
    sockets[0].receive({ kind: 'result', id: 1, ok: true, value: [] });
    sockets[0].drop();
    expect(received).toEqual([
      { kind: 'result', id: 1, ok: true, value: [] },
      { kind: 'result', id: 2, ok: false, error: expect.objectContaining({ code: 'CONNECTION_LOST' }) },
    ]);
    expect(transport.status().state).toBe('unreachable');
  });

  it('answers a call made while unreachable at once instead of leaving it hanging', async () => {
    const { transport, received } = setup();
    sockets[0].drop();
    transport.send(call(7));
    await vi.advanceTimersByTimeAsync(0);
    expect(received).toEqual([
      { kind: 'result', id: 7, ok: false, error: expect.objectContaining({ code: 'CONNECTION_LOST' }) },
    ]);
  });

  it('retries with growing delays, and reconnects when the service is back', async () => {
    const { transport, statuses } = setup();
    sockets[0].drop();
    await vi.advanceTimersByTimeAsync(retryDelayMs(1));
    expect(sockets).toHaveLength(2);
    sockets[1].drop();
    await vi.advanceTimersByTimeAsync(retryDelayMs(2) - 1);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(3);
    sockets[2].open();
    expect(transport.status().state).toBe('connected');
    expect(statuses).toEqual(['unreachable', 'connecting', 'unreachable', 'connecting', 'connected']);
  });

  it('caps the delay, and "Try now" skips the wait', async () => {
    expect(retryDelayMs(1)).toBeLessThan(retryDelayMs(2));
    expect(retryDelayMs(50)).toBe(MAX_RETRY_DELAY_MS);
    const { transport } = setup();
    sockets[0].drop();
    transport.retryNow();
    expect(sockets).toHaveLength(2);
  });

  it('stops retrying once closed', async () => {
    const { transport } = setup();
    sockets[0].open();
    transport.close();
    await vi.advanceTimersByTimeAsync(MAX_RETRY_DELAY_MS * 2);
    expect(sockets).toHaveLength(1);
  });
});
