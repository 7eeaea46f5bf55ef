/**
 * Where a Whereabouts profile (accounts, mail store, window state, browser profile) lives, and the
 * command-line options every entry point shares. Pure: callers pass in argv, environment and
 * platform, so the rules are tested without touching the real home directory.
 */
import os from 'node:os';
import path from 'node:path';

export const APP_DIRECTORY_NAME = 'Whereabouts';
export const PROFILE_ENVIRONMENT_VARIABLE = 'WHEREABOUTS_PROFILE';

export interface ProfileEnvironment {
  platform: NodeJS.Platform;
  homeDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

export function currentProfileEnvironment(): ProfileEnvironment {
  return { platform: process.platform, homeDir: os.homedir(), env: process.env };
}

/**
 * The OS's per-user application-data folder for Whereabouts: the XDG Base Directory rule on Linux
 * and other Unixes (an unset or relative XDG_CONFIG_HOME is ignored, as the spec demands),
 * Application Support on macOS, %APPDATA% (the roaming profile) on Windows.
 */
export function defaultProfileDir({ platform, homeDir, env }: ProfileEnvironment): string {
  if (platform === 'win32') {
    const appData = env.APPDATA;
    const base = appData && appData.length > 0 ? appData : path.win32.join(homeDir, 'AppData', 'Roaming');
    return path.win32.join(base, APP_DIRECTORY_NAME);
  }
  if (platform === 'darwin') {
    return path.posix.join(homeDir, 'Library', 'Application Support', APP_DIRECTORY_NAME);
  }
  const xdgConfigHome = env.XDG_CONFIG_HOME;
  const base =
    xdgConfigHome && path.posix.isAbsolute(xdgConfigHome) ? xdgConfigHome : path.posix.join(homeDir, '.config');
  return path.posix.join(base, APP_DIRECTORY_NAME);
}

export interface LaunchOptions {
  /** Absolute profile folder. */
  profileDir: string;
  /** Loopback port for browser mode; 0 lets the OS choose. */
  port: number;
  /** Open browser mode even where Electron is installed. */
  forceBrowser: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function readValue(argv: readonly string[], index: number, option: string): string {
  const value = argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${option} needs a value.`);
  return value;
}

function parsePort(text: string): number {
  const port = Number(text);
  // Port 0 asks the OS for a free port; 65535 is the largest TCP port (RFC 793).
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not "${text}".`);
  }
  return port;
}

/**
 * Reads `--profile DIR` (or `--profile=DIR`), `--port N` and `--browser`. The option wins over
 * WHEREABOUTS_PROFILE, which wins over the OS default. Unknown options are ignored so Electron's
 * and Chromium's own switches can pass through.
 */
export function parseLaunchOptions(
  argv: readonly string[],
  environment: ProfileEnvironment,
  workingDir: string = process.cwd(),
): LaunchOptions {
  let profileOption: string | null = null;
  let port = 0;
  let forceBrowser = false;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    const [name, inlineValue] = argument.startsWith('--') && argument.includes('=') ? splitOnce(argument) : [argument];
    if (name === '--profile') {
      profileOption = inlineValue ?? readValue(argv, index++, name);
    } else if (name === '--port') {
      port = parsePort(inlineValue ?? readValue(argv, index++, name));
    } else if (name === '--browser') {
      forceBrowser = true;
    }
  }
  const fromEnvironment = environment.env[PROFILE_ENVIRONMENT_VARIABLE];
  const chosen = profileOption ?? (fromEnvironment && fromEnvironment.length > 0 ? fromEnvironment : null);
  const profileDir = chosen === null ? defaultProfileDir(environment) : path.resolve(workingDir, chosen);
  return { profileDir, port, forceBrowser };
}

function splitOnce(argument: string): [string, string] {
  const at = argument.indexOf('=');
  return [argument.slice(0, at), argument.slice(at + 1)];
}
