/**
 * Test support for imap-faults.test.ts, run as a separate process: syncs an IMAP account whose
 * INBOX is kept for offline reading and kills itself with SIGKILL at the durability step named by
 * WB_CRASH_AT during the first body download (nothing runs after SIGKILL: like a power cut as far
 * as the process is concerned). The parent then opens the profile again and checks that a sync
 * converges. WB_BODY_BATCH_BYTES, when set, is the engine's bodyBatchBytes (bodies per FETCH).
 */
import { openMessageStore, type StoreStep } from '../../store/message-store';
import type { ServerEndpoint } from '../../../shared/model';
import { ImapAccountEngine } from './imap-engine';
import { imapAccount } from './engine-test-support';

interface ChildServer {
  endpoint: ServerEndpoint;
  username: string;
  password: string;
  email: string;
}

const profileDir = process.env.WB_PROFILE;
const crashAt = process.env.WB_CRASH_AT;
const serverJson = process.env.WB_IMAP;
const bodyBatchBytes = process.env.WB_BODY_BATCH_BYTES ? Number(process.env.WB_BODY_BATCH_BYTES) : undefined;
if (!profileDir || !crashAt || !serverJson) throw new Error('WB_PROFILE, WB_CRASH_AT and WB_IMAP are required');
const server = JSON.parse(serverJson) as ChildServer;

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL was sent');
}

async function main(): Promise<void> {
  let armed = false;
  const store = await openMessageStore({
    profileDir: profileDir as string,
    host: 'crash-host',
    onStep: (step: StoreStep) => {
      if (armed && step === crashAt) die();
    },
  });
  const account = imapAccount(
    'acct',
    { username: server.username, password: server.password, email: server.email, maildir: '' },
    server.endpoint,
  );
  await store.upsertAccount(account);
  const engine = new ImapAccountEngine(
    {
      account: () => account,
      password: async () => server.password,
      store,
      emit: () => undefined,
      reportConnectivity: () => undefined,
    },
    bodyBatchBytes === undefined ? {} : { bodyBatchBytes },
  );
  armed = true;
  await engine.syncOnce();
  process.stdout.write('completed without crashing\n');
  await engine.close();
  store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
