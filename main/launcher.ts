/**
 * `npm start`: builds when the output is missing or older than the sources, then brings the app
 * up. Electron where its binary is installed; otherwise browser mode in this process, in a
 * Chromium app window when there is a display, or as a printed loopback URL when there is not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { electronBinaryPath } from './electron/electron-binary';
import { currentProfileEnvironment, parseLaunchOptions, UsageError, type LaunchOptions } from './profile';
import { startBrowserMode } from './web/browser-mode';
import { CHROMIUM_PATH, chromiumAppArguments, hasDisplay } from './web/chromium-app';

export const PROJECT_ROOT = path.join(__dirname, '..');
export const BUILD_OUTPUTS = [
  'out/main/electron/main.js',
  'out/main/electron/preload.js',
  'out/main/web/host.js',
  'out/renderer/index.html',
];
/** What the build reads: a change to any of these makes the output stale. */
export const BUILD_INPUTS = ['main', 'shared', 'renderer', 'package.json', 'vite.config.mts'];
/**
 * A Chromium that exits this soon handed our URL to a window it already had open on the same
 * profile: the app is then still in use, so we keep serving.
 */
const CHROMIUM_HANDOFF_MS = 3_000;
/** Starts from the existing build without checking it (for a build made by other means, and for tests). */
export const NO_BUILD_OPTION = '--no-build';

function isBuildInput(name: string): boolean {
  return !/\.(test|spec)\.tsx?$/.test(name) && name !== 'node_modules';
}

/** The newest modification time under `entries` (files or folders), in milliseconds. */
export async function newestModificationMs(root: string, entries: readonly string[]): Promise<number> {
  let newest = 0;
  async function visit(target: string): Promise<void> {
    const info = await stat(target).catch(() => null);
    if (info === null) return;
    if (!info.isDirectory()) {
      newest = Math.max(newest, info.mtimeMs);
      return;
    }
    const children = await readdir(target);
    await Promise.all(children.filter(isBuildInput).map((child) => visit(path.join(target, child))));
  }
  await Promise.all(entries.map((entry) => visit(path.join(root, entry))));
  return newest;
}

/** Stale when an output is missing or any input is newer than the oldest output. */
export function isBuildStale(newestInputMs: number, outputTimesMs: readonly (number | null)[]): boolean {
  if (outputTimesMs.some((time) => time === null)) return true;
  return outputTimesMs.some((time) => (time ?? 0) < newestInputMs);
}

export async function buildIsStale(root: string): Promise<boolean> {
  const outputs = await Promise.all(
    BUILD_OUTPUTS.map(async (output) => (await stat(path.join(root, output)).catch(() => null))?.mtimeMs ?? null),
  );
  return isBuildStale(await newestModificationMs(root, BUILD_INPUTS), outputs);
}

function runBuild(root: string): void {
  process.stdout.write('Building Whereabouts…\n');
  const result = spawnSync('npm', ['run', 'build'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) throw new Error('The build failed; see the messages above.');
}

function waitForExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function launchElectron(binary: string, options: LaunchOptions): Promise<number> {
  const env = { ...process.env };
  // An inherited ELECTRON_RUN_AS_NODE would make the binary a plain Node and ignore the app.
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(binary, [path.join(PROJECT_ROOT, 'out/main/electron/main.js'), '--profile', options.profileDir], {
    stdio: 'inherit',
    env,
  });
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  return waitForExit(child);
}

async function launchBrowser(options: LaunchOptions): Promise<number> {
  const host = await startBrowserMode({
    profileDir: options.profileDir,
    rendererDir: path.join(PROJECT_ROOT, 'out/renderer'),
    port: options.port,
  });
  let chromium: ChildProcess | null = null;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    chromium?.kill('SIGTERM');
    await host.close();
    process.stdout.write('Whereabouts stopped.\n');
    finish(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const printUrl = (): void => {
    process.stdout.write(`Whereabouts is running in browser mode. Open this address (it holds this session's key):\n`);
    process.stdout.write(`  ${host.url}\nProfile: ${options.profileDir}\nPress Ctrl-C to stop.\n`);
  };

  if (hasDisplay(process.env) && existsSync(CHROMIUM_PATH)) {
    const startedAt = Date.now();
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const child = spawn(
      CHROMIUM_PATH,
      chromiumAppArguments({ url: host.url, profileDir: options.profileDir, isRoot }),
      {
        stdio: 'ignore',
      },
    );
    chromium = child;
    child.on('error', (error) => {
      process.stderr.write(`Chromium could not be started (${error.message}).\n`);
      printUrl();
    });
    child.on('exit', () => {
      chromium = null;
      if (Date.now() - startedAt < CHROMIUM_HANDOFF_MS) printUrl();
      else void stop(0); // the user closed the app window
    });
    process.stdout.write(`Whereabouts is running in a Chromium window (browser mode). Press Ctrl-C to stop.\n`);
  } else {
    printUrl();
  }
  return finished;
}

async function main(): Promise<number> {
  const options = parseLaunchOptions(process.argv.slice(2), currentProfileEnvironment());
  if (!process.argv.includes(NO_BUILD_OPTION) && (await buildIsStale(PROJECT_ROOT))) runBuild(PROJECT_ROOT);
  const electron = options.forceBrowser ? null : electronBinaryPath(PROJECT_ROOT);
  if (electron !== null) return launchElectron(electron, options);
  return launchBrowser(options);
}

// Run only as the entry point (`tsx main/launcher.ts`), not when a test imports the helpers above.
if (typeof module !== 'undefined' && require.main === module) {
  void (async () => {
    try {
      process.exit(await main());
    } catch (error) {
      process.stderr.write(
        `${error instanceof UsageError ? error.message : `Whereabouts could not start: ${String(error)}`}\n`,
      );
      process.exit(error instanceof UsageError ? 2 : 1);
    }
  })();
}
