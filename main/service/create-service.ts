/**
 * The one service behind every shell: Electron, the browser-mode bridge and the CLI all
 * construct it here and serve `api` unchanged.
 */
import type { MailApi, MailEvent, MailEvents } from '../../shared/api';
import { MailError } from '../../shared/errors';

export type ServiceEventListener = <E extends MailEvent>(name: E, payload: MailEvents[E]) => void;

export interface MailService {
  api: MailApi;
  onEvent(listener: ServiceEventListener): () => void;
  close(): Promise<void>;
}

export interface ServiceOptions {
  profileDir: string;
  shell: 'electron' | 'browser' | 'cli';
}

const VERSION = '0.1.0';

export async function createMailService(options: ServiceOptions): Promise<MailService> {
  const listeners = new Set<ServiceEventListener>();
  const notYet = async (): Promise<never> => {
    throw new MailError('INTERNAL', 'This part of Whereabouts is still being connected.');
  };
  const api: MailApi = {
    getAppInfo: async () => ({
      version: VERSION,
      shell: options.shell === 'electron' ? 'electron' : 'browser',
      profileDir: options.profileDir,
    }),
    listAccounts: async () => [],
    addAccount: notYet,
    removeAccount: notYet,
    testConnection: notYet,
    listFolders: notYet,
    listMessages: notYet,
    getMessage: notYet,
    syncAccount: notYet,
    updateAccount: notYet,
    getRawMessage: notYet,
    setFlags: notYet,
    moveMessages: notYet,
    copyMessages: notYet,
    deleteMessages: notYet,
    createFolder: notYet,
    renameFolder: notYet,
    deleteFolder: notYet,
    downloadMessages: notYet,
    search: notYet,
    sendMessage: notYet,
    listOutbox: notYet,
    getResidency: notYet,
    planChange: notYet,
    switchMode: notYet,
  };
  return {
    api,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
    },
  };
}
