/**
 * The one service behind every shell: Electron, the browser-mode bridge and the CLI all
 * construct it here and serve `api` unchanged. It owns the account configuration, the secrets,
 * the local store and one sync engine per account; the renderer renders from its events.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { MailApi, MailEvent, MailEvents } from '../../shared/api';
import { MailError, type ErrorPayload } from '../../shared/errors';
import type { Account, AccountView, ConnectivityState, SyncProgress } from '../../shared/model';
import { AccountStore } from '../accounts/account-store';
import { discoverSettings } from '../accounts/autoconfig';
import { validateAccountSettings } from '../accounts/account-settings';
import { secretKey, type Cipher, type SecretStore } from '../accounts/secret-store';
import { openFileSecretStore } from '../accounts/secrets';
import { SIGN_IN_REQUIRED } from '../oauth/access-tokens';
import { loadOAuthConfiguration, type OAuthConfiguration } from '../oauth/client-registrations';
import { credentialSourceOf } from '../oauth/credentials';
import { OAuthService, type OAuthSignInFinished } from '../oauth/oauth-service';
import { openMessageStore, type MessageStore } from '../store/message-store';
import { createMailActions, type UserActions } from '../sync/actions';
import { createEngine, type EngineOptions } from '../sync/create-engine';
import { isCancelled, type AccountEngine, type EngineContext } from '../sync/engine';
import { testConnection } from './connection-test';
import { createDraftHandlers, Drafts } from './drafts';
import { exportFolder } from './export-import';
import { createMessageHandlers, validateOutgoing } from './message-handlers';
import { Outbox } from './outbox';
import { createResidencyHandlers } from './residency-handlers';
import { optionalEnum, optionalString, requireObject, requireString } from './validate';
import { WorkControl } from './work-control';

export type ServiceEventListener = <E extends MailEvent>(name: E, payload: MailEvents[E]) => void;

export interface MailService {
  api: MailApi;
  onEvent(listener: ServiceEventListener): () => void;
  /** Lets a shell push an event to every renderer (e.g. a mailto: request from the OS). */
  announce<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
  /** For the CLI and tests: the parts the contract does not expose (export, import, seeding). */
  internals: ServiceInternals;
  close(): Promise<void>;
}

export interface ServiceInternals {
  store: MessageStore;
  accounts: AccountStore;
  engineFor(accountId: string): AccountEngine;
  outbox: Outbox;
  actions: UserActions;
  resolveAccount(nameOrId: string): Promise<Account>;
  /** Sign-ins, access tokens and `oauth.handlers` (the UI's OAuth methods until shared/api.ts has them). */
  oauth: OAuthService;
}

export interface ServiceOptions {
  profileDir: string;
  shell: 'electron' | 'browser' | 'cli';
  /** The Electron shell passes a cipher backed by safeStorage; plain Node uses the key file. */
  cipher?: Cipher;
  /** Start IDLE / interval checks for every account (the UI shells); the CLI syncs on demand. */
  watch?: boolean;
  /** Passed to every engine (tests use its clock for the N-days policy). */
  engineOptions?: EngineOptions;
  /** OAuth client registrations; default: main/oauth/client-registrations.ts's sources for this profile. */
  oauth?: OAuthConfiguration;
  /** Opens a sign-in page in the system browser (Electron: shell.openExternal); absent, the UI opens it. */
  openExternal?: (url: string) => Promise<void>;
  /** Told when an OAuth sign-in ends (until shared/api.ts carries it as an event). */
  onOAuthSignInFinished?: (result: OAuthSignInFinished) => void;
  /** Where exportFolder writes; default: the Downloads folder in the user's home (tests use a temporary one). */
  downloadsDir?: string;
}

export const APP_VERSION = '0.1.0';

/** After start-up work, before the user is likely to type a recipient. */
const ADDRESS_WARM_UP_DELAY_MS = 5_000;

/** Residency updates are coalesced so a 10,000-message sync does not flood the renderer. */
const RESIDENCY_EVENT_INTERVAL_MS = 500;

interface AccountStatus {
  state: ConnectivityState;
  error: ErrorPayload | null;
  lastSyncAt: string | null;
}

export async function createMailService(options: ServiceOptions): Promise<MailService> {
  await mkdir(options.profileDir, { recursive: true, mode: 0o700 });
  const accounts = new AccountStore(options.profileDir);
  const secrets: SecretStore = await openFileSecretStore(options.profileDir, options.cipher);
  const store = await openMessageStore({ profileDir: options.profileDir });
  const listeners = new Set<ServiceEventListener>();
  const engines = new Map<string, AccountEngine>();
  const statuses = new Map<string, AccountStatus>();
  let closed = false;

  const emit: EngineContext['emit'] = (name, payload) => {
    for (const listener of listeners) listener(name, payload);
  };
  /** Cancel for long work; the engines' progress passes through it (cancellable, final "stopped" event). */
  const work = new WorkControl((progress) => emit('syncProgress', progress));
  const engineEmit: EngineContext['emit'] = (name, payload) => {
    if (name === 'syncProgress') work.engineProgress(payload as MailEvents['syncProgress']);
    else emit(name, payload);
  };

  let pendingResidency = new Set<string>();
  let residencyTimer: NodeJS.Timeout | null = null;
  const residencyChanged = (accountId: string): void => {
    pendingResidency.add(accountId);
    if (residencyTimer) return;
    residencyTimer = setTimeout(() => {
      residencyTimer = null;
      const accountIds = [...pendingResidency];
      pendingResidency = new Set();
      emit('residencyChanged', { accountIds });
    }, RESIDENCY_EVENT_INTERVAL_MS);
  };

  const unsubscribeStore = store.onChange((change) => {
    if (change.kind === 'accounts') return;
    if (change.kind === 'folders') emit('foldersChanged', { accountId: change.accountId });
    else emit('messagesChanged', { accountId: change.accountId, folderIds: change.folderIds });
    residencyChanged(change.accountId);
  });

  const statusOf = (accountId: string): AccountStatus =>
    statuses.get(accountId) ?? { state: 'offline', error: null, lastSyncAt: null };

  const toView = (account: Account): AccountView => {
    const status = statusOf(account.id);
    const view: AccountView = {
      ...account,
      connectivity: status.state,
      lastError: status.error,
      lastSyncAt: status.lastSyncAt,
    };
    if (account.auth?.kind === 'oauth2') view.signInRequired = status.error?.details?.serverText === SIGN_IN_REQUIRED;
    return view;
  };

  const listAccountViews = async (): Promise<AccountView[]> => (await accounts.list()).map(toView);

  const announceAccounts = async (): Promise<void> => {
    emit('accountsChanged', { accounts: await listAccountViews() });
  };

  const accountCache = new Map<string, Account>();
  const refreshAccountCache = async (): Promise<void> => {
    accountCache.clear();
    for (const account of await accounts.list()) accountCache.set(account.id, account);
  };
  await refreshAccountCache();

  const oauth = new OAuthService({
    secrets,
    configuration: options.oauth ?? (await loadOAuthConfiguration({ directories: [options.profileDir] })).configuration,
    account: (accountId) => contextFor(accountId).account(),
    onSignInFinished: (result) => {
      emit('oauthSignInFinished', result);
      options.onOAuthSignInFinished?.(result);
    },
    // "Sign in again" done: reconnect with the new tokens at once.
    onAccountSignedIn: async (accountId) => {
      statuses.delete(accountId);
      await stopEngine(accountId);
      const account = accountCache.get(accountId);
      if (account) startEngine(account);
      await announceAccounts();
      syncInBackground(accountId);
    },
    openExternal: options.openExternal,
  });

  const contextFor = (accountId: string): EngineContext => ({
    account() {
      const account = accountCache.get(accountId);
      if (!account) throw new MailError('NOT_FOUND', 'This account no longer exists.');
      return account;
    },
    async password() {
      const password = await secrets.get(secretKey(accountId, 'password'));
      if (password === null) {
        throw new MailError('AUTH_FAILED', 'No password is saved for this account. Enter it again in its settings.');
      }
      return password;
    },
    credentials: (request) => oauth.credentialsFor(contextFor(accountId).account(), request),
    store,
    emit: engineEmit,
    reportConnectivity(state, error) {
      const previous = statusOf(accountId);
      const lastSyncAt = state === 'online' ? new Date().toISOString() : previous.lastSyncAt;
      statuses.set(accountId, { state, error, lastSyncAt });
      emit('connectivity', { accountId, state });
      if (previous.state !== state || previous.error?.code !== error?.code) void announceAccounts();
    },
  });

  const startEngine = (account: Account): AccountEngine => {
    const engine = createEngine(contextFor(account.id), options.engineOptions);
    engines.set(account.id, engine);
    if (options.watch) engine.startWatching();
    return engine;
  };

  const engineFor = (accountId: string): AccountEngine => {
    const engine = engines.get(accountId);
    if (engine) return engine;
    const account = accountCache.get(accountId);
    if (!account) throw new MailError('NOT_FOUND', 'There is no such account.');
    return startEngine(account);
  };

  const stopEngine = async (accountId: string): Promise<void> => {
    const engine = engines.get(accountId);
    engines.delete(accountId);
    if (engine) await engine.close();
  };

  /** Runs a pass in the background; its outcome reaches the UI as connectivity and progress events. */
  const syncInBackground = (accountId: string): void => {
    if (closed) return;
    void engineFor(accountId)
      .syncOnce()
      .catch(() => {
        // Reported through reportConnectivity by the engine; nothing is lost by a failed pass.
      });
  };

  // The index mirrors the account configuration (it carries the account for Maildir rebuilds).
  for (const account of accountCache.values()) {
    if (!store.getAccount(account.id) || JSON.stringify(store.getAccount(account.id)) !== JSON.stringify(account)) {
      await store.upsertAccount(account);
    }
    if (options.watch) startEngine(account);
  }

  const resolveAccount = async (nameOrId: string): Promise<Account> => {
    const all = await accounts.list();
    const found =
      all.find((account) => account.id === nameOrId) ??
      all.find((account) => account.name === nameOrId) ??
      all.find((account) => account.email === nameOrId);
    if (!found) throw new MailError('NOT_FOUND', `There is no account called "${nameOrId}".`);
    return found;
  };

  const actions = createMailActions({
    store,
    account: (accountId) => contextFor(accountId).account(),
    fetchBodies: (accountId, messageIds) => engineFor(accountId).fetchBodies(messageIds),
  });

  const outbox: Outbox = new Outbox({
    store,
    accounts: () => accountCache,
    credentials: (id, request) => oauth.credentialsFor(contextFor(id).account(), request),
    actions,
    emit,
    removeDraft: (draftId: string): Promise<void> => drafts.remove(draftId),
  });

  const drafts: Drafts = new Drafts({
    store,
    account: (accountId) => contextFor(accountId).account(),
    accounts: () => accountCache.values(),
    actions,
    outbox,
    fetchBodies: (accountId, messageIds) => engineFor(accountId).fetchBodies(messageIds),
    syncInBackground,
  });
  // The UI shells count the known addresses ahead of the first completion (slow only the first time).
  const addressWarmUp = options.watch
    ? setTimeout(() => void drafts.indexAddresses().catch(() => undefined), ADDRESS_WARM_UP_DELAY_MS)
    : null;

  const messageHandlers = createMessageHandlers({
    store,
    actions,
    account: (accountId) => contextFor(accountId).account(),
    engineFor,
    syncInBackground,
    outbox,
    work,
    emit,
  });

  const residencyHandlers = createResidencyHandlers({
    store,
    accounts: () => [...accountCache.values()],
    account: (accountId) => contextFor(accountId).account(),
    credentials: (accountId) => credentialSourceOf(contextFor(accountId)),
    engineFor,
    actions,
    emit,
    work,
    updateAccount: async (accountId, changes) => {
      const updated = await accounts.update(accountId, changes);
      await refreshAccountCache();
      await store.upsertAccount(updated);
      await stopEngine(accountId);
      startEngine(updated);
      await announceAccounts();
      return updated;
    },
  });

  const api: MailApi = {
    async getAppInfo() {
      return {
        version: APP_VERSION,
        shell: options.shell === 'electron' ? 'electron' : 'browser',
        profileDir: options.profileDir,
      };
    },

    listAccounts: listAccountViews,

    async addAccount(request) {
      const body = requireObject(request);
      const settings = validateAccountSettings(body.settings);
      // OAuth accounts bring the id of their finished sign-in instead of a password.
      const signInId = settings.auth?.kind === 'oauth2' ? requireString(body, 'signInId') : null;
      if (signInId !== null) oauth.assertSignInReady(signInId, settings);
      const password = signInId === null ? requireString(body, 'password', { maxLength: 4096 }) : null;
      const account = await accounts.add(settings);
      try {
        if (signInId !== null) await oauth.adoptSignIn(signInId, account);
        if (password !== null) await secrets.set(secretKey(account.id, 'password'), password);
        await store.upsertAccount(account);
      } catch (error) {
        await accounts.remove(account.id);
        throw error;
      }
      await refreshAccountCache();
      startEngine(account);
      await announceAccounts();
      syncInBackground(account.id);
      return toView(account);
    },

    async updateAccount(request) {
      const body = requireObject(request);
      const accountId = requireString(body, 'accountId');
      const settings = validateAccountSettings(body.settings);
      const current = await accounts.get(accountId);
      if (settings.mode !== current.mode) {
        throw new MailError(
          'INVALID_INPUT',
          'The mode of an account is changed with "Switch mode", which first shows what would move.',
        );
      }
      const password = optionalString(body, 'password');
      const updated = await accounts.update(accountId, settings);
      if (password) await secrets.set(secretKey(accountId, 'password'), password);
      await refreshAccountCache();
      await store.upsertAccount(updated);
      await stopEngine(accountId);
      startEngine(updated);
      await announceAccounts();
      syncInBackground(accountId);
      return toView(updated);
    },

    async removeAccount(request) {
      const accountId = requireString(requireObject(request), 'accountId');
      await accounts.get(accountId);
      await stopEngine(accountId);
      await store.removeAccount(accountId);
      await secrets.delete(secretKey(accountId, 'password'));
      await oauth.forgetAccount(accountId);
      await accounts.remove(accountId);
      statuses.delete(accountId);
      await refreshAccountCache();
      await announceAccounts();
    },

    async discoverSettings(request) {
      const email = requireString(requireObject(request), 'email', { maxLength: 320 });
      const found = await discoverSettings(email);
      const servers = (list: typeof found.imap) =>
        list.map(({ protocol, host, port, security, username, source }) => ({
          protocol,
          host,
          port,
          security,
          username,
          source,
        }));
      return { ...found, imap: servers(found.imap), pop3: servers(found.pop3), smtp: servers(found.smtp) };
    },

    async testConnection(request) {
      const body = requireObject(request);
      const settings = validateAccountSettings(body.settings);
      if (settings.auth?.kind === 'oauth2') {
        return await testConnection(settings, oauth.credentialsOfSignIn(requireString(body, 'signInId'), settings));
      }
      const password = requireString(body, 'password', { maxLength: 4096 });
      return await testConnection(settings, password);
    },

    async syncAccount(request) {
      const accountId = requireString(requireObject(request), 'accountId');
      try {
        await engineFor(accountId).syncOnce();
      } catch (error) {
        // Stopped by the user (cancelWork): no failure; its last progress event says how far it got.
        if (isCancelled(error)) return;
        throw error;
      }
      await outbox.flush(accountId);
    },

    async cancelWork(request) {
      const body = requireObject(request);
      const accountId = requireString(body, 'accountId');
      const which = optionalEnum(body, 'work', ['sync', 'download', 'switch', 'export'] as const);
      contextFor(accountId).account();
      const engine = engines.get(accountId) ?? null;
      return { stopped: await work.cancel(accountId, which, engine) };
    },

    async exportFolder(request) {
      const body = requireObject(request);
      const folderId = requireString(body, 'folderId');
      const format = optionalEnum(body, 'format', ['mbox', 'eml'] as const);
      if (format === null) throw new MailError('INVALID_INPUT', 'format must be mbox or eml.');
      const folder = store.getFolder(folderId);
      if (!folder) throw new MailError('NOT_FOUND', 'There is no such folder; it may have been deleted.');
      const { accountId } = folder;
      const directory = options.downloadsDir ?? join(homedir(), 'Downloads');
      let last: SyncProgress = { accountId, phase: 'export', folder: folder.name, done: 0, total: 0, bytes: 0 };
      /** The last event: the counts of the last progress, without its Cancel. */
      const ending = (extra: Pick<SyncProgress, 'cancelled'> = {}): SyncProgress => ({
        accountId,
        phase: 'done',
        folder: last.folder,
        done: last.done,
        total: last.total,
        bytes: last.bytes,
        ...extra,
      });
      const task = async (signal: AbortSignal) => {
        try {
          const result = await exportFolder(
            { store, engineFor },
            folderId,
            format,
            { directory },
            {
              signal,
              onProgress(progress) {
                last = { accountId, ...progress, cancellable: 'export' };
                emit('syncProgress', last);
              },
            },
          );
          emit('syncProgress', ending());
          return result;
        } catch (error) {
          const phase = last.phase === 'download' ? 'download' : 'export';
          emit('syncProgress', ending(isCancelled(error) ? { cancelled: { work: 'export', phase } } : {}));
          throw error;
        }
      };
      return await work.run(accountId, 'export', task);
    },

    ...oauth.handlers,
    ...messageHandlers,
    ...createDraftHandlers(drafts, validateOutgoing),
    ...residencyHandlers,
  };

  return {
    api,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    announce: emit,
    internals: { store, accounts, engineFor, outbox, actions, resolveAccount, oauth },
    async close() {
      if (closed) return;
      closed = true;
      if (residencyTimer) clearTimeout(residencyTimer);
      if (addressWarmUp) clearTimeout(addressWarmUp);
      oauth.close();
      unsubscribeStore();
      await Promise.all([...engines.keys()].map((accountId) => stopEngine(accountId)));
      listeners.clear();
      store.close();
    },
  };
}
