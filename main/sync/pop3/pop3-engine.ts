/**
 * The POP3 engine of one account (SEMANTICS: the POP3 column). Each pass is one short session
 * (download-pass.ts); passes, body fetches and server listings never overlap, because a POP3
 * server locks the maildrop per session (RFC 1939 §8; Dovecot answers a second one with [IN-USE]).
 */
import { MailError, toErrorPayload } from '../../../shared/errors';
import type { ConnectivityState } from '../../../shared/model';
import { isCancelled, PassCanceller, type AccountEngine, type EngineContext, type SyncOptions } from '../engine';
import { runDownloadPass, type PassReport, type Pop3Step } from './download-pass';
import { fetchPop3Bodies } from './fetch-bodies';
import type { Pop3Options } from './pop3-options';
import { listPop3Inventory, type Pop3InventoryEntry } from './server-inventory';

export type { Pop3Step, PassReport } from './download-pass';
export type { Pop3Options } from './pop3-options';
export { DEFAULT_POP3_OPTIONS } from './pop3-options';
export type { Pop3InventoryEntry, ServerCopyState } from './server-inventory';
export { listPop3Inventory } from './server-inventory';

export interface Pop3EngineOptions {
  /** The clock for the leave-on-server days (tests move it forward). Default: the system clock. */
  now?: () => Date;
  /** Use RFC 2449 PIPELINING where the server offers it (default true). */
  pipelining?: boolean;
  /** Overrides the account's POP3 options (see pop3-options.ts). */
  pop3Options?: Partial<Pop3Options>;
  /** Called at the engine's own durability steps (after each DELE, after QUIT); for crash tests. */
  onStep?: (step: Pop3Step) => void;
  /** First wait before retrying a failed check while watching; doubles up to the check interval. */
  retryDelayMs?: number;
}

export interface Pop3Engine extends AccountEngine {
  readonly mode: 'pop3';
  /** The last completed pass, for the CLI and tests. */
  readonly lastPass: PassReport | null;
  /** What the server holds now and whether each message is here (for the mode-switch plan). */
  listServer(options?: SyncOptions): Promise<Pop3InventoryEntry[]>;
}

const MILLISECONDS_PER_MINUTE = 60_000;
const DEFAULT_RETRY_DELAY_MS = 30_000;
/** With automatic checking off (interval 0), how often to look whether it was turned on. */
const SETTING_RECHECK_MS = 60_000;
/** Errors that mean "cannot reach the server" rather than "the server refused". */
const OFFLINE_CODES = new Set(['CONNECTION_REFUSED', 'HOST_NOT_FOUND', 'TIMEOUT', 'CONNECTION_LOST']);

/** Anything thrown, as the MailError the service and the renderer understand. */
function asMailError(error: unknown): MailError {
  if (error instanceof MailError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MailError('DISK_FULL', 'The disk is full: new mail could not be saved. Free some space and try again.');
  }
  const payload = toErrorPayload(error);
  return new MailError(payload.code, payload.message, payload.details);
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(finish, milliseconds);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    }
    signal.addEventListener('abort', finish);
  });
}

export function createPop3Engine(context: EngineContext, options: Pop3EngineOptions = {}): Pop3Engine {
  const now = options.now ?? (() => new Date());
  const pipelining = options.pipelining ?? true;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const accountId = context.account().id;
  /** Aborted by close(): stops whatever runs. */
  const lifetime = new AbortController();
  let queue: Promise<unknown> = Promise.resolve();
  let watcher: { controller: AbortController; loop: Promise<void> } | null = null;
  let lastPass: PassReport | null = null;
  /** The user's "Cancel" of the pass running now (engine.ts). */
  const passes = new PassCanceller();

  /** Runs network work one at a time, reporting connectivity around it. */
  function exclusive<T>(work: (signal: AbortSignal) => Promise<T>, syncOptions: SyncOptions = {}): Promise<T> {
    const run = async (): Promise<T> => {
      const signal = syncOptions.signal ? AbortSignal.any([lifetime.signal, syncOptions.signal]) : lifetime.signal;
      if (signal.aborted) throw asMailError(signal.reason);
      context.reportConnectivity('connecting', null);
      try {
        const result = await work(signal);
        context.reportConnectivity('online', null);
        return result;
      } catch (error) {
        const mailError =
          signal.aborted && !(error instanceof MailError)
            ? new MailError(
                'CONNECTION_LOST',
                'The check for new mail was stopped before it finished; nothing was lost.',
              )
            : asMailError(error);
        if (!signal.aborted) {
          const state: ConnectivityState = OFFLINE_CODES.has(mailError.code) ? 'offline' : 'error';
          context.reportConnectivity(state, mailError.toPayload());
        } else if (isCancelled(signal.reason)) context.reportConnectivity('online', null);
        throw mailError;
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  }

  async function watch(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const minutes = context.account().checkIntervalMinutes;
      if (!(minutes > 0)) {
        await sleep(SETTING_RECHECK_MS, signal);
        continue;
      }
      try {
        await engine.syncOnce({ signal });
        failures = 0;
      } catch (error) {
        // A pass the user cancelled is no failure: the next check comes at the usual interval.
        if (!isCancelled(error)) failures += 1;
      }
      const interval = minutes * MILLISECONDS_PER_MINUTE;
      const wait = failures === 0 ? interval : Math.min(interval, retryDelayMs * 2 ** (failures - 1));
      await sleep(wait, signal);
    }
  }

  const engine: Pop3Engine = {
    accountId,
    mode: 'pop3',
    get lastPass() {
      return lastPass;
    },

    async syncOnce(syncOptions = {}) {
      lastPass = await passes.run(
        (passSignal) =>
          exclusive(
            (signal) =>
              runDownloadPass(context, {
                now,
                pipelining,
                optionOverrides: options.pop3Options ?? {},
                onStep: options.onStep,
                signal,
              }),
            { signal: passSignal },
          ),
        syncOptions.signal,
      );
    },

    cancel: () => passes.cancel(),

    async fetchBodies(messageIds, syncOptions = {}) {
      await exclusive((signal) => fetchPop3Bodies(context, messageIds, { pipelining, now, signal }), syncOptions);
    },

    async listServer(syncOptions = {}) {
      return exclusive(() => listPop3Inventory(context), syncOptions);
    },

    startWatching() {
      if (watcher || lifetime.signal.aborted) return;
      const controller = new AbortController();
      watcher = { controller, loop: watch(AbortSignal.any([lifetime.signal, controller.signal])) };
    },

    async stopWatching() {
      const current = watcher;
      watcher = null;
      if (!current) return;
      current.controller.abort(new MailError('CONNECTION_LOST', 'Checking for new mail was stopped.'));
      await current.loop.catch(() => undefined);
    },

    async close() {
      try {
        lifetime.abort(new MailError('CONNECTION_LOST', 'The account was closed.'));
        await engine.stopWatching();
        await queue;
      } catch {
        // close() never throws: the account is going away either way.
      }
    },
  };
  return engine;
}
