/**
 * Entry point of the standalone browser-mode host (built to out/main/web/host.js): serves the
 * built renderer beside it and prints one JSON line `{"url","token","port"}` on stdout once it
 * listens, for whoever started it (the end-to-end tests, a user without a display).
 */
import path from 'node:path';
import { currentProfileEnvironment, parseLaunchOptions, UsageError } from '../profile';
import { startBrowserMode } from './browser-mode';

/** out/main/web/host.js → out/renderer */
const RENDERER_DIR = path.join(__dirname, '..', '..', 'renderer');
const STOP_WITH_STDIN_OPTION = '--stop-with-stdin';

async function main(): Promise<void> {
  const options = parseLaunchOptions(process.argv.slice(2), currentProfileEnvironment());
  const host = await startBrowserMode({
    profileDir: options.profileDir,
    rendererDir: RENDERER_DIR,
    port: options.port,
  });
  process.stdout.write(`${JSON.stringify({ url: host.url, token: host.token, port: host.port })}\n`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await host.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // For a parent that may die without signalling us (a test harness): its end of our stdin closing means stop.
  if (process.argv.includes(STOP_WITH_STDIN_OPTION)) {
    process.stdin.on('end', () => void stop());
    process.stdin.resume();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof UsageError ? error.message : String(error)}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
});
