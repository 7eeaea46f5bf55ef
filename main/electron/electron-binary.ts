/**
 * Where the Electron binary is, if it is installed at all. Read from the electron package's
 * path.txt rather than by `require('electron')`, which on a machine without the binary starts a
 * download (and fails offline): finding out must never have side effects.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function electronBinaryPath(
  projectRoot: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | null {
  const packageDir = path.join(projectRoot, 'node_modules', 'electron');
  let relative: string;
  try {
    relative = readFileSync(path.join(packageDir, 'path.txt'), 'utf8').trim();
  } catch {
    return null;
  }
  if (relative.length === 0) return null;
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? path.join(override, relative) : path.join(packageDir, 'dist', relative);
  return existsSync(binary) ? binary : null;
}
