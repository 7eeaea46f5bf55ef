/**
 * The BUILT Electron app (out/main/electron/main.js) on a fresh profile folder of its own, driven
 * by Playwright's `_electron`, with its one window recorded like a browser-mode page (console
 * errors, uncaught exceptions, every URL requested). Only where the Electron binary is installed
 * (ELECTRON_BINARY); nothing here downloads or fakes it.
 *
 * main.ts reads `--profile DIR` (parseLaunchOptions; unknown switches such as Playwright's
 * --inspect=0 pass through) and puts Chromium's userData, and with it the single-instance lock,
 * inside that profile: each session's own mkdtemp folder is its own instance, so sessions never
 * collide with each other or with a Whereabouts the user runs.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication } from 'playwright-core';
import { APP_ENTRY_URL } from '../../main/electron/app-origin';
import { PROJECT_ROOT } from './browser-app';
import { ELECTRON_BINARY, ELECTRON_MAIN, ELECTRON_SKIP_REASON } from './electron-app';
import { recordPage, VISIBLE_TIMEOUT_MS, type OpenedPage } from './ui';

/** Quitting waits for the service to close its store and connections (main.ts, will-quit); this only bounds a hang. */
const STOP_TIMEOUT_MS = 15_000;
/** From the click to the file on disk: a few hundred bytes from an object URL. */
const DOWNLOAD_TIMEOUT_MS = 10_000;

export interface SavedDownload {
  /** The name the page suggested (the link's `download` attribute). */
  filename: string;
  bytes: Buffer;
}

export interface ElectronSession {
  electronApp: ElectronApplication;
  profileDir: string;
  /** The main window (app://whereabouts/index.html). Closing it would quit the app, so `close` leaves it to `stop`. */
  opened: OpenedPage;
  /**
   * Runs `trigger` (the click) and returns the file the download it starts was saved as. Electron
   * shows the native save dialog for a download nobody handles; the test answers in its place by
   * setting the save path in main's will-download, as a user picking a file would.
   */
  saveNextDownload(trigger: () => Promise<unknown>): Promise<SavedDownload>;
  stop(): Promise<void>;
}

export interface ElectronSessionOptions {
  /** The window's content size, as a browser-mode page's viewport. */
  width?: number;
  height?: number;
  colorScheme?: 'light' | 'dark';
  /** Extra environment for the app, over the test's own. */
  env?: Record<string, string>;
  /** Runs on the profile folder before the app starts (to seed a store, say). */
  prepare?: (profileDir: string) => Promise<void>;
}

export interface DownloadOutcome {
  filename: string;
  state: 'completed' | 'cancelled' | 'interrupted';
}

/** Where the main-process functions below keep the download they wait for. */
interface DownloadGlobal {
  whereaboutsE2eDownload?: Promise<DownloadOutcome>;
}

/**
 * Runs in Electron's main process (sent there as source, so it names nothing from this module):
 * the next download is saved at `target` instead of asking the user, and its outcome is kept.
 */
export function saveNextDownloadAt({ session }: Pick<typeof import('electron'), 'session'>, target: string): void {
  (globalThis as DownloadGlobal).whereaboutsE2eDownload = new Promise<DownloadOutcome>((resolve) => {
    session.defaultSession.once('will-download', (_event, item) => {
      item.setSavePath(target);
      item.once('done', (_done, state) => resolve({ filename: item.getFilename(), state }));
    });
  });
}

/** Runs in Electron's main process: the outcome of the download saveNextDownloadAt waits for. */
export function pendingDownload(): Promise<DownloadOutcome> | null {
  return (globalThis as DownloadGlobal).whereaboutsE2eDownload ?? null;
}

async function closeApp(electronApp: ElectronApplication): Promise<void> {
  const child = electronApp.process();
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await electronApp.close();
  } finally {
    clearTimeout(timer);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The test's environment (Electron replaces, not extends, it) with the session's additions over it. */
function environment(extra: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return { ...Object.fromEntries(inherited), ...extra };
}

export async function startElectronSession(
  name: string,
  options: ElectronSessionOptions = {},
): Promise<ElectronSession> {
  const executablePath = ELECTRON_BINARY;
  if (executablePath === null) throw new Error(ELECTRON_SKIP_REASON);
  if (!existsSync(ELECTRON_MAIN)) throw new Error(`${ELECTRON_MAIN} is missing: run \`npm run build\` first.`);
  const profileDir = await mkdtemp(path.join(os.tmpdir(), `whereabouts-${name}-`));
  // Saved downloads live beside the profile, not in it: the profile is the app's alone.
  const downloadsDir = await mkdtemp(path.join(os.tmpdir(), `whereabouts-${name}-downloads-`));
  let launched: ElectronApplication | null = null;
  const stop = async (): Promise<void> => {
    const running = launched;
    launched = null;
    if (running) await closeApp(running);
    await rm(profileDir, { recursive: true, force: true });
    await rm(downloadsDir, { recursive: true, force: true });
  };

  let electronApp: ElectronApplication;
  let opened: OpenedPage;
  try {
    await (options.prepare ?? (async () => {}))(profileDir);
    electronApp = await _electron.launch({
      executablePath,
      args: [ELECTRON_MAIN, '--profile', profileDir],
      cwd: PROJECT_ROOT,
      env: environment(options.env),
      colorScheme: options.colorScheme ?? 'light',
    });
    launched = electronApp;
    const page = await electronApp.firstWindow();
    const recorded = recordPage(page, electronApp.context());
    // main.ts creates the window, then loads the renderer from app:// into it.
    await page.waitForURL(APP_ENTRY_URL, { timeout: VISIBLE_TIMEOUT_MS });
    if (options.width !== undefined || options.height !== undefined) {
      await electronApp.evaluate(
        ({ BrowserWindow }, size) => {
          for (const window of BrowserWindow.getAllWindows()) {
            const [width, height] = window.getContentSize();
            window.setContentSize(size.width ?? width, size.height ?? height);
          }
        },
        { width: options.width, height: options.height },
      );
    }
    opened = { page, ...recorded, close: async () => {} };
  } catch (error) {
    await stop();
    throw error;
  }

  let downloads = 0;
  return {
    electronApp,
    profileDir,
    opened,
    async saveNextDownload(trigger) {
      downloads += 1;
      const savePath = path.join(downloadsDir, `download-${downloads}`);
      await electronApp.evaluate(saveNextDownloadAt, savePath);
      await trigger();
      const outcome = await withTimeout(
        electronApp.evaluate(pendingDownload),
        DOWNLOAD_TIMEOUT_MS,
        `No download finished within ${DOWNLOAD_TIMEOUT_MS} ms of the click.`,
      );
      if (outcome === null) throw new Error('The download handler was not installed in main.');
      if (outcome.state !== 'completed') throw new Error(`The download ended ${outcome.state}, not completed.`);
      return { filename: outcome.filename, bytes: await readFile(savePath) };
    },
    stop,
  };
}
