import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_WINDOW_STATE,
  fitToDisplays,
  loadWindowState,
  parseWindowState,
  saveWindowState,
  WINDOW_STATE_FILE,
} from './window-state';

let profileDir: string;
beforeEach(async () => {
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-window-'));
});
afterEach(async () => {
  await rm(profileDir, { recursive: true, force: true });
});

describe('window state', () => {
  it('comes back as it was saved, from the profile folder', async () => {
    const state = { bounds: { x: 40, y: 60, width: 1000, height: 700 }, maximized: true };
    await saveWindowState(profileDir, state);
    expect(await loadWindowState(profileDir)).toEqual(state);
    expect(JSON.parse(await readFile(path.join(profileDir, WINDOW_STATE_FILE), 'utf8'))).toEqual(state);
  });

  it('falls back to the defaults for a missing, truncated or nonsensical file', async () => {
    expect(await loadWindowState(profileDir)).toEqual(DEFAULT_WINDOW_STATE);
    await writeFile(path.join(profileDir, WINDOW_STATE_FILE), '{"bounds": {"wid');
    expect(await loadWindowState(profileDir)).toEqual(DEFAULT_WINDOW_STATE);
    expect(parseWindowState({ bounds: { width: 'wide', height: 700 } })).toEqual(DEFAULT_WINDOW_STATE);
    expect(parseWindowState({ bounds: { width: 1e9, height: 700 } })).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('never restores a window smaller than usable', () => {
    expect(parseWindowState({ bounds: { width: 10, height: 10 } }).bounds).toEqual({ width: 720, height: 480 });
  });

  it('forgets a position on a monitor that is no longer there, keeping the size', () => {
    const screen = [{ x: 0, y: 0, width: 1920, height: 1080 }];
    const onScreen = { bounds: { x: 100, y: 100, width: 1000, height: 700 }, maximized: false };
    const offScreen = { bounds: { x: 3000, y: 100, width: 1000, height: 700 }, maximized: false };
    expect(fitToDisplays(onScreen, screen)).toEqual(onScreen);
    expect(fitToDisplays(offScreen, screen)).toEqual({ bounds: { width: 1000, height: 700 }, maximized: false });
    expect(fitToDisplays(offScreen, [...screen, { x: 1920, y: 0, width: 2560, height: 1440 }])).toEqual(offScreen);
  });
});
