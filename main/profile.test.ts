import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultProfileDir, parseLaunchOptions, UsageError, type ProfileEnvironment } from './profile';

const linux: ProfileEnvironment = { platform: 'linux', homeDir: '/home/ada', env: {} };

describe('the default profile folder', () => {
  it('follows XDG on Linux, falling back to ~/.config when XDG_CONFIG_HOME is unset or relative', () => {
    expect(defaultProfileDir(linux)).toBe('/home/ada/.config/Whereabouts');
    expect(defaultProfileDir({ ...linux, env: { XDG_CONFIG_HOME: '/data/config' } })).toBe('/data/config/Whereabouts');
    expect(defaultProfileDir({ ...linux, env: { XDG_CONFIG_HOME: 'relative/config' } })).toBe(
      '/home/ada/.config/Whereabouts',
    );
    expect(defaultProfileDir({ ...linux, env: { XDG_CONFIG_HOME: '' } })).toBe('/home/ada/.config/Whereabouts');
  });

  it('is Application Support on macOS', () => {
    expect(defaultProfileDir({ platform: 'darwin', homeDir: '/Users/ada', env: {} })).toBe(
      '/Users/ada/Library/Application Support/Whereabouts',
    );
  });

  it('is %APPDATA% on Windows', () => {
    const windows: ProfileEnvironment = { platform: 'win32', homeDir: 'C:\\Users\\ada', env: {} };
    expect(defaultProfileDir({ ...windows, env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' } })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\Whereabouts',
    );
    expect(defaultProfileDir(windows)).toBe('C:\\Users\\ada\\AppData\\Roaming\\Whereabouts');
  });
});

describe('launch options', () => {
  it('takes --profile over WHEREABOUTS_PROFILE over the default, resolving relative paths', () => {
    const withVariable = { ...linux, env: { WHEREABOUTS_PROFILE: '/srv/mail-profile' } };
    expect(parseLaunchOptions([], linux, '/work').profileDir).toBe('/home/ada/.config/Whereabouts');
    expect(parseLaunchOptions([], withVariable, '/work').profileDir).toBe('/srv/mail-profile');
    expect(parseLaunchOptions(['--profile', 'here'], withVariable, '/work').profileDir).toBe(
      path.resolve('/work/here'),
    );
    expect(parseLaunchOptions(['--profile=/abs'], withVariable, '/work').profileDir).toBe('/abs');
  });

  it('reads --port and --browser, and lets unknown switches pass', () => {
    expect(parseLaunchOptions(['--port', '8123', '--browser', '--enable-logging'], linux)).toMatchObject({
      port: 8123,
      forceBrowser: true,
    });
    expect(parseLaunchOptions([], linux)).toMatchObject({ port: 0, forceBrowser: false });
  });

  it('refuses a bad port or a missing value with a clear message', () => {
    expect(() => parseLaunchOptions(['--port', '70000'], linux)).toThrow(UsageError);
    expect(() => parseLaunchOptions(['--port', 'http'], linux)).toThrow(/--port must be a whole number/);
    expect(() => parseLaunchOptions(['--profile'], linux)).toThrow(/--profile needs a value/);
    expect(() => parseLaunchOptions(['--profile', '--port', '1'], linux)).toThrow(UsageError);
  });
});
