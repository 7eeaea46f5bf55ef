/**
 * The main window's options, with every security-relevant web preference spelled out rather than
 * left to Electron's defaults (Electron security checklist: isolation, sandbox, no Node in the
 * page, web security, no <webview>).
 */
import type { BrowserWindowConstructorOptions, WebPreferences } from 'electron';

export const MINIMUM_WINDOW_WIDTH_PX = 720;
export const MINIMUM_WINDOW_HEIGHT_PX = 480;
export const DEFAULT_WINDOW_WIDTH_PX = 1200;
export const DEFAULT_WINDOW_HEIGHT_PX = 800;

export function secureWebPreferences(preloadPath: string, allowDevTools: boolean): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: true,
    devTools: allowDevTools,
  };
}

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

export interface MainWindowInput {
  preloadPath: string;
  bounds: WindowBounds;
  allowDevTools: boolean;
  iconPath?: string;
}

export function mainWindowOptions(input: MainWindowInput): BrowserWindowConstructorOptions {
  return {
    ...input.bounds,
    minWidth: MINIMUM_WINDOW_WIDTH_PX,
    minHeight: MINIMUM_WINDOW_HEIGHT_PX,
    title: 'Whereabouts',
    // Shown on 'ready-to-show', so the user never sees an empty white frame.
    show: false,
    ...(input.iconPath === undefined ? {} : { icon: input.iconPath }),
    webPreferences: secureWebPreferences(input.preloadPath, input.allowDevTools),
  };
}
