/**
 * Where every message lives, aggregated (SEMANTICS S9, S14): per folder, per account and overall,
 * counts and bytes only on the server, only here, and both; the server quota as last reported
 * (IMAP QUOTA), and the disk the account's mail uses here.
 */
import type { AccountResidency, ResidencyReport } from '../../shared/api';
import type { Account, ResidencyTotals } from '../../shared/model';
import type { MessageStore } from '../store/message-store';
import type { PlanFolder, PlanInput, PlanMessage } from './plan';

/** The warning the user sees before "quota exceeded" (S9). */
export const QUOTA_WARNING_RATIO = 0.9;

/** Key under which the IMAP engine records the last QUOTA answer (sync_state). */
export const QUOTA_STATE_KEY = 'quota';

export interface RecordedQuota {
  usage: number;
  limit: number;
  checkedAt: string;
}

function isRecordedQuota(value: unknown): value is RecordedQuota {
  const quota = value as Partial<RecordedQuota> | null;
  return typeof quota?.usage === 'number' && typeof quota.limit === 'number' && quota.limit > 0;
}

function addTotals(into: ResidencyTotals, add: ResidencyTotals): void {
  for (const key of ['server', 'local', 'both'] as const) {
    into[key].count += add[key].count;
    into[key].bytes += add[key].bytes;
  }
}

export function emptyTotals(): ResidencyTotals {
  return { server: { count: 0, bytes: 0 }, local: { count: 0, bytes: 0 }, both: { count: 0, bytes: 0 } };
}

export function accountResidency(store: MessageStore, account: Account): AccountResidency {
  const byFolder = store.residencyTotalsByFolder(account.id);
  const folders = store.listFolderRecords(account.id);
  const quota = store.getSyncState(account.id, QUOTA_STATE_KEY);
  const totals = store.residencyTotals({ accountId: account.id });
  // POP3 copies left on the server of messages deleted here have no row, but they live on the
  // server only: they count there, in the inbox they came from.
  // (In IMAP mode the server is listed directly: its messages have rows of their own.)
  const leftOnServer = account.mode === 'pop3' ? store.popLeftOnServer(account.id) : { count: 0, bytes: 0 };
  const popInbox = folders.find((folder) => folder.kind === 'local' && folder.role === 'inbox');
  if (leftOnServer.count > 0) {
    totals.server.count += leftOnServer.count;
    totals.server.bytes += leftOnServer.bytes;
    if (popInbox) {
      const inboxTotals = byFolder.get(popInbox.id) ?? emptyTotals();
      inboxTotals.server.count += leftOnServer.count;
      inboxTotals.server.bytes += leftOnServer.bytes;
      byFolder.set(popInbox.id, inboxTotals);
    }
  }
  const confirmed = folders
    .map((folder) => folder.lastSyncAt)
    .filter((at): at is string => at !== null)
    .sort();
  return {
    accountId: account.id,
    mode: account.mode,
    totals,
    folders: folders.map((folder) => ({
      folderId: folder.id,
      path: folder.path,
      kind: folder.kind,
      totals: byFolder.get(folder.id) ?? emptyTotals(),
    })),
    quota: isRecordedQuota(quota)
      ? { usage: quota.usage, limit: quota.limit, warning: quota.usage >= quota.limit * QUOTA_WARNING_RATIO }
      : null,
    // The bytes of every message whose file is here: local-only plus both.
    diskBytes: totals.local.bytes + totals.both.bytes,
    confirmedAt: confirmed.length > 0 ? confirmed[confirmed.length - 1] : null,
  };
}

export function residencyReport(store: MessageStore, accounts: readonly Account[]): ResidencyReport {
  const reports = accounts.map((account) => accountResidency(store, account));
  const totals = emptyTotals();
  for (const report of reports) addTotals(totals, report.totals);
  return { accounts: reports, totals, diskBytes: reports.reduce((sum, report) => sum + report.diskBytes, 0) };
}

/** A snapshot of the account for the planner. */
export function planInput(store: MessageStore, account: Account, now = new Date()): PlanInput {
  const folderRecords = store.listFolderRecords(account.id);
  const folders: PlanFolder[] = folderRecords.map((folder) => ({
    id: folder.id,
    path: folder.path,
    kind: folder.kind,
    role: folder.role,
    keepOffline: folder.keepOffline,
  }));
  const messages: PlanMessage[] = folderRecords.flatMap((folder) =>
    store.listFolderMessages(folder.id).map((record) => ({
      id: record.id,
      folderId: record.folderId,
      subject: record.subject,
      messageIdHeader: record.messageId,
      size: record.size,
      residency: record.residency,
      popUidl: record.popUidl,
      downloadedAt: record.downloadedAt,
    })),
  );
  return { accountId: account.id, mode: account.mode, folders, messages, now };
}
