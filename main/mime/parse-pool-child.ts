/**
 * Test support for parse-pool.test.ts, run as a separate process (from the sources under tsx, or
 * bundled like the CLI): stores a few messages through insertMessageBatch, prints what it stored
 * and whether the parse worker did the parsing, closes the store and returns without
 * process.exit. The process must then end by itself: an idle parse worker must not keep it alive.
 */
import { sharedParsePool } from './parse-pool';
import { openMessageStore } from '../store/message-store';
import { buildMessage, testAccount } from '../store/test-fixtures';

async function main(): Promise<void> {
  const profileDir = process.env.WB_PROFILE;
  if (!profileDir) throw new Error('WB_PROFILE is required');
  const store = await openMessageStore({ profileDir, host: 'pool-child' });
  await store.upsertAccount(testAccount('pop', 'pop3'));
  const inbox = await store.upsertFolder({ accountId: 'pop', kind: 'server', path: 'INBOX', role: 'inbox' });
  const inputs = Array.from({ length: 20 }, (_, index) => ({
    source: buildMessage({ subject: `pooled ${index}`, body: `body of message ${index}` }),
    popUidl: `uidl-${index}`,
  }));
  const results = await store.insertMessageBatch(inbox.id, inputs);
  const subjects = results.map((result) => result.record.subject);
  const pool = sharedParsePool();
  process.stdout.write(
    `${JSON.stringify({ subjects, usesWorkers: pool.usesWorkers, runningWorkers: pool.runningWorkers })}\n`,
  );
  store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
