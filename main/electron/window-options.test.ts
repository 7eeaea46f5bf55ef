import { describe, expect, it } from 'vitest';
import { mainWindowOptions, secureWebPreferences } from './window-options';
import { menuTemplate } from './menu-template';

describe('the main window', () => {
  it('isolates and sandboxes the page, without Node, with web security, without <webview>', () => {
    expect(secureWebPreferences('/app/preload.js', false)).toMatchObject({
      preload: '/app/preload.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      devTools: false,
    });
  });

  it('opens hidden until ready, at the saved size, never smaller than usable', () => {
    const options = mainWindowOptions({
      preloadPath: '/p.js',
      bounds: { x: 10, y: 20, width: 900, height: 700 },
      allowDevTools: true,
    });
    expect(options).toMatchObject({ x: 10, y: 20, width: 900, height: 700, show: false, title: 'Whereabouts' });
    expect(options.minWidth).toBeGreaterThanOrEqual(640);
    expect(options.webPreferences?.sandbox).toBe(true);
  });
});

describe('the menu', () => {
  const labels = (isMac: boolean, allowDevTools = false) =>
    menuTemplate({ isMac, allowDevTools }).map((item) => item.label ?? item.role);

  it('has File, Edit, View and Help (and the app menu on macOS)', () => {
    expect(labels(false)).toEqual(['&File', '&Edit', '&View', '&Help']);
    expect(labels(true)).toEqual(['appMenu', '&File', '&Edit', '&View', '&Help']);
  });

  it('offers developer tools only in unpackaged builds', () => {
    const roles = (allowDevTools: boolean) =>
      JSON.stringify(menuTemplate({ isMac: false, allowDevTools }).find((item) => item.label === '&View'));
    expect(roles(false)).not.toContain('toggleDevTools');
    expect(roles(true)).toContain('toggleDevTools');
  });
});
