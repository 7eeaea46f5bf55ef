/**
 * Running a contender as a process of its own: wall time from spawn to exit (process.hrtime), and its
 * peak resident set size as the kernel counts it (ru_maxrss, read by GNU time's %M), so every
 * contender — ours, mbsync, fetchmail, the floor — is measured the same way from the outside.
 */
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const TIME_PROGRAM = '/usr/bin/time';
/** Output kept of a process, for error messages; enough for a stack trace. */
const OUTPUT_LIMIT_CHARACTERS = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

export interface ProcessRun {
  seconds: number;
  /** Peak resident set size in bytes (GNU time reports KiB). */
  maxRssBytes: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes that count as success; default [0]. */
  okExitCodes?: readonly number[];
  timeoutMs?: number;
  /** Bytes written to the child's stdin, then closed. */
  input?: string;
}

function keepTail(text: string, chunk: string): string {
  const joined = text + chunk;
  return joined.length > OUTPUT_LIMIT_CHARACTERS ? joined.slice(-OUTPUT_LIMIT_CHARACTERS) : joined;
}

/** Runs `command` under GNU time and returns how long it took and how much memory it held at most. */
export async function timeProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ProcessRun> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'wb-bench-time-'));
  const rssFile = path.join(scratch, 'rss');
  try {
    const child = spawn(TIME_PROGRAM, ['-f', '%M', '-o', rssFile, command, ...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const started = process.hrtime.bigint();
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout = keepTail(stdout, chunk)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = keepTail(stderr, chunk)));
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearTimeout(timer);
    const okExitCodes = options.okExitCodes ?? [0];
    if (!okExitCodes.includes(exitCode)) {
      throw new Error(
        `${command} ${args.join(' ')} exited with ${exitCode} after ${seconds.toFixed(2)} s:\n${stderr.slice(-4000)}${stdout.slice(-2000)}`,
      );
    }
    // GNU time writes "Command exited with non-zero status N" before the figure when the command failed.
    const rssLines = (await readFile(rssFile, 'utf8')).trim().split('\n');
    const maxRssBytes = Number(rssLines[rssLines.length - 1]) * 1024;
    return { seconds, maxRssBytes, exitCode, stdout, stderr };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Runs a helper command (set-up, versions) and returns its stdout; throws with its output on failure. */
export async function runQuietly(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(command, [...args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    return `${stdout}${stderr}`;
  } catch (error) {
    const details = error as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof details.code === 'number' && (options.okExitCodes ?? []).includes(details.code)) {
      return `${details.stdout ?? ''}${details.stderr ?? ''}`;
    }
    throw new Error(
      `${command} ${args.join(' ')} failed (${String(details.code)}): ${details.stderr ?? ''}${details.stdout ?? ''}`,
      {
        cause: error,
      },
    );
  }
}

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs the Debian packages that provide missing programs (as root only; the peers are public
 * Debian packages). Returns the programs still missing afterwards.
 */
export async function ensurePrograms(
  wanted: ReadonlyArray<{ program: string; debianPackage: string }>,
): Promise<string[]> {
  const missing: Array<{ program: string; debianPackage: string }> = [];
  for (const entry of wanted) if (!(await isExecutable(entry.program))) missing.push(entry);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) return missing.map((entry) => entry.program);
  const packages = [...new Set(missing.map((entry) => entry.debianPackage))];
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  process.stderr.write(`installing ${packages.join(', ')} …\n`);
  const install = async (): Promise<void> => {
    await runQuietly('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env: environment });
  };
  try {
    await install();
  } catch {
    await runQuietly('apt-get', ['update'], { env: environment });
    await install().catch(() => undefined);
  }
  const stillMissing: string[] = [];
  for (const entry of missing) if (!(await isExecutable(entry.program))) stillMissing.push(entry.program);
  return stillMissing;
}
