import { describe, expect, it } from 'vitest';
import { chromiumAppArguments, hasDisplay } from './chromium-app';

describe('the Chromium app window', () => {
  it('opens the URL as an app on a profile inside ours, with phoning home switched off', () => {
    const args = chromiumAppArguments({ url: 'http://127.0.0.1:5000/#token=t', profileDir: '/p', isRoot: false });
    expect(args).toEqual([
      '--app=http://127.0.0.1:5000/#token=t',
      '--user-data-dir=/p/chromium',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ]);
  });

  it('turns the sandbox off only for root', () => {
    expect(chromiumAppArguments({ url: 'u', profileDir: '/p', isRoot: true })).toContain('--no-sandbox');
    expect(chromiumAppArguments({ url: 'u', profileDir: '/p', isRoot: false })).not.toContain('--no-sandbox');
  });

  it('finds a display through X11 or Wayland', () => {
    expect(hasDisplay({ DISPLAY: ':0' })).toBe(true);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' })).toBe(true);
    expect(hasDisplay({ DISPLAY: '' })).toBe(false);
    expect(hasDisplay({})).toBe(false);
  });
});
