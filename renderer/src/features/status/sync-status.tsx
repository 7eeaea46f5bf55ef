/**
 * Long work in progress, from syncProgress events: initial sync, big downloads, uploads, sending,
 * a mode switch. One line per account that is busy; gone when it reports "done".
 */
import type { AccountView, SyncProgress } from '../../../../shared/model';
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
  done: 'Up to date',
};

export function SyncStatus({
  progress,
  accounts,
}: {
  progress: Record<string, SyncProgress>;
  accounts: AccountView[];
}) {
  const busy = Object.values(progress).filter((item) => item.phase !== 'done');
  if (busy.length === 0) return null;
  return (
    <div className="sync-status" role="status" aria-live="polite">
      {busy.map((item) => {
        const account = accounts.find((candidate) => candidate.id === item.accountId);
        const figures =
          item.total > 0
            ? `${formatCount(item.done)} of ${formatCount(item.total)}`
            : item.done > 0
              ? formatCount(item.done)
              : '';
        return (
          <div key={item.accountId} className="sync-status__item">
            <p className="sync-status__text">
              <strong>{account?.name ?? 'Account'}</strong> · {PHASE_TEXT[item.phase]}
              {item.folder ? ` in ${item.folder}` : ''}
              {figures && ` · ${figures}`}
              {item.bytes > 0 && ` · ${formatBytes(item.bytes)}`}
            </p>
            <ProgressBar
              value={item.done}
              maximum={item.total}
              label={`${account?.name ?? 'Account'}: ${PHASE_TEXT[item.phase]}`}
            />
          </div>
        );
      })}
    </div>
  );
}
