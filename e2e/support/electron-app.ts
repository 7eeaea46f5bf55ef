/**
 * The Electron shell, for the specs that need its binary. The binary cannot be downloaded on our
 * build machines, so those specs run only where it is installed; this says where it is, without
 * `require('electron')` (which would try to download it).
 */
import path from 'node:path';
import { electronBinaryPath } from '../../main/electron/electron-binary';
import { PROJECT_ROOT } from './browser-app';

export const ELECTRON_BINARY = electronBinaryPath(PROJECT_ROOT);
export const ELECTRON_MAIN = path.join(PROJECT_ROOT, 'out', 'main', 'electron', 'main.js');
export const ELECTRON_SKIP_REASON =
  'skipped: the Electron binary is not installed (node_modules/electron has no dist/ binary, and it cannot be downloaded on this machine)';
