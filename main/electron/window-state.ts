/**
 * The main window's size, position and maximised state, kept in the profile so the window comes
 * back where the user left it. What is read back is checked: a hand-edited or truncated file,
 * or a position on a monitor that is no longer attached, must not produce an invisible window.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_WINDOW_HEIGHT_PX,
  DEFAULT_WINDOW_WIDTH_PX,
  MINIMUM_WINDOW_HEIGHT_PX,
  MINIMUM_WINDOW_WIDTH_PX,
  type WindowBounds,
} from './window-options';

export const WINDOW_STATE_FILE = 'window-state.json';
/** At least this much of the title bar must lie on a display for the saved position to be used. */
const MINIMUM_VISIBLE_PX = 64;
/** Larger than any real display arrangement: anything beyond is corrupt data. */
const MAXIMUM_COORDINATE_PX = 100_000;

export interface WindowState {
  bounds: WindowBounds;
  maximized: boolean;
}

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export const DEFAULT_WINDOW_STATE: WindowState = {
  bounds: { width: DEFAULT_WINDOW_WIDTH_PX, height: DEFAULT_WINDOW_HEIGHT_PX },
  maximized: false,
};

function isCoordinate(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAXIMUM_COORDINATE_PX;
}

/** Reads saved state out of untrusted JSON; anything unusable falls back to the defaults. */
export function parseWindowState(value: unknown): WindowState {
  if (typeof value !== 'object' || value === null) return DEFAULT_WINDOW_STATE;
  const { bounds, maximized } = value as { bounds?: unknown; maximized?: unknown };
  if (typeof bounds !== 'object' || bounds === null) return DEFAULT_WINDOW_STATE;
  const { x, y, width, height } = bounds as Record<string, unknown>;
  if (!isCoordinate(width) || !isCoordinate(height)) return DEFAULT_WINDOW_STATE;
  const size = { width: Math.max(width, MINIMUM_WINDOW_WIDTH_PX), height: Math.max(height, MINIMUM_WINDOW_HEIGHT_PX) };
  const position = isCoordinate(x) && isCoordinate(y) ? { x, y } : {};
  return { bounds: { ...position, ...size }, maximized: maximized === true };
}

/** Drops a saved position whose title bar would not be visible on any of the current displays. */
export function fitToDisplays(state: WindowState, workAreas: readonly Rectangle[]): WindowState {
  const { x, y, width } = state.bounds;
  if (x === undefined || y === undefined) return state;
  const titleBarVisible = workAreas.some(
    (area) =>
      Math.min(x + width, area.x + area.width) - Math.max(x, area.x) >= MINIMUM_VISIBLE_PX &&
      y >= area.y &&
      y < area.y + area.height - MINIMUM_VISIBLE_PX / 2,
  );
  if (titleBarVisible) return state;
  return { ...state, bounds: { width: state.bounds.width, height: state.bounds.height } };
}

export async function loadWindowState(profileDir: string): Promise<WindowState> {
  try {
    return parseWindowState(JSON.parse(await readFile(path.join(profileDir, WINDOW_STATE_FILE), 'utf8')) as unknown);
  } catch {
    return DEFAULT_WINDOW_STATE;
  }
}

/** Written to a temporary file and renamed, so a crash mid-write leaves the old state, not half a file. */
export async function saveWindowState(profileDir: string, state: WindowState): Promise<void> {
  await mkdir(profileDir, { recursive: true });
  const target = path.join(profileDir, WINDOW_STATE_FILE);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, target);
}
