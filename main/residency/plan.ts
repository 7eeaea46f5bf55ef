/**
 * The what-if planner (SEMANTICS S13, S14): for a proposed change of mode or setting, the exact
 * messages that would be downloaded, uploaded, deleted on the server by a later policy run, or
 * become unreachable — and the residency right after the change has run. Pure: it reads a
 * snapshot of the account's folders and messages; the mode switch executes this same plan, so
 * what the preview shows is what the switch does.
 */
import type { ChangePlan, PlanEntry, ProposedChange } from '../../shared/api';
import type { ByteCount, LeaveOnServer, Residency, ResidencyTotals } from '../../shared/model';

export interface PlanFolder {
  id: string;
  path: string;
  kind: 'server' | 'local';
  role: string | null;
  keepOffline: boolean;
}

export interface PlanMessage {
  id: string;
  folderId: string;
  subject: string;
  messageIdHeader: string | null;
  size: number;
  residency: Residency;
  popUidl: string | null;
  downloadedAt: string | null;
}

export interface PlanInput {
  accountId: string;
  mode: 'imap' | 'pop3';
  folders: readonly PlanFolder[];
  messages: readonly PlanMessage[];
  now: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function emptyCount(): ByteCount {
  return { count: 0, bytes: 0 };
}

function sum(entries: readonly PlanEntry[]): ByteCount {
  return { count: entries.length, bytes: entries.reduce((total, entry) => total + entry.bytes, 0) };
}

export function totalsOf(residencies: Iterable<{ residency: Residency; size: number }>): ResidencyTotals {
  const totals: ResidencyTotals = { server: emptyCount(), local: emptyCount(), both: emptyCount() };
  for (const { residency, size } of residencies) {
    totals[residency].count++;
    totals[residency].bytes += size;
  }
  return totals;
}

/** Whether the leave-a-copy policy deletes this downloaded message's server copy (S10). */
export function policyDeletes(policy: LeaveOnServer, downloadedAt: string | null, now: Date): boolean {
  switch (policy.kind) {
    case 'off':
      return true;
    case 'forever':
    case 'until-deleted':
      return false;
    case 'days': {
      const downloaded = downloadedAt ? Date.parse(downloadedAt) : now.getTime();
      return now.getTime() - downloaded >= policy.days * DAY_MS;
    }
  }
}

/** A stable key for "the same message" across protocols: Message-ID plus size (DESIGN.md). */
export function duplicateKey(message: { messageIdHeader: string | null; size: number }): string | null {
  return message.messageIdHeader ? `${message.messageIdHeader}\u0000${message.size}` : null;
}

export function planChange(input: PlanInput, change: ProposedChange): ChangePlan {
  const folders = new Map(input.folders.map((folder) => [folder.id, folder]));
  const entry = (message: PlanMessage): PlanEntry => ({
    messageId: message.id,
    subject: message.subject,
    folder: folders.get(message.folderId)?.path ?? '',
    bytes: message.size,
  });
  const download: PlanMessage[] = [];
  const upload: PlanMessage[] = [];
  const deleteOnServer: PlanMessage[] = [];
  const unreachable: PlanMessage[] = [];
  let skippedDuplicates = 0;
  const after = new Map(input.messages.map((message) => [message.id, message.residency]));

  const isInbox = (folder: PlanFolder | undefined): boolean =>
    folder !== undefined && (folder.role === 'inbox' || folder.path.toUpperCase() === 'INBOX');

  if (change.kind === 'switch-mode' && change.to === 'pop3') {
    for (const message of input.messages) {
      const folder = folders.get(message.folderId);
      if (!folder || folder.kind !== 'server') continue;
      const reachable = isInbox(folder);
      if (message.residency === 'server') {
        if (reachable || change.allFolders) {
          download.push(message);
          after.set(message.id, 'both');
        } else {
          // Stays on the server, where POP3 cannot reach it: the switch says so before it runs.
          unreachable.push(message);
        }
      }
      if (
        reachable &&
        message.residency !== 'local' &&
        policyDeletes(change.leaveOnServer, message.downloadedAt, input.now)
      ) {
        deleteOnServer.push(message);
      }
    }
  } else if (change.kind === 'switch-mode' && change.to === 'imap') {
    // Server folders kept for offline reading (INBOX, Sent, Drafts by default) get their bodies
    // downloaded by the first IMAP sync: the preview lists them.
    for (const message of input.messages) {
      const folder = folders.get(message.folderId);
      if (folder?.kind === 'server' && folder.keepOffline && message.residency === 'server') {
        download.push(message);
        after.set(message.id, 'both');
      }
    }
    if (change.uploadLocalTo !== null) {
      const onServer = new Set(
        input.messages
          .filter((message) => message.residency !== 'local')
          .map(duplicateKey)
          .filter((key): key is string => key !== null),
      );
      const seen = new Set<string>();
      for (const message of input.messages) {
        const folder = folders.get(message.folderId);
        if (message.residency !== 'local' || !folder || folder.kind !== 'local' || folder.role === 'outbox') continue;
        const key = duplicateKey(message);
        if (key !== null && (onServer.has(key) || seen.has(key))) {
          skippedDuplicates++;
          continue;
        }
        if (key !== null) seen.add(key);
        upload.push(message);
        after.set(message.id, 'both');
      }
    }
  } else if (change.kind === 'leave-on-server') {
    if (input.mode === 'pop3') {
      for (const message of input.messages) {
        if (
          message.popUidl !== null &&
          message.residency === 'both' &&
          policyDeletes(change.leaveOnServer, message.downloadedAt, input.now)
        ) {
          deleteOnServer.push(message);
        }
      }
    }
  } else if (change.kind === 'keep-offline') {
    if (change.keep) {
      for (const message of input.messages) {
        if (message.folderId === change.folderId && message.residency === 'server') {
          download.push(message);
          after.set(message.id, 'both');
        }
      }
    }
  }

  const plan = {
    download: download.map(entry),
    upload: upload.map(entry),
    deleteOnServer: deleteOnServer.map(entry),
    unreachable: unreachable.map(entry),
  };
  return {
    accountId: input.accountId,
    change,
    ...plan,
    skippedDuplicates,
    totals: {
      download: sum(plan.download),
      upload: sum(plan.upload),
      deleteOnServer: sum(plan.deleteOnServer),
      unreachable: sum(plan.unreachable),
    },
    after: totalsOf(
      input.messages.map((message) => ({ residency: after.get(message.id) ?? message.residency, size: message.size })),
    ),
  };
}
