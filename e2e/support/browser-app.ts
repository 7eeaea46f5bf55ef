/**
 * Starts the BUILT browser-mode host (out/main/web/host.js, as `npm test` builds it first) in a
 * child process of its own, as a user's `npm start` would run it, and reads the address it prints.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const HOST_SCRIPT = path.join(PROJECT_ROOT, 'out', 'main', 'web', 'host.js');
/** Starting takes well under a second; this only bounds a hang. */
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BrowserApp {
  /** The address with the session token in its fragment. */
  url: string;
  token: string;
  port: number;
  /** Where the page lives without the token: http://127.0.0.1:PORT */
  origin: string;
  stop(): Promise<void>;
}

export async function startBrowserApp({
  profileDir,
  port = 0,
  env,
}: {
  profileDir: string;
  port?: number;
  /** Extra environment for the host (e.g. HOME, so an export's Downloads folder is a temporary one). */
  env?: Record<string, string>;
}): Promise<BrowserApp> {
  if (!existsSync(HOST_SCRIPT)) throw new Error(`${HOST_SCRIPT} is missing: run \`npm run build\` first.`);
  const child = spawn(
    process.execPath,
    [HOST_SCRIPT, '--profile', profileDir, '--port', String(port), '--stop-with-stdin'],
    { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const first = await new Promise<{ url: string; token: string; port: number }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`The host did not start within ${START_TIMEOUT_MS} ms. ${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve(JSON.parse(stdout.slice(0, newline)) as { url: string; token: string; port: number });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The host exited with code ${code} before it listened. ${stderr}`));
    });
  });

  return {
    ...first,
    origin: `http://127.0.0.1:${first.port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
