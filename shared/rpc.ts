/**
 * One message protocol for the contract in api.ts, carried by any transport that can send and
 * receive JSON-able messages: Electron IPC through the preload, or a loopback WebSocket.
 */
import { MAIL_EVENTS, MAIL_METHODS, type MailApi, type MailEvent, type MailEvents, type MailMethod } from './api';
import { toErrorPayload, MailError, type ErrorPayload } from './errors';

export type WireMessage =
  | { kind: 'call'; id: number; method: string; params: unknown }
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: ErrorPayload }
  | { kind: 'event'; name: string; payload: unknown };

export interface Transport {
  send(message: WireMessage): void;
  /** Returns the unsubscribe function; its owner calls it. */
  onMessage(listener: (message: WireMessage) => void): () => void;
}

const METHOD_NAMES: ReadonlySet<string> = new Set(MAIL_METHODS);
const EVENT_NAMES: ReadonlySet<string> = new Set(MAIL_EVENTS);

export function isWireMessage(value: unknown): value is WireMessage {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  if (kind === 'call') {
    const { id, method } = value as { id?: unknown; method?: unknown };
    return typeof id === 'number' && typeof method === 'string';
  }
  if (kind === 'result') {
    const { id, ok } = value as { id?: unknown; ok?: unknown };
    return typeof id === 'number' && typeof ok === 'boolean';
  }
  if (kind === 'event') return typeof (value as { name?: unknown }).name === 'string';
  return false;
}

/** Something that can push events to one connected renderer. */
export interface EventSink {
  emit<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
}

/**
 * Serves `handlers` on `transport`: answers calls to listed methods, refuses everything else.
 * Returns an event sink for this connection and a function that stops serving.
 */
export function serve(transport: Transport, handlers: MailApi): EventSink & { close(): void } {
  const unsubscribe = transport.onMessage((message) => {
    if (message.kind !== 'call') return;
    void answer(message.id, message.method, message.params);
  });

  async function answer(id: number, method: string, params: unknown): Promise<void> {
    try {
      if (!METHOD_NAMES.has(method)) {
        throw new MailError('UNKNOWN_METHOD', `There is no method called "${method}".`);
      }
      const handler = handlers[method as MailMethod] as (request: unknown) => Promise<unknown>;
      const value = await handler.call(handlers, params);
      transport.send({ kind: 'result', id, ok: true, value: value ?? null });
    } catch (error) {
      transport.send({ kind: 'result', id, ok: false, error: toErrorPayload(error) });
    }
  }

  return {
    emit(name, payload) {
      transport.send({ kind: 'event', name, payload });
    },
    close: unsubscribe,
  };
}

export type EventListener<E extends MailEvent> = (payload: MailEvents[E]) => void;

export interface MailClient {
  api: MailApi;
  /** Returns the unsubscribe function. */
  on<E extends MailEvent>(name: E, listener: EventListener<E>): () => void;
  close(): void;
}

/** Builds a typed client whose every method is a call over `transport`. */
export function createClient(transport: Transport): MailClient {
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  const unsubscribe = transport.onMessage((message) => {
    if (message.kind === 'result') {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new MailError(message.error.code, message.error.message, message.error.details));
    } else if (message.kind === 'event' && EVENT_NAMES.has(message.name)) {
      for (const listener of listeners.get(message.name) ?? []) listener(message.payload);
    }
  });

  const api = new Proxy({} as MailApi, {
    get(_target, property) {
      if (typeof property !== 'string' || !METHOD_NAMES.has(property)) return undefined;
      return (params?: unknown) =>
        new Promise((resolve, reject) => {
          const id = nextId++;
          pending.set(id, { resolve, reject });
          transport.send({ kind: 'call', id, method: property, params: params ?? null });
        });
    },
  });

  return {
    api,
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      const untyped = listener as (payload: unknown) => void;
      set.add(untyped);
      return () => set.delete(untyped);
    },
    close() {
      unsubscribe();
      const error = new MailError('CONNECTION_LOST', 'The connection to the Whereabouts service was closed.');
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    },
  };
}
