/**
 * Long work in progress, from syncProgress events: initial sync, big downloads, uploads, sending,
 * a mode switch. One line per account that is busy; gone when it reports "done". Work the service
 * marks cancellable has a Cancel button (cancelWork); once stopped, a note says how far it got and
 * what happens to the rest, until the user dismisses it.
 */
import { useState } from 'react';
import type { AccountView, SyncProgress } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';
import { formatBytes, formatCount } from '../../components/format';
import { ProgressBar } from '../../components/progress';

const PHASE_TEXT: Record<SyncProgress['phase'], string> = {
  folders: 'Reading folders',
  headers: 'Fetching message headers',
  bodies: 'Downloading messages',
  download: 'Downloading messages',
  upload: 'Uploading to the server',
  send: 'Sending',
  switch: 'Switching mode',
  export: 'Exporting messages',
  done: 'Up to date',
};

const WORK_TEXT: Record<NonNullable<SyncProgress['cancellable']>, string> = {
  sync: 'sync',
  download: 'download',
  switch: 'mode switch',
  export: 'export',
};

/** How long a "stopped" note stays by itself (it can be dismissed sooner). */
const STOPPED_VISIBLE_MS = 20_000;

/** What the last event of stopped work tells the user: how far it got, and what becomes of the rest. */
export function stoppedText(item: SyncProgress): string {
  const cancelled = item.cancelled;
  if (!cancelled) return '';
  const counted = item.total > 0 ? `${formatCount(item.done)} of ${formatCount(item.total)}` : formatCount(item.done);
  const where = item.folder ? ` in ${item.folder}` : '';
  switch (cancelled.work) {
    case 'download':
      return `Download stopped: ${counted} messages downloaded. The rest stay on the server; download them again whenever you like.`;
    case 'switch':
      if (cancelled.phase === 'upload') {
        return `Mode switch stopped after the account changed mode: ${counted} messages queued for upload; the rest stay on this computer.`;
      }
      if (item.done === 0) return 'Mode switch stopped before it changed anything. The account keeps its mode.';
      return `Mode switch stopped: ${counted} messages downloaded and kept on this computer. The account keeps its mode.`;
    case 'export':
      if (cancelled.phase === 'download') {
        return `Export stopped while downloading: ${counted} messages downloaded and kept; nothing was exported.`;
      }
      return `Export stopped after ${counted} messages; the unfinished export was removed.`;
    case 'sync':
      if (cancelled.phase === 'headers') {
        return `Sync stopped: ${counted} messages listed${where}. The rest will be listed on the next sync.`;
      }
      if (cancelled.phase === 'bodies' || cancelled.phase === 'download') {
        return `Sync stopped: ${counted} messages downloaded${where}. The rest will download on the next sync.`;
      }
      return 'Sync stopped. It continues where it left off on the next sync.';
  }
}

export function SyncStatus({
  progress,
  accounts,
}: {
  progress: Record<string, SyncProgress>;
  accounts: AccountView[];
}) {
  const api = useMailApi();
  /** Accounts whose Cancel was pressed and whose work has not ended yet. */
  const [stopping, setStopping] = useState<ReadonlySet<string>>(new Set());
  /** The last event of stopped work, per account, until dismissed. */
  const [stopped, setStopped] = useState<Record<string, SyncProgress>>({});
  const [failure, setFailure] = useState<string | null>(null);

  const dismiss = (accountId: string, item?: SyncProgress): void =>
    setStopped((previous) => {
      if (!(accountId in previous) || (item && previous[accountId] !== item)) return previous;
      const next = { ...previous };
      delete next[accountId];
      return next;
    });

  useMailEvent('syncProgress', (item) => {
    if (item.phase !== 'done' && !item.cancelled) return;
    setStopping((previous) => {
      if (!previous.has(item.accountId)) return previous;
      const next = new Set(previous);
      next.delete(item.accountId);
      return next;
    });
    if (item.cancelled) {
      setStopped((previous) => ({ ...previous, [item.accountId]: item }));
      setTimeout(() => dismiss(item.accountId, item), STOPPED_VISIBLE_MS);
    }
  });

  async function stop(item: SyncProgress): Promise<void> {
    if (!item.cancellable) return;
    setFailure(null);
    setStopping((previous) => new Set(previous).add(item.accountId));
    try {
      const { stopped: didStop } = await api.cancelWork({ accountId: item.accountId, work: item.cancellable });
      if (!didStop) {
        // It finished (or had ended) before the cancel reached it.
        setStopping((previous) => {
          const next = new Set(previous);
          next.delete(item.accountId);
          return next;
        });
      }
    } catch (error) {
      setStopping((previous) => {
        const next = new Set(previous);
        next.delete(item.accountId);
        return next;
      });
      setFailure(describeError(error).title);
    }
  }

  const nameOf = (accountId: string): string =>
    accounts.find((candidate) => candidate.id === accountId)?.name ?? 'Account';
  const busy = Object.values(progress).filter((item) => item.phase !== 'done');
  const notes = Object.values(stopped);
  if (busy.length === 0 && notes.length === 0 && failure === null) return null;
  return (
    <div className="sync-status" role="status" aria-live="polite">
      {busy.map((item) => {
        const name = nameOf(item.accountId);
        const figures =
          item.total > 0
            ? `${formatCount(item.done)} of ${formatCount(item.total)}`
            : item.done > 0
              ? formatCount(item.done)
              : '';
        const isStopping = stopping.has(item.accountId);
        return (
          <div key={item.accountId} className="sync-status__item">
            <div className="sync-status__row">
              <p className="sync-status__text">
                <strong>{name}</strong> · {PHASE_TEXT[item.phase]}
                {item.folder ? ` in ${item.folder}` : ''}
                {figures && ` · ${figures}`}
                {item.bytes > 0 && ` · ${formatBytes(item.bytes)}`}
              </p>
              {item.cancellable && (
                <button
                  type="button"
                  className="button button--small sync-status__stop"
                  onClick={() => void stop(item)}
                  disabled={isStopping}
                  aria-label={`Cancel the ${WORK_TEXT[item.cancellable]} of ${name}`}
                >
                  {isStopping ? 'Cancelling…' : 'Cancel'}
                </button>
              )}
            </div>
            <ProgressBar value={item.done} maximum={item.total} label={`${name}: ${PHASE_TEXT[item.phase]}`} />
          </div>
        );
      })}
      {notes.map((item) => (
        <div key={`stopped-${item.accountId}`} className="sync-status__row sync-status__stopped">
          <p className="sync-status__text">
            <strong>{nameOf(item.accountId)}</strong> · {stoppedText(item)}
          </p>
          <button
            type="button"
            className="button button--small"
            onClick={() => dismiss(item.accountId)}
            aria-label={`Dismiss the note about ${nameOf(item.accountId)}`}
          >
            OK
          </button>
        </div>
      ))}
      {failure !== null && <p className="sync-status__text">Could not cancel: {failure}</p>}
    </div>
  );
}
