/**
 * The user's "Cancel" for long work (cancelWork): an account's sync pass, a download the user asked
 * for, a mode switch before it is committed, a folder export. Each stops at its next safe point
 * (between header batches, between messages, between folders); what is durably stored stays and
 * counts, nothing half-written does. The work then ends with one last syncProgress event, phase
 * 'done', whose `cancelled` names what was stopped and whose counts say how far it got.
 *
 * Sync passes belong to the engine (AccountEngine.cancel); their progress events pass through here
 * on their way to the renderer, which marks them cancellable and remembers the last one for the
 * final event. Downloads, switches and exports run here (`run`) with a signal of their own and
 * emit their final event themselves, since they know their counts.
 */
import type { CancellableWork, SyncProgress } from '../../shared/model';
import { cancelledError, isCancelled, type AccountEngine } from '../sync/engine';

interface RunningWork {
  work: Exclude<CancellableWork, 'sync'>;
  controller: AbortController;
  done: Promise<unknown>;
}

export class WorkControl {
  /** The last progress of each account's running sync pass (for the final event of a cancel). */
  private readonly lastSync = new Map<string, SyncProgress>();
  /** Accounts whose pass is being cancelled: the engine's own "done" waits here (null until it comes). */
  private readonly heldDone = new Map<string, SyncProgress | null>();
  private readonly running = new Map<string, Set<RunningWork>>();

  constructor(private readonly emit: (progress: SyncProgress) => void) {}

  /** An engine's progress event on its way to the renderer. */
  engineProgress(progress: SyncProgress): void {
    const { accountId } = progress;
    if (progress.phase === 'done') {
      if (this.heldDone.has(accountId)) {
        this.heldDone.set(accountId, progress);
      } else {
        this.lastSync.delete(accountId);
        this.emit(progress);
      }
      return;
    }
    const decorated: SyncProgress = { ...progress, cancellable: 'sync' };
    this.lastSync.set(accountId, decorated);
    this.emit(decorated);
  }

  /** Runs a download or a switch that `cancel` can stop through the signal it is given. */
  run<T>(accountId: string, work: RunningWork['work'], task: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let start = (): void => undefined;
    const done = new Promise<T>((resolve, reject) => {
      start = () => {
        try {
          resolve(task(controller.signal));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      };
    });
    const entry: RunningWork = { work, controller, done };
    const set = this.running.get(accountId) ?? new Set<RunningWork>();
    set.add(entry);
    this.running.set(accountId, set);
    // Registered before it starts: a Cancel pressed on its very first progress event reaches it.
    start();
    const forget = (): void => {
      set.delete(entry);
      if (set.size === 0 && this.running.get(accountId) === set) this.running.delete(accountId);
    };
    done.then(forget, forget);
    return done;
  }

  /** Is any of this work running for the account now? */
  isRunning(accountId: string, work: CancellableWork): boolean {
    if (work === 'sync') return this.lastSync.has(accountId);
    return [...(this.running.get(accountId) ?? [])].some((entry) => entry.work === work);
  }

  /**
   * Stops the account's work of this kind (all of it when `work` is null) and waits until it has
   * stopped. True when some work actually stopped early (work that finished meanwhile does not count).
   */
  async cancel(accountId: string, work: CancellableWork | null, engine: AccountEngine | null): Promise<boolean> {
    const waits: Array<Promise<boolean>> = [];
    for (const entry of this.running.get(accountId) ?? []) {
      if (work !== null && entry.work !== work) continue;
      entry.controller.abort(cancelledError());
      waits.push(
        entry.done.then(
          () => false,
          (error: unknown) => isCancelled(error),
        ),
      );
    }
    if ((work === null || work === 'sync') && engine) waits.push(this.cancelSync(accountId, engine));
    const outcomes = await Promise.all(waits);
    return outcomes.some(Boolean);
  }

  private async cancelSync(accountId: string, engine: AccountEngine): Promise<boolean> {
    // A second cancel while the first is still waiting only waits too.
    if (this.heldDone.has(accountId)) return engine.cancel();
    this.heldDone.set(accountId, null);
    let stopped = false;
    try {
      stopped = await engine.cancel();
    } finally {
      // The pass's last progress before it stopped: a batch already on its way when Cancel came is counted.
      const last = this.lastSync.get(accountId) ?? null;
      const held = this.heldDone.get(accountId) ?? null;
      this.heldDone.delete(accountId);
      this.lastSync.delete(accountId);
      if (stopped) {
        this.emit({
          accountId,
          phase: 'done',
          folder: last?.folder ?? null,
          done: last?.done ?? 0,
          total: last?.total ?? 0,
          bytes: last?.bytes ?? 0,
          cancelled: { work: 'sync', phase: last && last.phase !== 'done' ? last.phase : 'folders' },
        });
      } else if (held) {
        this.emit(held);
      }
    }
    return stopped;
  }
}
