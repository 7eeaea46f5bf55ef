import { describe, expect, it } from 'vitest';
import type { LeaveOnServer } from '../../../shared/model';
import { MILLISECONDS_PER_DAY, mayDeleteFromServer, type ServerCopy } from './leave-policy';

const downloadedAt = '2024-03-01T12:00:00.000Z';
const stored: ServerCopy = { bytesHere: true, deletedHere: false, downloadedAt };
const deleted: ServerCopy = { bytesHere: false, deletedHere: true, downloadedAt };
const headersOnly: ServerCopy = { bytesHere: false, deletedHere: false, downloadedAt: null };
const after = (days: number) => new Date(Date.parse(downloadedAt) + days * MILLISECONDS_PER_DAY);

describe('S10 leave-a-copy policy decisions', () => {
  const policies: LeaveOnServer[] = [
    { kind: 'off' },
    { kind: 'forever' },
    { kind: 'days', days: 7 },
    { kind: 'until-deleted' },
  ];

  it('never deletes a server copy whose bytes are not here (headers only, evicted)', () => {
    for (const policy of policies) expect(mayDeleteFromServer(policy, headersOnly, after(365))).toBe(false);
  });

  it('off deletes after download; forever never', () => {
    expect(mayDeleteFromServer({ kind: 'off' }, stored, after(0))).toBe(true);
    expect(mayDeleteFromServer({ kind: 'forever' }, stored, after(3650))).toBe(false);
    expect(mayDeleteFromServer({ kind: 'forever' }, deleted, after(3650))).toBe(false);
  });

  it('N days counts from the download', () => {
    const policy: LeaveOnServer = { kind: 'days', days: 7 };
    expect(mayDeleteFromServer(policy, stored, after(6.99))).toBe(false);
    expect(mayDeleteFromServer(policy, stored, after(7))).toBe(true);
    expect(mayDeleteFromServer(policy, { ...stored, downloadedAt: null }, after(70))).toBe(false);
  });

  it('until deleted here follows the local deletion only', () => {
    expect(mayDeleteFromServer({ kind: 'until-deleted' }, stored, after(3650))).toBe(false);
    expect(mayDeleteFromServer({ kind: 'until-deleted' }, deleted, after(0))).toBe(true);
  });
});
