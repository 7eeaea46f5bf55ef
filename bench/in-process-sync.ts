/**
 * A sync pass timed inside a service that is already running, as in the app (Electron or browser
 * mode), where the process start-up and the opening of the store are paid once, not per pass.
 * Separates the work of a no-change resync from the cost of starting the CLI.
 *
 * Bundled and run as its own process (so NODE_EXTRA_CA_CERTS trusts the test CA, as for the CLI):
 *   node in-process-sync.cjs PROFILE_DIR PASSES
 * Prints one line of JSON: { openMilliseconds, passMilliseconds: number[] }.
 */
import { createMailService } from '../main/service/create-service';

async function main(argv: readonly string[]): Promise<void> {
  const [profileDir, passesText] = argv;
  const passes = Number(passesText);
  const opening = process.hrtime.bigint();
  const service = await createMailService({ profileDir, shell: 'cli', watch: false });
  const openMilliseconds = Number(process.hrtime.bigint() - opening) / 1e6;
  const passMilliseconds: number[] = [];
  try {
    const accounts = await service.api.listAccounts();
    for (let pass = 0; pass < passes; pass += 1) {
      const started = process.hrtime.bigint();
      for (const account of accounts) await service.api.syncAccount({ accountId: account.id });
      passMilliseconds.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    await service.close();
  }
  process.stdout.write(`${JSON.stringify({ openMilliseconds, passMilliseconds })}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
