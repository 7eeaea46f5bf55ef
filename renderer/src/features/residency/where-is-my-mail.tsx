/**
 * "Where is my mail?" (SEMANTICS S14): for all accounts or one, server and this computer side by
 * side, by folder, with the server quota and this computer's disk use. Live: re-asked whenever
 * the service reports residencyChanged.
 */
import type { AccountResidency } from '../../../../shared/api';
import type { AccountView } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';
import { useQuery } from '../../api/use-query';
import { formatBytes, formatCount, formatRelative } from '../../components/format';
import { Icon } from '../../components/icons';
import { QuotaGauge } from './quota-gauge';
import { ResidencyBar, ResidencySummary } from './residency-bar';

export function WhereIsMyMail({
  accounts,
  accountId,
  onChooseAccount,
  onSwitchMode,
}: {
  accounts: AccountView[];
  accountId: string | null;
  onChooseAccount(accountId: string | null): void;
  onSwitchMode(account: AccountView): void;
}) {
  const api = useMailApi();
  const report = useQuery(`residency:${accountId ?? '*'}`, () => api.getResidency({ accountId }));
  useMailEvent('residencyChanged', (payload) => {
    if (accountId === null || payload.accountIds.includes(accountId)) report.reload();
  });
  const data = report.data;
  return (
    <main className="pane pane--wide residency-page" aria-labelledby="residency-title">
      <header className="page-header page-header--split">
        <div>
          <h1 id="residency-title">Where is my mail?</h1>
          <p className="muted">Each message is on the server, on this computer, or in both places.</p>
        </div>
        <label className="select-chip select-chip--large">
          <span className="visually-hidden">Show</span>
          <select
            value={accountId ?? ''}
            onChange={(event) => onChooseAccount(event.target.value === '' ? null : event.target.value)}
          >
            <option value="">All accounts</option>
            {accounts.map((account) => (
              <option key={account.id} value={account.id}>
                {account.name}
              </option>
            ))}
          </select>
        </label>
      </header>
      {report.error !== null && (
        <div className="callout callout--error" role="alert">
          <Icon name="warning" />
          <div>
            <p className="callout__title">The overview could not be worked out. {describeError(report.error).title}</p>
            <button type="button" className="button button--small" onClick={report.reload}>
              Try again
            </button>
          </div>
        </div>
      )}
      {data === null && report.error === null && <p className="muted">Counting…</p>}
      {data !== null && (
        <>
          <ResidencySummary totals={data.totals} label={accountId === null ? 'All accounts' : 'This account'} />
          <p className="disk-use">
            <Icon name="computer" /> Mail uses <strong>{formatBytes(data.diskBytes)}</strong> of this computer’s disk.
          </p>
          {data.accounts.map((residency) => {
            const account = accounts.find((candidate) => candidate.id === residency.accountId);
            return (
              <AccountSection
                key={residency.accountId}
                residency={residency}
                account={account ?? null}
                onSwitchMode={onSwitchMode}
              />
            );
          })}
        </>
      )}
    </main>
  );
}

function AccountSection({
  residency,
  account,
  onSwitchMode,
}: {
  residency: AccountResidency;
  account: AccountView | null;
  onSwitchMode(account: AccountView): void;
}) {
  const mode = residency.mode === 'imap' ? 'IMAP' : 'POP3';
  const other = residency.mode === 'imap' ? 'POP3' : 'IMAP';
  return (
    <section className="residency-account" aria-labelledby={`residency-${residency.accountId}`}>
      <header className="residency-account__header">
        <div>
          <h2 id={`residency-${residency.accountId}`}>
            {account?.name ?? residency.accountId} <span className="mode-badge">{mode}</span>
          </h2>
          <p className="muted">
            Server copies last confirmed {formatRelative(residency.confirmedAt)} · {formatBytes(residency.diskBytes)} on
            this computer
          </p>
        </div>
        {account !== null && (
          <button type="button" className="button" onClick={() => onSwitchMode(account)}>
            Switch to {other}…
          </button>
        )}
      </header>
      {residency.quota !== null && <QuotaGauge quota={residency.quota} />}
      <table className="residency-table">
        <caption className="visually-hidden">Messages by folder and where they are</caption>
        <thead>
          <tr>
            <th scope="col">Folder</th>
            <th scope="col" className="residency-table__bar-column">
              <span className="visually-hidden">Proportions</span>
            </th>
            <th scope="col" className="numeric">
              <Icon name="server" size={14} /> Only on the server
            </th>
            <th scope="col" className="numeric">
              <Icon name="both" size={14} /> Both
            </th>
            <th scope="col" className="numeric">
              <Icon name="computer" size={14} /> Only here
            </th>
          </tr>
        </thead>
        <tbody>
          {residency.folders.map((folder) => (
            <tr key={folder.folderId}>
              <th scope="row">
                <Icon name={folder.kind === 'local' ? 'computer' : 'folder'} size={14} /> {folder.path}
                {folder.kind === 'local' && <span className="muted"> (this computer)</span>}
              </th>
              <td className="residency-table__bar-column">
                <ResidencyBar totals={folder.totals} />
              </td>
              <td className="numeric">
                {formatCount(folder.totals.server.count)}
                <span className="muted"> · {formatBytes(folder.totals.server.bytes)}</span>
              </td>
              <td className="numeric">
                {formatCount(folder.totals.both.count)}
                <span className="muted"> · {formatBytes(folder.totals.both.bytes)}</span>
              </td>
              <td className="numeric">
                {formatCount(folder.totals.local.count)}
                <span className="muted"> · {formatBytes(folder.totals.local.bytes)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
