/**
 * Every account's folders (with their counts), asked once per account and asked again when the
 * service says the folders or their messages changed. The cache is keyed by account: the one
 * piece of state the sidebar, the unified inbox and "Move to…" share.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { toErrorPayload, type ErrorPayload } from '../../../../shared/errors';
import type { AccountView, FolderView } from '../../../../shared/model';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';

/** Counts change with every flag; one re-read per burst is enough. */
const COUNT_REFRESH_DELAY_MS = 300;

export interface FolderEntry {
  folders: FolderView[] | null;
  error: ErrorPayload | null;
}

export interface FolderCache {
  get(accountId: string): FolderEntry;
  reload(accountId: string): void;
}

const EMPTY: FolderEntry = { folders: null, error: null };

export function useFolders(accounts: AccountView[]): FolderCache {
  const api = useMailApi();
  const [entries, setEntries] = useState<Record<string, FolderEntry>>({});
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const generation = useRef(new Map<string, number>());

  const load = useCallback(
    async (accountId: string) => {
      const mine = (generation.current.get(accountId) ?? 0) + 1;
      generation.current.set(accountId, mine);
      try {
        const folders = await api.listFolders({ accountId });
        if (generation.current.get(accountId) !== mine) return;
        setEntries((previous) => ({ ...previous, [accountId]: { folders, error: null } }));
      } catch (error) {
        if (generation.current.get(accountId) !== mine) return;
        setEntries((previous) => ({
          ...previous,
          [accountId]: { folders: previous[accountId]?.folders ?? null, error: toErrorPayload(error) },
        }));
      }
    },
    [api],
  );

  const accountKey = accounts.map((account) => account.id).join(',');
  useEffect(() => {
    for (const account of accounts) void load(account.id);
    // Re-read when the set of accounts changes, not when their connectivity does.
  }, [accountKey, load]);

  const reloadSoon = useCallback(
    (accountId: string) => {
      const pending = timers.current.get(accountId);
      if (pending !== undefined) clearTimeout(pending);
      timers.current.set(
        accountId,
        setTimeout(() => {
          timers.current.delete(accountId);
          void load(accountId);
        }, COUNT_REFRESH_DELAY_MS),
      );
    },
    [load],
  );
  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending.values()) clearTimeout(timer);
    };
  }, []);

  useMailEvent('foldersChanged', (payload) => void load(payload.accountId));
  useMailEvent('messagesChanged', (payload) => reloadSoon(payload.accountId));

  return {
    get: (accountId) => entries[accountId] ?? EMPTY,
    reload: (accountId) => void load(accountId),
  };
}
