/**
 * Figure (7): the UI in browser mode (the built host, Debian's Chromium through playwright-core) on
 * the 100,000-message profile: time from clicking the big folder to its first message rows painted,
 * and frame times while scrolling it with the mouse wheel. Figure (8) takes the renderer's peak RSS.
 *
 * "Painted" is the first animation frame after the rows are in the DOM (a requestAnimationFrame
 * callback, then a task: the frame has been handed to the compositor by then). Frame times are the
 * deltas between consecutive requestAnimationFrame callbacks; at 60 Hz a frame is 16.7 ms, and one
 * longer than 16.7 ms × 1.5 means at least one frame was dropped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runQuietly } from './processes';
import { formatMegabytes, formatMilliseconds, NOT_MEASURED, type ReportRow } from './report';
import { ARCHIVE_FOLDER, SMALL_FOLDER, type SearchProfile } from './search-figure';
import { percentile, summarize } from './statistics';
import { APP_BUILD_DIR, HOST_SCRIPT, PROJECT_ROOT } from './whereabouts';

export const CHROMIUM = '/usr/bin/chromium';
/** host.js serves the renderer from ../../renderer beside it. */
const RENDERER_DIR = path.join(APP_BUILD_DIR, 'renderer');
export const FIRST_ROWS_TARGET_MS = 200;
export const RENDERER_RSS_TARGET_BYTES = 300 * 1024 * 1024;
const FRAME_MS = 1000 / 60;
/** A delta this much over one frame means a missed frame (timer jitter stays well under it). */
const DROPPED_FRAME_MS = FRAME_MS * 1.5;
const START_TIMEOUT_MS = 20_000;
const FIND_TIMEOUT_MS = 15_000;
/** Wheel steps while scrolling, one per frame: about 2 s of steady scrolling. */
const WHEEL_STEPS = 120;
const WHEEL_DELTA_PX = 120;

interface FrameRecorder {
  deltas: number[];
  last: number;
  running: boolean;
}

declare global {
  interface Window {
    /** Set by the scrolling measurement inside the page. */
    benchFrames?: FrameRecorder;
  }
}

const ROW_SELECTOR = '[role="listbox"] [role="option"]:not([aria-busy="true"]), [role="grid"] [role="row"]';

export interface UiFigure {
  rows: ReportRow[];
  section: string;
  rendererRssBytes: number | null;
}

/**
 * Builds the renderer as `npm run build:renderer` does (vite.config.mts), into the benchmark's copy of
 * the app beside the host that prepareCli built; false with a reason when it cannot.
 */
export async function prepareUi(): Promise<{ ready: boolean; reason: string }> {
  if (!existsSync(CHROMIUM)) return { ready: false, reason: `${CHROMIUM} is not installed` };
  if (!existsSync(HOST_SCRIPT)) return { ready: false, reason: 'the browser-mode host did not build' };
  const vite = path.join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  try {
    await runQuietly(
      process.execPath,
      [vite, 'build', '--outDir', RENDERER_DIR, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: PROJECT_ROOT, timeoutMs: 300_000 },
    );
  } catch (error) {
    return { ready: false, reason: `the renderer does not build: ${String(error).split('\n')[0].slice(0, 200)}` };
  }
  return { ready: true, reason: '' };
}

async function startHost(profileDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [HOST_SCRIPT, '--profile', profileDir, '--port', '0', '--stop-with-stdin'], {
    cwd: PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the host did not start: ${stderr}`)), START_TIMEOUT_MS);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve((JSON.parse(stdout.slice(0, newline)) as { url: string }).url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the host exited with ${code}: ${stderr}`));
    });
  });
  return { child, url };
}

async function stopHost(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** Peak RSS (VmHWM) of the Chromium renderer processes that descend from this process. */
async function rendererPeakRss(): Promise<number | null> {
  const parents = new Map<number, number>();
  const commandLines = new Map<number, string>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // Field 4 (after the parenthesised command name, which may hold spaces) is the parent PID.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), parent);
      commandLines.set(Number(name), (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' '));
    } catch {
      // The process ended while we looked.
    }
  }
  const descendsFromUs = (pid: number): boolean => {
    for (let current = parents.get(pid); current !== undefined && current > 1; current = parents.get(current)) {
      if (current === process.pid) return true;
    }
    return false;
  };
  let peak: number | null = null;
  for (const [pid, commandLine] of commandLines) {
    if (!commandLine.includes('--type=renderer') || !descendsFromUs(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (match) peak = Math.max(peak ?? 0, Number(match[1]) * 1024);
  }
  return peak;
}

async function folderLocator(page: Page, name: string) {
  const sidebar = page.locator('nav, [role="tree"], aside').first();
  const byRole = page.getByRole('treeitem', { name: new RegExp(`^${name}\\b`) });
  if ((await byRole.count()) > 0) return byRole.first();
  return sidebar.getByText(name, { exact: true }).first();
}

/** Clicks the folder inside the page (no automation latency in the measured span) and times the first rows painted. */
async function timeFolderOpen(page: Page, name: string): Promise<number> {
  const folder = await folderLocator(page, name);
  await folder.waitFor({ state: 'visible', timeout: FIND_TIMEOUT_MS });
  const handle = await folder.elementHandle();
  if (!handle) throw new Error(`the folder ${name} is not in the page`);
  return page.evaluate(
    async ({ element, rowSelector, timeoutMs }) => {
      // The list may reuse its row elements: the new folder's rows are told apart by their aria-setsize
      // (the size of the whole list), which differs between the small folder and the big one.
      const sizeOf = (row: Element | null): string | null => row?.getAttribute('aria-setsize') ?? null;
      const before = document.querySelector(rowSelector);
      const sizeBefore = sizeOf(before);
      const isNew = (row: Element | null): boolean =>
        row !== null && (sizeBefore === null ? row !== before : sizeOf(row) !== sizeBefore);
      const start = performance.now();
      (element as HTMLElement).click();
      await new Promise<void>((resolve, reject) => {
        const observer = new MutationObserver(() => check());
        const deadline = setTimeout(() => {
          observer.disconnect();
          reject(new Error('no message rows appeared'));
        }, timeoutMs);
        const check = (): void => {
          if (!isNew(document.querySelector(rowSelector))) return;
          clearTimeout(deadline);
          observer.disconnect();
          resolve();
        };
        observer.observe(document.body, { childList: true, subtree: true, attributes: true });
        check();
      });
      await new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      return performance.now() - start;
    },
    { element: handle, rowSelector: ROW_SELECTOR, timeoutMs: FIND_TIMEOUT_MS },
  );
}

async function measureScrolling(page: Page): Promise<number[]> {
  const row = page.locator(ROW_SELECTOR).first();
  const box = await row.boundingBox();
  if (!box) throw new Error('no row to scroll from');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.evaluate(() => {
    const recorder: FrameRecorder = { deltas: [], last: 0, running: true };
    window.benchFrames = recorder;
    const tick = (time: number): void => {
      if (recorder.last > 0) recorder.deltas.push(time - recorder.last);
      recorder.last = time;
      if (recorder.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  for (let step = 0; step < WHEEL_STEPS; step += 1) {
    await page.mouse.wheel(0, WHEEL_DELTA_PX);
    await page.waitForTimeout(FRAME_MS);
  }
  return page.evaluate(() => {
    const recorder = window.benchFrames;
    if (!recorder) return [];
    recorder.running = false;
    return recorder.deltas;
  });
}

export async function runUiFigure(
  profile: SearchProfile,
  runs: { warmups: number; counted: number },
  screenshotPath: string,
): Promise<UiFigure> {
  const figure = `(7) UI: open a ${profile.messages.toLocaleString('en')}-message folder, first rows painted`;
  const { child, url } = await startHost(profile.directory);
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // The functions handed to page.evaluate are this file's, compiled by tsx/esbuild with their names
    // kept through a `__name(function, name)` helper that only exists in Node: give the page one.
    await page.addInitScript({ content: 'globalThis.__name = (target) => target;' });
    await page.goto(url);
    const openTimes: number[] = [];
    for (let round = 0; round < runs.warmups + runs.counted; round += 1) {
      await timeFolderOpen(page, SMALL_FOLDER);
      const milliseconds = await timeFolderOpen(page, ARCHIVE_FOLDER);
      process.stderr.write(
        `  (7) ${round < runs.warmups ? 'warm-up' : `run ${round - runs.warmups + 1}`}: ${milliseconds.toFixed(1)} ms\n`,
      );
      if (round >= runs.warmups) openTimes.push(milliseconds);
    }
    // What was measured, for a human to check: the big folder open, rows painted.
    await page.screenshot({ path: screenshotPath });
    const deltas = await measureScrolling(page);
    const dropped = deltas.filter((delta) => delta > DROPPED_FRAME_MS).length;
    const rendererRssBytes = await rendererPeakRss();
    const open = summarize(openTimes);
    const openMet = open.median < FIRST_ROWS_TARGET_MS;
    const rows: ReportRow[] = [
      {
        figure,
        whereabouts: `${formatMilliseconds(open.median)} (${formatMilliseconds(open.min)}–${formatMilliseconds(open.max)})`,
        peer: '–',
        peerValue: '–',
        ratio: '–',
        target: '< 200 ms',
        verdict: openMet ? 'met' : `missed by ${formatMilliseconds(open.median - FIRST_ROWS_TARGET_MS)}`,
      },
      {
        figure: '(7) UI: scrolling that folder (mouse wheel, ~2 s)',
        whereabouts: `${deltas.length} frames, p50 ${formatMilliseconds(percentile(deltas, 50))}, p95 ${formatMilliseconds(percentile(deltas, 95))}, max ${formatMilliseconds(Math.max(...deltas))}; ${dropped} dropped`,
        peer: '–',
        peerValue: '–',
        ratio: '–',
        target: 'no dropped frames at 60 Hz',
        verdict:
          dropped === 0
            ? 'met'
            : `missed: ${dropped} of ${deltas.length} frames over ${DROPPED_FRAME_MS.toFixed(1)} ms`,
      },
    ];
    const section = [
      'Headless Chromium (software rendering, `--disable-gpu`), viewport 1400×900; the click is dispatched inside the',
      'page, so no automation latency is in the span. A frame counts as dropped when the gap between two animation',
      `frames exceeds ${DROPPED_FRAME_MS.toFixed(1)} ms (1.5 × 16.7 ms).`,
      rendererRssBytes === null ? '' : `Renderer peak RSS (VmHWM): ${formatMegabytes(rendererRssBytes)}.`,
      `Screenshot of the opened folder: \`${path.relative(PROJECT_ROOT, screenshotPath)}\`.`,
    ].join('\n');
    return { rows, section, rendererRssBytes };
  } finally {
    await browser?.close();
    await stopHost(child);
  }
}

export function uiNotMeasured(reason: string): ReportRow[] {
  return [
    {
      figure: '(7) UI: open a 100,000-message folder, first rows painted; scrolling',
      whereabouts: NOT_MEASURED,
      peer: '–',
      peerValue: '–',
      ratio: '–',
      target: '< 200 ms; no dropped frames at 60 Hz',
      verdict: `${NOT_MEASURED}: ${reason}`,
    },
  ];
}
