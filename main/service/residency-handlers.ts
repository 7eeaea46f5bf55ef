/**
 * The contract's residency methods: the live "where is my mail?" report, the what-if plan of a
 * proposed change, and the mode switch that runs that same plan.
 */
import type { MailApi, MailEvent, MailEvents, ProposedChange } from '../../shared/api';
import { MailError } from '../../shared/errors';
import type { Account } from '../../shared/model';
import { validateEndpoint, validateLeaveOnServer } from '../accounts/account-settings';
import { previewChange, switchMode } from '../residency/mode-switch';
import { residencyReport } from '../residency/report';
import type { MessageStore } from '../store/message-store';
import type { CredentialSource } from '../oauth/credentials';
import type { UserActions } from '../sync/actions';
import type { AccountEngine } from '../sync/engine';
import { optionalString, requireObject, requireString } from './validate';
import type { WorkControl } from './work-control';

export interface ResidencyHandlerDependencies {
  store: MessageStore;
  accounts(): Account[];
  account(accountId: string): Account;
  credentials(accountId: string): CredentialSource;
  engineFor(accountId: string): AccountEngine;
  actions: UserActions;
  updateAccount(accountId: string, changes: Partial<Account>): Promise<Account>;
  emit<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
  /** Makes a switch cancellable until it is committed (cancelWork); absent, it runs to the end. */
  work?: WorkControl;
}

type ResidencyHandlers = Pick<MailApi, 'getResidency' | 'planChange' | 'switchMode'>;

/** Checks a proposed change arriving from the renderer or the CLI. */
export function validateChange(value: unknown): ProposedChange {
  const change = requireObject(value, 'The proposed change');
  const server =
    change.server === undefined || change.server === null ? null : validateEndpoint(change.server, 'target');
  switch (change.kind) {
    case 'switch-mode':
      if (change.to === 'pop3') {
        return {
          kind: 'switch-mode',
          to: 'pop3',
          leaveOnServer: validateLeaveOnServer(change.leaveOnServer),
          allFolders: change.allFolders === true,
          server,
        };
      }
      if (change.to === 'imap') {
        return { kind: 'switch-mode', to: 'imap', uploadLocalTo: optionalString(change, 'uploadLocalTo'), server };
      }
      throw new MailError('INVALID_INPUT', 'A mode switch goes "to" imap or pop3.');
    case 'leave-on-server':
      return { kind: 'leave-on-server', leaveOnServer: validateLeaveOnServer(change.leaveOnServer) };
    case 'keep-offline':
      return { kind: 'keep-offline', folderId: requireString(change, 'folderId'), keep: change.keep === true };
    default:
      throw new MailError('INVALID_INPUT', 'Unknown kind of change.');
  }
}

export function createResidencyHandlers(deps: ResidencyHandlerDependencies): ResidencyHandlers {
  const switchDependencies = (accountId: string) => ({
    store: deps.store,
    account: () => deps.account(accountId),
    credentials: deps.credentials(accountId),
    engine: () => deps.engineFor(accountId),
    actions: deps.actions,
    updateAccount: (changes: Partial<Account>) => deps.updateAccount(accountId, changes),
    emit: deps.emit,
  });

  return {
    async getResidency(request) {
      const accountId = request ? optionalString(requireObject(request), 'accountId') : null;
      const accounts = accountId ? [deps.account(accountId)] : deps.accounts();
      return residencyReport(deps.store, accounts);
    },

    async planChange(request) {
      const body = requireObject(request);
      const accountId = requireString(body, 'accountId');
      return await previewChange(switchDependencies(accountId), validateChange(body.change));
    },

    async switchMode(request) {
      const body = requireObject(request);
      const accountId = requireString(body, 'accountId');
      const change = validateChange(body.change);
      const run = (signal?: AbortSignal) =>
        switchMode({ ...switchDependencies(accountId), ...(signal ? { signal } : {}) }, change);
      try {
        return deps.work ? await deps.work.run(accountId, 'switch', run) : await run();
      } finally {
        // Also after a stopped switch: the copies it downloaded changed where the mail is.
        deps.emit('residencyChanged', { accountIds: [accountId] });
      }
    },
  };
}
