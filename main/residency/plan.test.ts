import { describe, expect, it } from 'vitest';
import { planChange, policyDeletes, type PlanInput, type PlanMessage } from './plan';

const now = new Date('2026-11-22T12:00:00Z');
const daysAgo = (days: number): string => new Date(now.getTime() - days * 86_400_000).toISOString();

function message(
  id: string,
  folderId: string,
  residency: PlanMessage['residency'],
  extra: Partial<PlanMessage> = {},
): PlanMessage {
  return {
    id,
    folderId,
    subject: id,
    messageIdHeader: `<${id}@test>`,
    size: 100,
    residency,
    popUidl: null,
    downloadedAt: null,
    ...extra,
  };
}

const imapAccount: PlanInput = {
  accountId: 'a',
  mode: 'imap',
  now,
  folders: [
    { id: 'inbox', path: 'INBOX', kind: 'server', role: 'inbox', keepOffline: true },
    { id: 'archive', path: 'Archive', kind: 'server', role: null, keepOffline: false },
    { id: 'notes', path: 'Notes', kind: 'local', role: null, keepOffline: true },
  ],
  messages: [
    message('i1', 'inbox', 'both'),
    message('i2', 'inbox', 'server', { size: 300 }),
    message('a1', 'archive', 'server', { size: 50 }),
    message('a2', 'archive', 'both'),
    message('n1', 'notes', 'local'),
  ],
};

describe('what-if planner', () => {
  it('S13 switch to POP3 downloads what POP3 needs, lists what it cannot reach, and deletes nothing itself', () => {
    const plan = planChange(imapAccount, { kind: 'switch-mode', to: 'pop3', leaveOnServer: { kind: 'forever' } });
    expect(plan.download.map((entry) => entry.messageId)).toEqual(['i2']);
    expect(plan.totals.download).toEqual({ count: 1, bytes: 300 });
    expect(plan.unreachable.map((entry) => entry.messageId)).toEqual(['a1']);
    expect(plan.deleteOnServer).toEqual([]);
    // After the switch: i1, i2, a2 are here and on the server; a1 still only there; n1 only here.
    expect(plan.after).toEqual({
      server: { count: 1, bytes: 50 },
      local: { count: 1, bytes: 100 },
      both: { count: 3, bytes: 500 },
    });
  });

  it('S13 switch to POP3 with every folder downloads the other folders too, and "off" lists later server deletions', () => {
    const plan = planChange(imapAccount, {
      kind: 'switch-mode',
      to: 'pop3',
      leaveOnServer: { kind: 'off' },
      allFolders: true,
    });
    expect(plan.download.map((entry) => entry.messageId).sort()).toEqual(['a1', 'i2']);
    expect(plan.unreachable).toEqual([]);
    expect(plan.deleteOnServer.map((entry) => entry.messageId).sort()).toEqual(['i1', 'i2']);
    expect(plan.after.server.count).toBe(0);
  });

  it('S13 switch to IMAP uploads only local-only mail, skipping what the server already has (Message-ID + size)', () => {
    const popAccount: PlanInput = {
      accountId: 'p',
      mode: 'pop3',
      now,
      folders: [
        { id: 'inbox', path: 'INBOX', kind: 'local', role: 'inbox', keepOffline: true },
        { id: 'outbox', path: 'Outbox', kind: 'local', role: 'outbox', keepOffline: true },
      ],
      messages: [
        message('kept', 'inbox', 'both', { popUidl: 'u1' }),
        message('only-here', 'inbox', 'local', { popUidl: 'u2', size: 70 }),
        // The same message as "kept", downloaded again into another place: not uploaded twice.
        message('copy-of-kept', 'inbox', 'local', { messageIdHeader: '<kept@test>' }),
        message('waiting', 'outbox', 'local'),
      ],
    };
    const plan = planChange(popAccount, { kind: 'switch-mode', to: 'imap', uploadLocalTo: 'INBOX' });
    expect(plan.upload.map((entry) => entry.messageId)).toEqual(['only-here']);
    expect(plan.skippedDuplicates).toBe(1);
    expect(plan.after.local.count).toBe(2);
    expect(plan.after.both.count).toBe(2);
    const keepLocal = planChange(popAccount, { kind: 'switch-mode', to: 'imap', uploadLocalTo: null });
    expect(keepLocal.upload).toEqual([]);
  });

  it('S10 leave-a-copy for N days counts from the download', () => {
    expect(policyDeletes({ kind: 'days', days: 7 }, daysAgo(8), now)).toBe(true);
    expect(policyDeletes({ kind: 'days', days: 7 }, daysAgo(6), now)).toBe(false);
    expect(policyDeletes({ kind: 'forever' }, daysAgo(999), now)).toBe(false);
    expect(policyDeletes({ kind: 'until-deleted' }, daysAgo(999), now)).toBe(false);
    expect(policyDeletes({ kind: 'off' }, null, now)).toBe(true);
    const popAccount: PlanInput = {
      accountId: 'p',
      mode: 'pop3',
      now,
      folders: [{ id: 'inbox', path: 'INBOX', kind: 'local', role: 'inbox', keepOffline: true }],
      messages: [
        message('old', 'inbox', 'both', { popUidl: 'u1', downloadedAt: daysAgo(10) }),
        message('new', 'inbox', 'both', { popUidl: 'u2', downloadedAt: daysAgo(1) }),
        message('gone', 'inbox', 'local', { popUidl: 'u3', downloadedAt: daysAgo(10) }),
      ],
    };
    const plan = planChange(popAccount, { kind: 'leave-on-server', leaveOnServer: { kind: 'days', days: 7 } });
    expect(plan.deleteOnServer.map((entry) => entry.messageId)).toEqual(['old']);
  });

  it('S14 keeping a folder offline downloads its header-only messages', () => {
    const plan = planChange(imapAccount, { kind: 'keep-offline', folderId: 'archive', keep: true });
    expect(plan.download.map((entry) => entry.messageId)).toEqual(['a1']);
    expect(planChange(imapAccount, { kind: 'keep-offline', folderId: 'archive', keep: false }).download).toEqual([]);
  });
});
