/**
 * shared/rpc.ts end to end over an in-memory transport pair that behaves like the real wires:
 * asynchronous, and JSON-only (every message is serialised and parsed, as over IPC and WebSocket).
 */
import { describe, expect, it } from 'vitest';
import { MAIL_METHODS, type AppInfo, type MailApi } from '../../shared/api';
import { MailError } from '../../shared/errors';
import { createClient, serve, type Transport, type WireMessage } from '../../shared/rpc';

interface Pair {
  server: Transport;
  client: Transport;
  /** Every message that crossed, in order, as the other side received it. */
  log: WireMessage[];
}

function transportPair(): Pair {
  const log: WireMessage[] = [];
  const listeners = {
    server: new Set<(message: WireMessage) => void>(),
    client: new Set<(message: WireMessage) => void>(),
  };
  const end = (receiver: 'server' | 'client'): Transport => ({
    send(message) {
      const text = JSON.stringify(message);
      queueMicrotask(() => {
        const received = JSON.parse(text) as WireMessage;
        log.push(received);
        for (const listener of listeners[receiver]) listener(received);
      });
    },
    onMessage(listener) {
      const own = listeners[receiver === 'server' ? 'client' : 'server'];
      own.add(listener);
      return () => own.delete(listener);
    },
  });
  // What the client end sends arrives at the server's listeners, and the reverse.
  return { client: end('server'), server: end('client'), log };
}

const APP_INFO: AppInfo = { version: '9.9.9', shell: 'browser', profileDir: '/tmp/profile' };

/** Every method refuses until a test gives it a body. */
function handlers(overrides: Partial<MailApi>): MailApi {
  const refusing = Object.fromEntries(
    MAIL_METHODS.map((method) => [
      method,
      async () => Promise.reject(new MailError('INTERNAL', `${method} is not in this test`)),
    ]),
  ) as unknown as MailApi;
  return { ...refusing, ...overrides };
}

function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

describe('rpc over a transport pair', () => {
  it('carries a call and its result, with the request as the handler saw it', async () => {
    const pair = transportPair();
    const seen: unknown[] = [];
    serve(
      pair.server,
      handlers({
        getAppInfo: async () => APP_INFO,
        listFolders: async (request) => {
          seen.push(request);
          return [];
        },
      }),
    );
    const client = createClient(pair.client);
    expect(await client.api.getAppInfo()).toEqual(APP_INFO);
    expect(await client.api.listFolders({ accountId: 'account-1' })).toEqual([]);
    expect(seen).toEqual([{ accountId: 'account-1' }]);
  });

  it('answers concurrent calls each to its own caller', async () => {
    const pair = transportPair();
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    serve(
      pair.server,
      handlers({
        getAppInfo: async () => {
          await slow;
          return APP_INFO;
        },
        listAccounts: async () => [],
      }),
    );
    const client = createClient(pair.client);
    const first = client.api.getAppInfo();
    expect(await client.api.listAccounts()).toEqual([]);
    release();
    expect(await first).toEqual(APP_INFO);
  });

  it('turns a thrown MailError into a rejected MailError with the same code, message and details', async () => {
    const pair = transportPair();
    serve(
      pair.server,
      handlers({
        syncAccount: async () => {
          throw new MailError('AUTH_FAILED', 'The server refused the password.', {
            serverText: 'NO [AUTHENTICATIONFAILED]',
          });
        },
      }),
    );
    const client = createClient(pair.client);
    const error = await client.api.syncAccount({ accountId: 'a' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailError);
    expect(error).toMatchObject({
      code: 'AUTH_FAILED',
      message: 'The server refused the password.',
      details: { serverText: 'NO [AUTHENTICATIONFAILED]' },
    });
    const wire = pair.log.find((message) => message.kind === 'result');
    expect(wire).toMatchObject({
      ok: false,
      error: { code: 'AUTH_FAILED', message: 'The server refused the password.' },
    });
  });

  it('sends any other exception as INTERNAL with its message and without its stack', async () => {
    const pair = transportPair();
    serve(
      pair.server,
      handlers({
        listAccounts: async () => {
          throw new TypeError('boom');
        },
      }),
    );
    const client = createClient(pair.client);
    const error = (await client.api.listAccounts().catch((caught: unknown) => caught)) as MailError;
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('boom');
    expect(JSON.stringify(pair.log)).not.toContain('rpc.test.ts');
  });

  it('delivers events to subscribed listeners until they unsubscribe', async () => {
    const pair = transportPair();
    const connection = serve(pair.server, handlers({}));
    const client = createClient(pair.client);
    const received: string[] = [];
    const unsubscribe = client.on('foldersChanged', (payload) => received.push(payload.accountId));
    connection.emit('foldersChanged', { accountId: 'a' });
    await flush();
    unsubscribe();
    connection.emit('foldersChanged', { accountId: 'b' });
    await flush();
    expect(received).toEqual(['a']);
  });

  it('ignores events whose name is not in the contract', async () => {
    const pair = transportPair();
    const client = createClient(pair.client);
    const received: unknown[] = [];
    client.on('foldersChanged', (payload) => received.push(payload));
    pair.server.send({ kind: 'event', name: 'somethingElse', payload: { accountId: 'x' } });
    pair.server.send({ kind: 'event', name: 'foldersChanged', payload: { accountId: 'y' } });
    await flush();
    expect(received).toEqual([{ accountId: 'y' }]);
  });

  it('refuses a method outside the contract with UNKNOWN_METHOD, also for Object.prototype names', async () => {
    const pair = transportPair();
    serve(pair.server, handlers({}));
    const replies: WireMessage[] = [];
    pair.client.onMessage((message) => replies.push(message));
    const names = ['deleteEverything', '__proto__', 'constructor', 'hasOwnProperty'];
    names.forEach((method, id) => pair.client.send({ kind: 'call', id, method, params: null }));
    await flush();
    expect(replies).toHaveLength(names.length);
    for (const reply of replies)
      expect(reply).toMatchObject({ kind: 'result', ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it('offers no method outside the contract on the client either', () => {
    const client = createClient(transportPair().client);
    expect((client.api as unknown as Record<string, unknown>).deleteEverything).toBeUndefined();
    expect(typeof client.api.getAppInfo).toBe('function');
  });

  it('rejects calls still waiting when the client closes, with CONNECTION_LOST', async () => {
    const pair = transportPair();
    serve(pair.server, handlers({ getAppInfo: () => new Promise<AppInfo>(() => undefined) }));
    const client = createClient(pair.client);
    const pending = client.api.getAppInfo().catch((caught: unknown) => caught);
    await flush();
    client.close();
    expect(await pending).toMatchObject({ code: 'CONNECTION_LOST' });
  });

  it('stops answering once the server side closes', async () => {
    const pair = transportPair();
    const connection = serve(pair.server, handlers({ listAccounts: async () => [] }));
    connection.close();
    const client = createClient(pair.client);
    const outcome = client.api.listAccounts().then(
      () => 'answered',
      (error: unknown) => (error as MailError).code,
    );
    const waited = await Promise.race([outcome, flush().then(() => 'no answer')]);
    expect(waited).toBe('no answer');
    client.close();
    expect(await outcome).toBe('CONNECTION_LOST');
  });
});
