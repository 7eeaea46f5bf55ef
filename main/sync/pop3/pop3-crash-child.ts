/**
 * Test support for pop3-crash.test.ts, run as a separate process (mbsync's way of testing its
 * Maildir code): runs one POP3 pass (or a body fetch) and kills itself with SIGKILL at the N-th
 * time it reaches the step named by WB_CRASH_AT. SIGKILL cannot be caught: nothing runs after it,
 * which is what a crash or power cut looks like to the process.
 */
import { openMessageStore, type StoreStep } from '../../store/message-store';
import { createPop3Engine, type Pop3Step } from './pop3-engine';
import type { AccountWithPop3Options } from './pop3-options';
import { recordingContext } from './pop3-test-support';

const profileDir = process.env.WB_PROFILE;
const crashAt = process.env.WB_CRASH_AT;
const crashOccurrence = Number(process.env.WB_CRASH_OCCURRENCE ?? '1');
const accountJson = process.env.WB_ACCOUNT;
const password = process.env.WB_PASSWORD;
const work = process.env.WB_WORK ?? 'sync';
if (!profileDir || !crashAt || !accountJson || password === undefined) {
  throw new Error('WB_PROFILE, WB_CRASH_AT, WB_ACCOUNT and WB_PASSWORD are required');
}

let reached = 0;
function step(name: StoreStep | Pop3Step): void {
  if (name !== crashAt) return;
  reached += 1;
  if (reached === crashOccurrence) process.kill(process.pid, 'SIGKILL');
}

async function main(profile: string, account: AccountWithPop3Options, secret: string): Promise<void> {
  const store = await openMessageStore({ profileDir: profile, host: 'crash-host', onStep: step });
  const engine = createPop3Engine(recordingContext(store, account, secret), { onStep: step });
  if (work === 'fetch-all') {
    const headerOnly = store
      .listFolderRecords(account.id)
      .flatMap((folder) => store.listFolderMessages(folder.id))
      .filter((record) => record.localPath === null);
    await engine.fetchBodies(headerOnly.map((record) => record.id));
  } else {
    await engine.syncOnce();
  }
  await engine.close();
  store.close();
  process.stdout.write('completed without crashing\n');
}

main(profileDir, JSON.parse(accountJson) as AccountWithPop3Options, password).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
