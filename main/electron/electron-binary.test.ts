import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { electronBinaryPath } from './electron-binary';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-electron-'));
  await mkdir(path.join(root, 'node_modules', 'electron'), { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('finding the Electron binary', () => {
  it('finds nothing when the package was installed without its binary', async () => {
    expect(electronBinaryPath(root, {})).toBeNull();
    await writeFile(path.join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
    expect(electronBinaryPath(root, {})).toBeNull();
  });

  it('finds the binary path.txt names under dist/, or under ELECTRON_OVERRIDE_DIST_PATH', async () => {
    const packageDir = path.join(root, 'node_modules', 'electron');
    await writeFile(path.join(packageDir, 'path.txt'), 'electron');
    await mkdir(path.join(packageDir, 'dist'));
    await writeFile(path.join(packageDir, 'dist', 'electron'), '');
    expect(electronBinaryPath(root, {})).toBe(path.join(packageDir, 'dist', 'electron'));
    await mkdir(path.join(root, 'custom'));
    await writeFile(path.join(root, 'custom', 'electron'), '');
    expect(electronBinaryPath(root, { ELECTRON_OVERRIDE_DIST_PATH: path.join(root, 'custom') })).toBe(
      path.join(root, 'custom', 'electron'),
    );
  });
});
