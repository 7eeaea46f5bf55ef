/**
 * Crash safety of the POP3 engine, mbsync-style: a child process runs a pass against the real
 * Dovecot and SIGKILLs itself at one durability step (after the tmp/ write, after fsync, after
 * the rename into cur/, after the index commit, after a DELE sent before QUIT, after QUIT). After
 * every crash: nothing is lost (each message is still on the server or durably here), nothing is
 * here twice, and a final pass converges.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { openMessageStore, type MessageStore } from '../../store/message-store';
import { createPop3Engine } from './pop3-engine';
import type { AccountWithPop3Options } from './pop3-options';
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

const server = inject('mailServer');
const CHILD = join(import.meta.dirname, 'pop3-crash-child.ts');
const PROJECT_ROOT = join(import.meta.dirname, '..', '..', '..');
const CHILD_TIMEOUT_MS = 30_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface ChildRun {
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function runChild(
  profileDir: string,
  account: AccountWithPop3Options,
  user: TestUser,
  crash: { at: string; occurrence: number; work?: 'sync' | 'fetch-all' },
): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      WB_PROFILE: profileDir,
      WB_CRASH_AT: crash.at,
      WB_CRASH_OCCURRENCE: String(crash.occurrence),
      WB_ACCOUNT: JSON.stringify(account),
      WB_PASSWORD: user.password,
      WB_WORK: crash.work ?? 'sync',
    },
    timeout: CHILD_TIMEOUT_MS,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (bytes: Buffer) => (stdout += bytes.toString()));
  child.stderr.on('data', (bytes: Buffer) => (stderr += bytes.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_code, killed) => resolve(killed)),
  );
  return { signal, stdout, stderr };
}

/** Files in cur/ of every folder of the account. */
function storedFileCount(profileDir: string): number {
  const accountDir = join(profileDir, 'mail', ACCOUNT_ID);
  return readdirSync(accountDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .reduce((count, entry) => count + readdirSync(join(accountDir, entry.name, 'cur')).length, 0);
}

/** What must hold after any crash, once the store has been opened again. */
async function expectNothingLostNothingTwice(
  store: MessageStore,
  profileDir: string,
  user: TestUser,
  everything: ReadonlySet<string>,
): Promise<void> {
  const here = storedHashes(store);
  expect(new Set(here).size, 'no message is stored twice').toBe(here.length);
  expect(storedFileCount(profileDir), 'every file has its row').toBe(here.length);
  const onServer = (await readServerMessages(server, user)).map((raw) => sha256(asRetrieved(raw)));
  for (const hash of everything) {
    expect(onServer.includes(hash) || here.includes(hash), `message ${hash.slice(0, 12)} is somewhere`).toBe(true);
  }
  for (const hash of here) expect(everything.has(hash), 'every stored file is a whole message').toBe(true);
}

describe('POP3 engine: a process killed at each durable step', () => {
  it('loses nothing, downloads nothing twice, and converges (policy off)', async () => {
    const user = await createTestUser(server);
    const profile = await openTestProfile('wb-pop3-crash-');
    profile.store.close();
    cleanups.push(() => profile.remove());
    const account = pop3Account(user, tlsEndpoint(server));
    const everything = new Set<string>();
    // The second time a step is reached, so a first message has gone through completely; QUIT comes once.
    const steps = [
      { step: 'after-tmp-write', occurrence: 2 },
      { step: 'after-fsync', occurrence: 2 },
      { step: 'after-rename', occurrence: 2 },
      { step: 'after-index-commit', occurrence: 2 },
      { step: 'after-dele', occurrence: 2 },
      { step: 'after-quit', occurrence: 1 },
    ];
    for (const [round, { step, occurrence }] of steps.entries()) {
      // Two new messages per round, so each crash interrupts fresh work as well as leftovers.
      await putMessages(server, user, [
        testMessage(`round ${round} a`),
        testMessage(`round ${round} b`, 'x'.repeat(200_000)),
      ]);
      for (const raw of await readServerMessages(server, user)) everything.add(sha256(asRetrieved(raw)));
      const run = await runChild(profile.directory, account, user, { at: step, occurrence });
      expect(run.stderr).toBe('');
      expect(run.signal, `the child should have been killed ${step}`).toBe('SIGKILL');

      const store = await openMessageStore({ profileDir: profile.directory, host: 'crash-host' });
      try {
        await expectNothingLostNothingTwice(store, profile.directory, user, everything);
      } finally {
        store.close();
      }
    }

    const store = await openMessageStore({ profileDir: profile.directory, host: 'crash-host' });
    cleanups.push(() => store.close());
    const engine = createPop3Engine(recordingContext(store, account, user.password));
    await engine.syncOnce();
    await engine.close();
    expect(storedHashes(store).sort()).toEqual([...everything].sort());
    expect(await readServerMessages(server, user)).toEqual([]);
    expect(allMessages(store).every((record) => record.residency === 'local')).toBe(true);
  });

  it('a crash while a header-only message gets its body: the store reopens, the body is kept once', async () => {
    const user = await createTestUser(server);
    const profile = await openTestProfile('wb-pop3-crash-');
    cleanups.push(() => profile.remove());
    const account = pop3Account(user, tlsEndpoint(server), {
      leaveOnServer: { kind: 'forever' },
      pop3Options: { headersOnly: true },
    });
    const raws = [testMessage('opened during the crash'), testMessage('opened too')];
    await putMessages(server, user, raws);
    const everything = new Set((await readServerMessages(server, user)).map((raw) => sha256(asRetrieved(raw))));
    const headersEngine = createPop3Engine(recordingContext(profile.store, account, user.password));
    await headersEngine.syncOnce();
    await headersEngine.close();
    profile.store.close();

    for (const step of ['after-rename', 'after-index-commit']) {
      const run = await runChild(profile.directory, account, user, { at: step, occurrence: 1, work: 'fetch-all' });
      expect(run.stderr).toBe('');
      expect(run.signal).toBe('SIGKILL');
      const store = await openMessageStore({ profileDir: profile.directory, host: 'crash-host' });
      try {
        await expectNothingLostNothingTwice(store, profile.directory, user, everything);
        expect(allMessages(store)).toHaveLength(2);
      } finally {
        store.close();
      }
    }
    const store = await openMessageStore({ profileDir: profile.directory, host: 'crash-host' });
    cleanups.push(() => store.close());
    const engine = createPop3Engine(recordingContext(store, account, user.password));
    await engine.fetchBodies(allMessages(store).map((record) => record.id));
    await engine.syncOnce();
    await engine.close();
    expect(storedHashes(store).sort()).toEqual([...everything].sort());
    expect(allMessages(store).map((record) => record.residency)).toEqual(['both', 'both']);
  });
});
