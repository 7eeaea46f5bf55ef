/**
 * Electron entry point (built to out/main/electron/main.js). Hardens every web contents, serves
 * the renderer from app://whereabouts, and serves the mail service over the preload's one IPC
 * channel. The security decisions live in small pure modules beside this file.
 */
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  protocol,
  safeStorage,
  screen,
  session,
  shell,
  type WebContents,
} from 'electron';
import path from 'node:path';
import { parseMailto } from '../../shared/mailto';
import { serve } from '../../shared/rpc';
import { currentProfileEnvironment, parseLaunchOptions } from '../profile';
import { loadOAuthConfiguration } from '../oauth/client-registrations';
import { createMailService, type MailService } from '../service/create-service';
import { APP_ENTRY_URL, APP_SCHEME, isAppUrl } from './app-origin';
import { appProtocolResponse } from './app-protocol';
import { ipcTransport } from './ipc-bridge';
import { menuTemplate } from './menu-template';
import { decideExternalOpen, decideFrameNavigation } from './navigation-policy';
import { isRendererRequestAllowed } from './request-policy';
import { mainWindowOptions } from './window-options';
import { fitToDisplays, loadWindowState, saveWindowState } from './window-state';

/** out/main/electron/main.js → out/renderer, and the preload beside this file. */
const RENDERER_DIR = path.join(__dirname, '..', '..', 'renderer');
const PRELOAD_PATH = path.join(__dirname, 'preload.js');

const options = parseLaunchOptions(process.argv.slice(1), currentProfileEnvironment());
const allowDevTools = !app.isPackaged;

// Chromium's own data (caches, local storage) lives in the profile too; this also scopes the
// single-instance lock to the profile, so two profiles can run side by side.
app.setPath('userData', path.join(options.profileDir, 'electron'));

// Must happen before 'ready': the scheme gets a real origin, secure-context status and fetch support.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
]);
app.enableSandbox();

let mainWindow: BrowserWindow | null = null;
let service: MailService | null = null;

function openExternally(url: string): void {
  if (decideExternalOpen(url) === 'open-external') void shell.openExternal(url);
}

/** Applied to every web contents Electron creates, so nothing escapes the rules by being new. */
function hardenWebContents(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    // The app is one page; any navigation of the window away from it is refused.
    event.preventDefault();
    openExternally(event.url);
  });
  contents.on('will-frame-navigate', (event) => {
    if (event.isMainFrame) return; // covered by will-navigate
    const decision = decideFrameNavigation(event.url);
    if (decision === 'allow') return;
    event.preventDefault();
    if (decision === 'open-external') openExternally(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

function hardenSession(): void {
  const defaultSession = session.defaultSession;
  defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  defaultSession.setPermissionCheckHandler(() => false);
  defaultSession.setDevicePermissionHandler(() => false);
  defaultSession.webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => {
    callback({ cancel: !isRendererRequestAllowed(details.url) });
  });
  defaultSession.protocol.handle(APP_SCHEME, (request) =>
    appProtocolResponse({ url: request.url, method: request.method }, RENDERER_DIR),
  );
}

async function createMainWindow(mailService: MailService): Promise<BrowserWindow> {
  const workAreas = screen.getAllDisplays().map((display) => display.workArea);
  const state = fitToDisplays(await loadWindowState(options.profileDir), workAreas);
  const window = new BrowserWindow(
    mainWindowOptions({ preloadPath: PRELOAD_PATH, bounds: state.bounds, allowDevTools }),
  );
  if (state.maximized) window.maximize();

  const connection = serve(ipcTransport(ipcMain, window.webContents), mailService.api);
  const unsubscribe = mailService.onEvent((name, payload) => connection.emit(name, payload));

  window.once('ready-to-show', () => window.show());
  window.on('close', () => {
    const bounds = window.isMaximized() ? window.getNormalBounds() : window.getBounds();
    void saveWindowState(options.profileDir, { bounds, maximized: window.isMaximized() });
  });
  window.on('closed', () => {
    unsubscribe();
    connection.close();
    if (mainWindow === window) mainWindow = null;
  });
  await window.loadURL(APP_ENTRY_URL);
  return window;
}

/** The badge follows new mail at most this often. */
const BADGE_UPDATE_INTERVAL_MS = 1_000;

async function unreadInInboxes(mailService: MailService): Promise<number> {
  let unread = 0;
  for (const account of await mailService.api.listAccounts()) {
    for (const folder of await mailService.api.listFolders({ accountId: account.id })) {
      if (folder.role === 'inbox') unread += folder.unread;
    }
  }
  return unread;
}

async function start(): Promise<void> {
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
  await app.whenReady();
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(menuTemplate({ isMac: process.platform === 'darwin', allowDevTools })),
  );
  app.setAboutPanelOptions({ applicationName: 'Whereabouts', applicationVersion: app.getVersion() });
  hardenSession();
  service = await createMailService({
    profileDir: options.profileDir,
    shell: 'electron',
    watch: true,
    // OAuth sign-in happens in the system browser (RFC 8252), never in a web view of ours.
    openExternal: (url: string) => shell.openExternal(url),
    // Client registrations a packager ships beside the app, then the profile's own.
    oauth: (await loadOAuthConfiguration({ directories: [process.resourcesPath, options.profileDir] })).configuration,
    // Passwords are sealed by the OS keychain (Keychain, DPAPI, libsecret) where it is available;
    // base64 because safeStorage takes strings and the round trip must be exact for any bytes.
    ...(safeStorage.isEncryptionAvailable()
      ? {
          cipher: {
            encrypt: (plain: Buffer) => safeStorage.encryptString(plain.toString('base64')),
            decrypt: (blob: Buffer) => Buffer.from(safeStorage.decryptString(blob), 'base64'),
          },
        }
      : {}),
  });
  const mailService = service;
  mainWindow = await createMainWindow(mailService);

  // mailto: links elsewhere open our composer (Windows and Linux pass the URL on the command
  // line of a second instance; macOS sends open-url). Registered only in a packaged app, so a
  // development build never takes over the system's default mail client.
  if (app.isPackaged) app.setAsDefaultProtocolClient('mailto');
  const compose = (url: string | undefined): void => {
    const draft = url ? parseMailto(url) : null;
    if (draft) mailService.announce('composeRequested', draft);
  };
  app.on('open-url', (event, url) => {
    event.preventDefault();
    compose(url);
  });
  compose(pendingMailto ?? process.argv.find((argument) => argument.toLowerCase().startsWith('mailto:')));
  app.on('second-instance', (_event, argv) => {
    compose(argv.find((argument) => argument.toLowerCase().startsWith('mailto:')));
    if (mainWindow === null) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  // The unread count of every inbox on the dock / launcher icon, where the platform shows one.
  let badgeTimer: NodeJS.Timeout | null = null;
  mailService.onEvent((name) => {
    if ((name !== 'messagesChanged' && name !== 'accountsChanged') || badgeTimer) return;
    badgeTimer = setTimeout(() => {
      badgeTimer = null;
      void unreadInInboxes(mailService).then((unread) => app.setBadgeCount(unread));
    }, BADGE_UPDATE_INTERVAL_MS);
  });
  // macOS: clicking the dock icon with no window open brings the window back.
  app.on('activate', async () => {
    if (mainWindow === null) mainWindow = await createMainWindow(mailService);
  });
}

app.on('window-all-closed', () => {
  // macOS keeps an app running with no windows until the user quits it.
  if (process.platform !== 'darwin') app.quit();
});

let closing = false;
app.on('will-quit', (event) => {
  if (closing || service === null) return;
  // Let the service finish its writes (store, sync state) before the process ends.
  event.preventDefault();
  closing = true;
  void service.close().finally(() => app.quit());
});

/** A mailto: the OS hands over (macOS open-url) before the service is ready. */
let pendingMailto: string | undefined;
app.once('open-url', (event, url) => {
  event.preventDefault();
  pendingMailto = url;
});

if (!app.requestSingleInstanceLock()) {
  // Another Whereabouts already runs on this profile: it is told (second-instance) and focuses itself.
  app.quit();
} else {
  start().catch((error: unknown) => {
    process.stderr.write(`Whereabouts could not start: ${String(error)}\n`);
    app.exit(1);
  });
}
