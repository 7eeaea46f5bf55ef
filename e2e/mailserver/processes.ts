/**
 * Small process and socket helpers for the test mail servers: free ports, waiting for listeners, and
 * stopping exactly the daemons we started (by PID and their descendants, never by name).
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open, readdir, readFile, readlink } from 'node:fs/promises';
import net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PORT_POLL_INTERVAL_MS = 20;
const EXIT_POLL_INTERVAL_MS = 25;
/** How long daemons get to exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5_000;
const FREE_PORT_ATTEMPTS = 50;

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a command and turns a failure into an error that carries its output. */
export async function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' });
    return { stdout, stderr };
  } catch (error) {
    const details = error as { stdout?: string; stderr?: string; code?: number | string };
    const output = `${details.stderr ?? ''}${details.stdout ?? ''}`.trim();
    throw new Error(`${command} ${args.join(' ')} failed (${String(details.code)}): ${output}`, { cause: error });
  }
}

export interface Daemon {
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has ended and been reaped. */
  exited: Promise<number | string>;
  hasExited(): boolean;
}

/**
 * Runs the daemon under a small shell that stops it when this process dies without stopping it (a
 * killed test run), so no test server outlives its run. The kernel sends the shell SIGTERM when we die
 * (PR_SET_PDEATHSIG via setpriv(1)); the shell passes it on. The daemon cannot hold that setting
 * itself: Postfix's master changes its effective user now and then, which clears it.
 */
function watchedCommand(command: string, args: string[]): [string, string[]] {
  const watchdog = [
    '"$@" &',
    'daemon=$!',
    `trap 'kill -TERM "$daemon" 2>/dev/null; wait "$daemon"; exit' TERM INT HUP`,
    'wait "$daemon"',
  ].join('\n');
  return ['setpriv', ['--pdeathsig', 'SIGTERM', '--', '/bin/sh', '-c', watchdog, 'watchdog', command, ...args]];
}

/**
 * Starts a daemon in the foreground as our child, its output appended to a file (a pipe would keep
 * the parent waiting). Being its parent we reap it at once when it stops; a daemon that forked into
 * the background would be left to init, which on some machines leaves zombies about for long.
 * `detached` puts it in its own process group, to outlive this process (the command-line `start`);
 * otherwise it runs under watchedCommand and `pid` is that of the watching shell.
 */
export async function startDaemon(
  command: string,
  args: string[],
  outputFile: string,
  options: { detached: boolean },
): Promise<Daemon> {
  const output = await open(outputFile, 'a');
  try {
    const [file, fileArgs] = options.detached ? [command, args] : watchedCommand(command, args);
    const child = spawn(file, fileArgs, { stdio: ['ignore', output.fd, output.fd], detached: options.detached });
    let ended = false;
    const exited = new Promise<number | string>((resolve) => {
      child.once('exit', (code, signalName) => {
        ended = true;
        resolve(code ?? signalName ?? 'unknown');
      });
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? 0));
      child.once('error', reject);
    });
    if (options.detached) child.unref();
    return { pid, exited, hasExited: () => ended };
  } finally {
    await output.close();
  }
}

function listenOnce(host: string, port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A port the kernel reports free on every given address at once (the servers listen on the same port
 * on several loopback addresses). Another process may still take it before the daemon binds; the
 * random ephemeral choice makes that unlikely, and start fails loudly if it happens.
 */
export async function findFreePort(hosts: readonly string[], avoid: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt += 1) {
    const first = await listenOnce(hosts[0], 0);
    if (first === null) continue;
    const address = first.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const held = [first];
    let free = port !== 0 && !avoid.has(port);
    for (const host of hosts.slice(1)) {
      if (!free) break;
      const server = await listenOnce(host, port);
      if (server === null) free = false;
      else held.push(server);
    }
    await Promise.all(held.map(closeServer));
    if (free) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForPorts(
  endpoints: ReadonlyArray<{ host: string; port: number }>,
  timeoutMs: number,
  describeFailure: () => Promise<string>,
  hasFailed: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(endpoints.map(({ host, port }) => `${host}:${port}`));
  while (pending.size > 0) {
    for (const endpoint of [...pending]) {
      const separator = endpoint.lastIndexOf(':');
      if (await canConnect(endpoint.slice(0, separator), Number(endpoint.slice(separator + 1)))) {
        pending.delete(endpoint);
      }
    }
    if (pending.size === 0) return;
    if (hasFailed() || Date.now() > deadline) {
      throw new Error(`not listening after ${timeoutMs} ms: ${[...pending].join(', ')}\n${await describeFailure()}`);
    }
    await delay(PORT_POLL_INTERVAL_MS);
  }
}

export function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Alive and not a zombie (an init that does not reap would otherwise keep a stopped daemon "alive"). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The executable of a running process, to be sure a PID file still names the daemon we started. */
export async function executableOf(pid: number): Promise<string | null> {
  try {
    return await readlink(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/** Every live descendant of the given PIDs, read from /proc (field 4 of /proc/PID/stat is the parent). */
export async function descendantsOf(roots: readonly number[]): Promise<number[]> {
  const parentOf = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we were reading.
    }
  }
  const found = new Set<number>(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parentOf) {
      if (!found.has(pid) && found.has(parent)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  for (const root of roots) found.delete(root);
  return [...found];
}

/**
 * SIGTERM to each master (they stop their own children), wait, then SIGKILL whatever of that process
 * tree is left. Only these PIDs and their descendants are ever signalled.
 */
export async function stopProcessTrees(masters: readonly number[]): Promise<void> {
  const living = masters.filter(isAlive);
  if (living.length === 0) return;
  const tree = [...living, ...(await descendantsOf(living))];
  for (const pid of living) signal(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (tree.some(isAlive) && Date.now() < deadline) await delay(EXIT_POLL_INTERVAL_MS);
  for (const pid of tree.filter(isAlive)) signal(pid, 'SIGKILL');
  while (tree.some(isAlive) && Date.now() < deadline + STOP_GRACE_MS) await delay(EXIT_POLL_INTERVAL_MS);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
