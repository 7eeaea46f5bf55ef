/**
 * Faults during body downloads (SEMANTICS: "Nothing is lost", "Bytes are kept exactly as the
 * server sent them"): the connection cut at many byte offsets (the re-slicing proxy's cut after N
 * server bytes), and the process killed at every durable step of storing IMAP bodies, both with
 * every body in one batched FETCH and with batches small enough for one or two bodies each. After
 * each, a final sync converges: every message once, each body byte-exact, nothing truncated kept,
 * and no body that was stored before the fault downloaded again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { startReslicingProxy } from '../../protocols/testing/reslicing-proxy';
import type { MessageStore } from '../../store/message-store';
import { CRLF, imapsEndpoint, openProfile, removeDirectory, sha256, testMessage } from './engine-test-support';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const CHILD = join(import.meta.dirname, 'imap-crash-child.ts');
/** Four bodies of about 150 KB, so most cut offsets fall inside a body download. */
const LARGE_BODY_BYTES = 150 * 1024;
/** Batched FETCHes of at most this many bytes hold one large body (or one and the small one). */
const SMALL_BATCH_BYTES = 200 * 1024;

function largeMessage(subject: string): Buffer {
  const { raw } = testMessage(subject, '');
  const line = `${subject} ${'0123456789'.repeat(7)}${CRLF}`;
  return Buffer.concat([raw, Buffer.from(line.repeat(Math.ceil(LARGE_BODY_BYTES / line.length)), 'latin1')]);
}

let user: TestUser;
let serverHashes: string[];

beforeAll(async () => {
  user = await createTestUser(info);
  const messages = [largeMessage('large one'), testMessage('small one').raw, largeMessage('large two')];
  messages.push(largeMessage('large three'), largeMessage('large four'));
  await putMessages(info, user, messages);
  serverHashes = (await readServerMessages(info, user, 'INBOX')).map(sha256).sort();
});

/** What must hold after any fault: no partial file anywhere, every stored body is the server's. */
function expectNothingTruncated(store: MessageStore, directory: string): void {
  const accountDir = join(directory, 'mail', 'acct');
  for (const folder of readdirSync(accountDir)) {
    const tmp = join(accountDir, folder, 'tmp');
    if (existsSync(tmp)) expect(readdirSync(tmp), `${folder}/tmp is empty`).toEqual([]);
  }
  const inbox = store.findFolder('acct', 'server', 'INBOX');
  for (const record of inbox ? store.listFolderMessages(inbox.id) : []) {
    if (record.localPath === null) continue;
    const bytes = readFileSync(record.localPath);
    expect(serverHashes).toContain(sha256(bytes));
    expect(record.sha256).toBe(sha256(bytes));
  }
}

/** Messages of INBOX whose body is stored here. */
function storedBodies(store: MessageStore): number {
  const inbox = store.findFolder('acct', 'server', 'INBOX');
  return (inbox ? store.listFolderMessages(inbox.id) : []).filter((record) => record.localPath !== null).length;
}

/** After the final sync: every server message exactly once, whole, and no stray file. */
function expectConverged(store: MessageStore, directory: string): void {
  expectNothingTruncated(store, directory);
  const inbox = store.findFolder('acct', 'server', 'INBOX');
  const records = inbox ? store.listFolderMessages(inbox.id) : [];
  expect(records.map((record) => record.sha256).sort()).toEqual(serverHashes);
  expect(records.every((record) => record.residency === 'both')).toBe(true);
  expect(new Set(records.map((record) => record.imap?.uid)).size).toBe(serverHashes.length);
  expect(readdirSync(join(directory, 'mail', 'acct', inbox?.id ?? '', 'cur'))).toHaveLength(serverHashes.length);
}

describe('faults while downloading bodies (IMAP)', () => {
  it('the connection cut at 10 byte offsets: a final sync converges, nothing lost, duplicated or truncated', async () => {
    const total = serverHashes.length;
    expect(total).toBe(5);
    // The first offsets fall in login, folder list and headers; the rest inside body downloads.
    const offsets = [2_000, 6_000, 12_000, 40_000, 110_000, 190_000, 260_000, 350_000, 430_000, 520_000];
    let failures = 0;
    for (const offset of offsets) {
      const proxy = await startReslicingProxy({
        targetHost: info.host,
        targetPort: info.ports.imaps,
        slicing: { kind: 'random', seed: offset, maximumSize: 4096 },
        cutAfterServerBytes: offset,
      });
      const profile = await openProfile(info, user, {
        endpoint: { host: proxy.host, port: proxy.port, security: 'tls' },
        engine: { bodyBatchBytes: SMALL_BATCH_BYTES },
      });
      try {
        const outcome = await profile.engine.syncOnce().then(
          () => 'synced',
          () => 'failed',
        );
        if (outcome === 'failed') failures += 1;
        expectNothingTruncated(profile.store, profile.directory);
        const storedBeforeCut = storedBodies(profile.store);
        const downloadsBeforeCut = profile.downloads();
        profile.setEndpoint(imapsEndpoint(info));
        await profile.engine.syncOnce();
        expectConverged(profile.store, profile.directory);
        // What was committed before the cut stays; only the rest is fetched again.
        expect(profile.downloads() - downloadsBeforeCut).toBe(total - storedBeforeCut);
      } finally {
        await profile.close();
        await proxy.close();
        removeDirectory(profile.directory);
      }
    }
    // Every cut happened before the pass could finish (each connection is cut after N bytes).
    expect(failures).toBe(offsets.length);
  });

  const steps = ['after-tmp-write', 'after-fsync', 'after-rename', 'after-index-commit'] as const;
  const batchings = [
    { name: 'all bodies in one FETCH', bodyBatchBytes: undefined },
    { name: 'one or two bodies per FETCH', bodyBatchBytes: SMALL_BATCH_BYTES },
  ];
  for (const batching of batchings) {
    for (const step of steps) {
      it(`the process killed ${step} of storing bodies (${batching.name}): after a restart a sync converges`, async () => {
        const directory = mkdtempSync(join(tmpdir(), 'wb-imap-crash-'));
        cleanups.push(() => removeDirectory(directory));
        const result = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
          cwd: join(import.meta.dirname, '..', '..', '..'),
          env: {
            ...process.env,
            WB_PROFILE: directory,
            WB_CRASH_AT: step,
            WB_IMAP: JSON.stringify({
              endpoint: imapsEndpoint(info),
              username: user.username,
              password: user.password,
              email: user.email,
            }),
            ...(batching.bodyBatchBytes === undefined ? {} : { WB_BODY_BATCH_BYTES: String(batching.bodyBatchBytes) }),
          },
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(result.stderr).not.toMatch(/Error/);
        expect(result.signal, `the child should have been killed at ${step}`).toBe('SIGKILL');

        const profile = await openProfile(info, user, { directory });
        cleanups.push(() => profile.close());
        expectNothingTruncated(profile.store, directory);
        // Killed before the rename into cur/ was durable: nothing of the batch counts. After it, the
        // batch's files are whole in cur/ (reconcile indexes any the index had not committed yet).
        const storedBeforeSync = storedBodies(profile.store);
        if (step === 'after-tmp-write' || step === 'after-fsync') expect(storedBeforeSync).toBe(0);
        else expect(storedBeforeSync).toBeGreaterThanOrEqual(1);
        if (batching.bodyBatchBytes !== undefined && storedBeforeSync > 0) expect(storedBeforeSync).toBeLessThan(5);
        await profile.engine.syncOnce();
        expectConverged(profile.store, directory);
        // Bodies stored before the crash are not downloaded again.
        expect(profile.downloads()).toBe(serverHashes.length - storedBeforeSync);
      });
    }
  }
});
