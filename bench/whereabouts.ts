/**
 * Our contender: the built command-line client, one process per run like the peers, so its wall time
 * includes start-up and its peak RSS is the process's own. It is built exactly as `npm run build:main`
 * builds out/main/cli/main.js (esbuild, one bundle, packages external), but into the benchmark's own
 * folder: other people rebuilding out/ during a half-hour run must not swap the contender midway.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';
import type { MailServerInfo, TestUser } from '../e2e/mailserver/types';
import { openMessageStore } from '../main/store/message-store';
import { runQuietly, timeProcess, type ProcessRun } from './processes';
import { PROJECT_ROOT, RESULTS_DIR } from './results-dir';

export { PROJECT_ROOT };
/** The app as the benchmark runs it: main/cli/main.js, main/web/host.js and renderer/ (see ui-figure.ts). */
export const APP_BUILD_DIR = path.join(RESULTS_DIR, 'build', 'app');
export const CLI_SCRIPT = path.join(APP_BUILD_DIR, 'main', 'cli', 'main.js');
export const HOST_SCRIPT = path.join(APP_BUILD_DIR, 'main', 'web', 'host.js');
const IN_PROCESS_SCRIPT = path.join(APP_BUILD_DIR, 'bench', 'in-process-sync.js');
/** The disk and store floors of (1) and (5) (local-floors.ts), built with the app: they run the same store code. */
export const LOCAL_FLOORS_SCRIPT = path.join(APP_BUILD_DIR, 'bench', 'local-floors.js');
const PASSWORD_VARIABLE = 'BENCH_ACCOUNT_PASSWORD';
/**
 * Accounts are added with this port (nothing listens on it), then pointed at the real one: `account
 * add` starts a sync in the background, which must not get a head start on the timed first sync.
 */
const CLOSED_PORT = 9;

export interface Readiness {
  ready: boolean;
  reason: string;
}

/**
 * Builds the CLI, the browser-mode host (with the options of `npm run build:main`), the in-process
 * sync timer and the disk and store floors, and checks that the CLI starts.
 */
export async function prepareCli(): Promise<Readiness> {
  try {
    await build({
      entryPoints: [
        path.join(PROJECT_ROOT, 'main', 'cli', 'main.ts'),
        path.join(PROJECT_ROOT, 'main', 'web', 'host.ts'),
        path.join(PROJECT_ROOT, 'bench', 'in-process-sync.ts'),
        path.join(PROJECT_ROOT, 'bench', 'local-floors.ts'),
        // The MIME parse worker, found by the bundles at main/mime/parse-worker.js (parse-pool.ts).
        path.join(PROJECT_ROOT, 'main', 'mime', 'parse-worker.ts'),
      ],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outdir: APP_BUILD_DIR,
      outbase: PROJECT_ROOT,
      packages: 'external',
      sourcemap: true,
      logLevel: 'silent',
    });
  } catch (error) {
    return { ready: false, reason: `the CLI does not build: ${firstLine(error)}` };
  }
  try {
    await runQuietly(process.execPath, [CLI_SCRIPT, '--help'], { cwd: PROJECT_ROOT });
    return { ready: true, reason: '' };
  } catch (error) {
    return { ready: false, reason: `the CLI does not start: ${firstLine(error)}` };
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split('\n')
      .find((line) => /error/i.test(line))
      ?.trim() ?? text.split('\n')[0]
  );
}

export interface WhereaboutsProfile {
  directory: string;
  user: TestUser;
  caPath: string;
}

function environment(profile: WhereaboutsProfile): NodeJS.ProcessEnv {
  // The test CA is trusted like a system CA: the app has no test-only trust switch.
  return { ...process.env, NODE_EXTRA_CA_CERTS: profile.caPath, [PASSWORD_VARIABLE]: profile.user.password };
}

function cli(profile: WhereaboutsProfile, args: readonly string[]): Promise<string> {
  return runQuietly(process.execPath, [CLI_SCRIPT, '--profile', profile.directory, ...args], {
    cwd: PROJECT_ROOT,
    env: environment(profile),
  });
}

interface AccountsFile {
  version: number;
  accounts: Array<Record<string, unknown> & { imap: { port: number } | null; pop3: { port: number } | null }>;
}

/**
 * A fresh profile with one account for `user` over implicit TLS, not yet synced. `headersOnly`
 * unticks "keep for offline" on INBOX before the first sync, as a user would in its settings.
 */
export async function createProfile(
  directory: string,
  info: MailServerInfo,
  user: TestUser,
  options: { mode: 'imap' | 'pop3'; headersOnly?: boolean },
): Promise<WhereaboutsProfile> {
  await mkdir(directory, { recursive: true });
  const profile: WhereaboutsProfile = { directory, user, caPath: info.caPath };
  await cli(profile, [
    '--json',
    'account',
    'add',
    '--name',
    'bench',
    '--email',
    user.email,
    '--user',
    user.username,
    '--mode',
    options.mode,
    '--host',
    info.host,
    '--port',
    String(CLOSED_PORT),
    '--security',
    'tls',
    '--password-env',
    PASSWORD_VARIABLE,
    ...(options.mode === 'pop3' ? ['--leave-on-server', 'forever'] : []),
  ]);
  // accounts.json is meant to be editable by hand (account-store.ts validates it when read).
  const accountsFile = path.join(directory, 'accounts.json');
  const accounts = JSON.parse(await readFile(accountsFile, 'utf8')) as AccountsFile;
  for (const account of accounts.accounts) {
    if (account.imap) account.imap.port = info.ports.imaps;
    if (account.pop3) account.pop3.port = info.ports.pop3s;
    if (options.headersOnly) account.offlineFolders = [];
  }
  await writeFile(accountsFile, `${JSON.stringify(accounts, null, 2)}\n`, { mode: 0o600 });
  if (options.headersOnly) {
    // INBOX is kept for offline by default (its role); a folder the store already knows keeps its setting.
    const store = await openMessageStore({ profileDir: directory });
    try {
      for (const account of store.listAccounts()) {
        await store.upsertFolder({
          accountId: account.id,
          kind: 'server',
          path: 'INBOX',
          name: 'INBOX',
          delimiter: '/',
          role: 'inbox',
          subscribed: true,
          keepOffline: false,
        });
      }
    } finally {
      store.close();
    }
  }
  return profile;
}

/** One timed `sync` pass; with `cpuProfileDir`, under `node --cpu-prof` (not for timing). */
export function timeSync(profile: WhereaboutsProfile, cpuProfileDir?: string): Promise<ProcessRun> {
  const nodeOptions = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  return timeProcess(process.execPath, [...nodeOptions, CLI_SCRIPT, '--profile', profile.directory, 'sync'], {
    cwd: PROJECT_ROOT,
    env: environment(profile),
  });
}

/** Time to start the CLI and print its usage: the fixed cost in every figure measured by process. */
export function timeStartup(): Promise<ProcessRun> {
  return timeProcess(process.execPath, [CLI_SCRIPT, '--help'], { cwd: PROJECT_ROOT });
}

/** Node itself starting and exiting (`node -e 0`): the floor under any figure timed as a Node process. */
export function timeNodeStartup(): Promise<ProcessRun> {
  return timeProcess(process.execPath, ['-e', '0'], { cwd: PROJECT_ROOT });
}

export interface ResidencyCounts {
  serverOnly: number;
  localOnly: number;
  both: number;
}

/** What the profile holds after a sync (through the CLI, as a user would check). */
export async function residency(profile: WhereaboutsProfile): Promise<ResidencyCounts> {
  const report = JSON.parse(await cli(profile, ['--json', 'residency'])) as {
    totals: Record<'server' | 'local' | 'both', { count: number }>;
  };
  return {
    serverOnly: report.totals.server.count,
    localOnly: report.totals.local.count,
    both: report.totals.both.count,
  };
}

export interface InProcessPasses {
  openMilliseconds: number;
  passMilliseconds: number[];
}

/** `passes` sync passes in one running service (see in-process-sync.ts). */
export async function timeInProcessPasses(profile: WhereaboutsProfile, passes: number): Promise<InProcessPasses> {
  const output = await runQuietly(process.execPath, [IN_PROCESS_SCRIPT, profile.directory, String(passes)], {
    cwd: PROJECT_ROOT,
    env: environment(profile),
  });
  return JSON.parse(output.trim().split('\n').pop() ?? '{}') as InProcessPasses;
}

/** A running service (in-process-sync.ts --serve) that syncs once per `pass()`, as the app would. */
export interface RunningService {
  openMilliseconds: number;
  /** One sync pass of every account; its wall time inside the service. */
  pass(): Promise<number>;
  stop(): Promise<void>;
}

export async function startRunningService(profile: WhereaboutsProfile): Promise<RunningService> {
  const child = spawn(process.execPath, [IN_PROCESS_SCRIPT, profile.directory, '--serve'], {
    cwd: PROJECT_ROOT,
    env: environment(profile),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<Record<string, number>> => {
    const next = await lines.next();
    if (next.done) throw new Error(`the running service exited: ${stderr.trim()}`);
    return JSON.parse(next.value) as Record<string, number>;
  };
  const { openMilliseconds } = await nextLine();
  return {
    openMilliseconds,
    async pass() {
      child.stdin.write('pass\n');
      return (await nextLine()).passMilliseconds;
    },
    async stop() {
      child.stdin.end('quit\n');
      await exited;
    },
  };
}
