/**
 * A sync pass timed inside a service that is already running, as in the app (Electron or browser
 * mode), where the process start-up and the opening of the store are paid once, not per pass.
 * Separates the work of a resync from the cost of starting the CLI.
 *
 * Bundled and run as its own process (so NODE_EXTRA_CA_CERTS trusts the test CA, as for the CLI):
 *   node in-process-sync.cjs PROFILE_DIR PASSES
 *     runs PASSES passes back to back and prints one line of JSON: { openMilliseconds, passMilliseconds }.
 *   node in-process-sync.cjs PROFILE_DIR --serve
 *     prints { openMilliseconds } once open, then runs one pass per line "pass" read on stdin and
 *     answers each with { passMilliseconds }; closes at "quit" or the end of stdin. The benchmark
 *     changes the mailbox between passes (figure 4).
 */
import { createInterface } from 'node:readline';
import { createMailService, type MailService } from '../main/service/create-service';

async function timedPass(service: MailService): Promise<number> {
  const started = process.hrtime.bigint();
  for (const account of await service.api.listAccounts()) await service.api.syncAccount({ accountId: account.id });
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(argv: readonly string[]): Promise<void> {
  const [profileDir, mode] = argv;
  const opening = process.hrtime.bigint();
  const service = await createMailService({ profileDir, shell: 'cli', watch: false });
  const openMilliseconds = Number(process.hrtime.bigint() - opening) / 1e6;
  try {
    if (mode === '--serve') {
      process.stdout.write(`${JSON.stringify({ openMilliseconds })}\n`);
      for await (const line of createInterface({ input: process.stdin })) {
        if (line.trim() === 'quit') break;
        if (line.trim() === 'pass')
          process.stdout.write(`${JSON.stringify({ passMilliseconds: await timedPass(service) })}\n`);
      }
      return;
    }
    const passMilliseconds: number[] = [];
    for (let pass = 0; pass < Number(mode); pass += 1) passMilliseconds.push(await timedPass(service));
    process.stdout.write(`${JSON.stringify({ openMilliseconds, passMilliseconds })}\n`);
  } finally {
    await service.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
