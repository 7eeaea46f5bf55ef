/**
 * The batched download path against the real Dovecot: many small messages pipelined and stored in
 * batches (download-batches.ts, MessageStore.insertMessageBatch) plus a few large ones streamed.
 * Byte-exact against Dovecot's own files; a connection cut in the middle of a batch keeps every
 * message that was stored, and the next pass fetches exactly the rest.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { MailError } from '../../../shared/errors';
import { startThrottledProxy } from '../../../e2e/support/throttled-proxy';
import { startReslicingProxy } from '../../protocols/testing/reslicing-proxy';
import { openMessageStore } from '../../store/message-store';
import { BATCH_MAX_MESSAGES } from './download-batches';
import { createPop3Engine } from './pop3-engine';
import type { Pop3Options } from './pop3-options';
import {
  ACCOUNT_ID,
  allMessages,
  asRetrieved,
  openTestProfile,
  pop3Account,
  recordingContext,
  sha256,
  storedHashes,
  testMessage,
  tlsEndpoint,
} from './pop3-test-support';
import { STREAMED_MESSAGE_MIN_BYTES } from './streamed-retrieve';

const server = inject('mailServer');
const CRLF = '\r\n';
/** More than two batches of small messages. */
const SMALL_COUNT = BATCH_MAX_MESSAGES * 2 + 90;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function smallMessage(index: number): Buffer {
  return testMessage(`small ${index}`, `${`line ${index} `.repeat(12)}${CRLF}`.repeat(1 + (index % 7)));
}

/** Just above the streaming threshold: stored through the streamed path, not a batch. */
function largeMessage(index: number): Buffer {
  const line = `${String(index).repeat(76)}${CRLF}`;
  return testMessage(`large ${index}`, line.repeat(Math.ceil((STREAMED_MESSAGE_MIN_BYTES + 4096) / line.length)));
}

/** Small messages with two large ones among them (the 100th and the 252nd on the server). */
async function fillMaildrop(user: TestUser): Promise<{ smallBytes: number; total: number }> {
  const raws: Buffer[] = [];
  for (let index = 0; index < SMALL_COUNT; index += 1) {
    if (index === 99 || index === 250) raws.push(largeMessage(index));
    raws.push(smallMessage(index));
  }
  await putMessages(server, user, raws);
  const smallBytes = raws
    .filter((raw) => raw.length < STREAMED_MESSAGE_MIN_BYTES)
    .reduce((sum, raw) => sum + raw.length, 0);
  return { smallBytes, total: raws.length };
}

async function serverHashes(user: TestUser): Promise<string[]> {
  return (await readServerMessages(server, user)).map((raw) => sha256(asRetrieved(raw))).sort();
}

function inboxFileCount(directory: string): number {
  const accountDir = join(directory, 'mail', ACCOUNT_ID);
  return readdirSync(accountDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .reduce((count, entry) => count + readdirSync(join(accountDir, entry.name, 'cur')).length, 0);
}

/**
 * A POP3 account (leave a copy forever) whose maildrop holds `raws`, reached through a loopback
 * proxy that passes the server's bytes at `bytesPerSecond`; its profile and engine are cleaned up.
 */
async function behindSlowLink(raws: Buffer[], bytesPerSecond: number, pop3Options: Partial<Pop3Options> = {}) {
  const user = await createTestUser(server);
  await putMessages(server, user, raws);
  const proxy = await startThrottledProxy({ host: server.noTls.host, port: server.noTls.pop3 }, bytesPerSecond);
  cleanups.push(() => proxy.close());
  const profile = await openTestProfile('wb-pop3-slow-link-');
  cleanups.push(() => profile.remove());
  const endpoint = { host: '127.0.0.1', port: proxy.port, security: 'none', allowPlaintext: true } as const;
  const account = pop3Account(user, endpoint, { leaveOnServer: { kind: 'forever' }, pop3Options });
  const context = recordingContext(profile.store, account, user.password);
  const engine = createPop3Engine(context);
  cleanups.push(() => engine.close());
  return { user, proxy, profile, context, engine };
}

describe('POP3 batched download', () => {
  it('stores many small messages in batches and large ones streamed, byte-exact, then deletes them', async () => {
    const user = await createTestUser(server);
    const { total } = await fillMaildrop(user);
    const expected = await serverHashes(user);
    expect(expected).toHaveLength(total);
    const profile = await openTestProfile('wb-pop3-batch-');
    cleanups.push(() => profile.remove());
    const context = recordingContext(profile.store, pop3Account(user, tlsEndpoint(server)), user.password);
    const engine = createPop3Engine(context);
    cleanups.push(() => engine.close());

    await engine.syncOnce();

    expect(storedHashes(profile.store).sort()).toEqual(expected);
    expect(inboxFileCount(profile.directory)).toBe(total);
    expect(engine.lastPass).toMatchObject({ downloaded: total, deletedOnServer: total });
    // Leave-a-copy off: every DELE followed the durable commit of its message; QUIT applied them.
    expect(await readServerMessages(server, user)).toEqual([]);
    expect(allMessages(profile.store).every((record) => record.residency === 'local')).toBe(true);
    // Progress: one event per stored batch (not per message), rising to the total.
    const done = context
      .eventsNamed('syncProgress')
      .filter((event) => event.phase === 'download')
      .map((event) => event.done);
    expect(done[0]).toBe(0);
    expect(done.at(-1)).toBe(total);
    expect(done).toEqual([...done].sort((left, right) => left - right));
    expect(done.length).toBeGreaterThanOrEqual(1 + 3 + 2); // start, ≥ 3 batches, 2 streamed
    expect(total).toBe(SMALL_COUNT + 2);
    expect(done.length).toBeLessThan(total / 10);
    expect(context.eventsNamed('newMail')).toEqual([expect.objectContaining({ count: total })]);
  }, 120_000);

  it('a cut in the middle of a pipelined batch keeps what was stored; the next pass fetches only the rest', async () => {
    const user = await createTestUser(server);
    const { smallBytes, total } = await fillMaildrop(user);
    const expected = await serverHashes(user);
    // Past the listings (about 30 KB for these UIDLs and sizes), in the second batch of small messages.
    const cutAfterServerBytes = 40_000 + Math.round(smallBytes * 0.6);
    const proxy = await startReslicingProxy({
      targetHost: server.noTls.host,
      targetPort: server.noTls.pop3,
      slicing: { kind: 'none' },
      cutAfterServerBytes,
    });
    cleanups.push(() => proxy.close());
    const profile = await openTestProfile('wb-pop3-batch-cut-');
    cleanups.push(() => profile.remove());
    const endpoint = { host: proxy.host, port: proxy.port, security: 'none', allowPlaintext: true } as const;
    const account = pop3Account(user, endpoint, { leaveOnServer: { kind: 'forever' } });
    const engine = createPop3Engine(recordingContext(profile.store, account, user.password));

    const error = await engine.syncOnce().then(
      () => null,
      (failure: unknown) => failure,
    );
    await engine.close();
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).code).toBe('CONNECTION_LOST');
    const storedAtCut = storedHashes(profile.store);
    for (const hash of storedAtCut) expect(expected, 'a stored message is whole').toContain(hash);
    expect(new Set(storedAtCut).size).toBe(storedAtCut.length);
    // The cut came after the first batch and before the last small message.
    expect(storedAtCut.length).toBeGreaterThan(BATCH_MAX_MESSAGES);
    expect(storedAtCut.length).toBeLessThan(SMALL_COUNT);
    expect(inboxFileCount(profile.directory), 'no file without its row').toBe(storedAtCut.length);

    // What was stored is durable: a fresh open of the profile (reconcile included) finds the same.
    profile.store.close();
    const store = await openMessageStore({ profileDir: profile.directory, host: 'pop3-test' });
    cleanups.push(() => store.close());
    expect(storedHashes(store).sort()).toEqual([...storedAtCut].sort());

    const retry = createPop3Engine(recordingContext(store, { ...account, pop3: tlsEndpoint(server) }, user.password));
    cleanups.push(() => retry.close());
    await retry.syncOnce();
    expect(retry.lastPass?.downloaded).toBe(total - storedAtCut.length);
    const stored = storedHashes(store);
    expect(new Set(stored).size, 'nothing stored twice').toBe(stored.length);
    expect(stored.sort()).toEqual(expected);
    expect(inboxFileCount(profile.directory)).toBe(total);
    expect(await serverHashes(user)).toEqual(expected);
  }, 120_000);

  it('Cancel in the middle of a large message stops its download at once; the next check downloads it whole', async () => {
    const raws = [smallMessage(1), smallMessage(2), largeMessage(3)];
    // ≈ 8 MB at 256 KB/s: half a minute to download, were it not stopped.
    const { user, proxy, profile, context, engine } = await behindSlowLink(raws, 256 * 1024);
    const expected = await serverHashes(user);
    const downloaded = () =>
      context
        .eventsNamed('syncProgress')
        .filter((event) => event.phase === 'download')
        .map((event) => event.done)
        .at(-1) ?? 0;

    const pass = engine.syncOnce();
    pass.catch(() => undefined);
    // The two small ones are stored; the large one is on its way.
    await vi.waitFor(() => expect(downloaded()).toBe(2), { timeout: 20_000, interval: 10 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const pressed = Date.now();
    expect(await engine.cancel()).toBe(true);
    await expect(pass).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - pressed, 'stopped without waiting for the rest of the message').toBeLessThan(5_000);

    expect(
      allMessages(profile.store)
        .map((record) => record.subject)
        .sort(),
    ).toEqual(['small 1', 'small 2']);
    expect(inboxFileCount(profile.directory), 'no part of the large message is kept').toBe(2);
    expect(await serverHashes(user), 'nothing left the server').toEqual(expected);

    proxy.setRate(Infinity);
    await engine.syncOnce();
    expect(engine.lastPass?.downloaded).toBe(1);
    expect(storedHashes(profile.store).sort()).toEqual(expected);
    expect(inboxFileCount(profile.directory)).toBe(3);
  }, 60_000);

  it('a large message asked for (over the size limit) stops downloading at once when the request is cancelled', async () => {
    const large = largeMessage(7);
    const { proxy, profile, engine } = await behindSlowLink([smallMessage(1), large], Infinity, { maxMessageKb: 1024 });
    await engine.syncOnce();
    const headerOnly = allMessages(profile.store).find((record) => record.subject === 'large 7');
    expect(headerOnly?.residency).toBe('server');

    // Asked for over a slow link (≈ 8 MB at 256 KB/s), then cancelled half a second later.
    proxy.setRate(256 * 1024);
    const controller = new AbortController();
    const fetching = engine.fetchBodies([headerOnly?.id ?? ''], { signal: controller.signal });
    fetching.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const pressed = Date.now();
    controller.abort(new MailError('CANCELLED', 'Stopped.'));
    await expect(fetching).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(Date.now() - pressed, 'stopped without waiting for the rest of the message').toBeLessThan(5_000);
    expect(profile.store.getMessageRecord(headerOnly?.id ?? '')?.residency).toBe('server');
    expect(inboxFileCount(profile.directory), 'no part of it is kept').toBe(1);

    proxy.setRate(Infinity);
    await engine.fetchBodies([headerOnly?.id ?? '']);
    expect(profile.store.getMessageRecord(headerOnly?.id ?? '')?.sha256).toBe(sha256(asRetrieved(large)));
  }, 60_000);
});
