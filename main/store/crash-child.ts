/**
 * Test support for crash-safety.test.ts, run as a separate process: stores one message, then
 * stores a second one and kills itself with SIGKILL at the step named by WB_CRASH_AT (mbsync's
 * way of testing its Maildir code). SIGKILL cannot be caught: nothing runs after it, exactly
 * like a power cut as far as the process is concerned.
 */
import { Readable } from 'node:stream';
import { openMessageStore } from './message-store';
import { crashTestMessages, testAccount } from './test-fixtures';
import type { StoreStep } from './types';

const profileDir = process.env.WB_PROFILE;
const crashAt = process.env.WB_CRASH_AT;
if (!profileDir || !crashAt) throw new Error('WB_PROFILE and WB_CRASH_AT are required');
const profile: string = profileDir;

const DURING_WRITE_BYTES = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL was sent');
}

async function main(): Promise<void> {
  let armed = false;
  const store = await openMessageStore({
    profileDir: profile,
    host: 'crash-host',
    onStep: (step: StoreStep) => {
      if (armed && step === crashAt) die();
    },
  });
  await store.upsertAccount(testAccount('pop', 'pop3'));
  const inbox = await store.upsertFolder({ accountId: 'pop', kind: 'server', path: 'INBOX', role: 'inbox' });
  const { first, second } = crashTestMessages();
  await store.insertMessage({ folderId: inbox.id, source: first, popUidl: 'uidl-first' });

  armed = true;
  let sent = 0;
  const source = new Readable({
    read() {
      if (crashAt === 'during-write' && sent >= DURING_WRITE_BYTES) die();
      if (sent >= second.length) {
        this.push(null);
        return;
      }
      const chunk = second.subarray(sent, sent + CHUNK_BYTES);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  await store.insertMessage({ folderId: inbox.id, source, popUidl: 'uidl-second' });
  process.stdout.write('completed without crashing\n');
  store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
