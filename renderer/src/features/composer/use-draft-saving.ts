/**
 * Saves the composer's draft: a few seconds after the last edit, on demand (Ctrl/Cmd+S, closing)
 * and when the composer goes away. One save at a time; each save replaces the previous version
 * (the service returns the new draft id). The state is for the user to see: "Saving…", "Saved",
 * "Not saved: <reason>".
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { MailApi } from '../../../../shared/api';
import { describeError } from '../../api/error-text';
import { isBlank, toDraftMessage, type ComposeDraft } from './compose-draft';

export const AUTOSAVE_DELAY_MS = 3_000;

export type SaveState =
  | { kind: 'unsaved' }
  | { kind: 'saving' }
  | { kind: 'saved'; location: 'server' | 'local' }
  | { kind: 'failed'; reason: string };

/** What a save would store, cheaply compared: attachments by name and size, rich text by its HTML. */
function contentKey(draft: ComposeDraft): string {
  const message = toDraftMessage(draft);
  return JSON.stringify({
    ...message,
    text: draft.format === 'rich' ? '' : message.text,
    attachments: draft.attachments.map((attachment) => [attachment.filename, attachment.size]),
  });
}

export interface DraftSaving {
  state: SaveState;
  /** The id of the latest saved version. */
  draftId(): string | null;
  /** Saves now unless it is saved as it is (or blank); false when the save failed. */
  saveNow(): Promise<boolean>;
  /** No more automatic saves (sending, discarding); waits for a save under way. */
  stop(): Promise<void>;
  /** Automatic saves again (the send failed). */
  resume(): void;
}

export function useDraftSaving(api: MailApi, draft: ComposeDraft, delayMs = AUTOSAVE_DELAY_MS): DraftSaving {
  const [state, setState] = useState<SaveState>(
    draft.draftId === null ? { kind: 'unsaved' } : { kind: 'saved', location: 'server' },
  );
  const latest = useRef(draft);
  const initial = useRef(draft);
  const draftId = useRef(draft.draftId);
  // A reopened draft is saved as it is; a new message, reply or forward is not saved yet.
  const savedKey = useRef(draft.draftId === null ? null : contentKey(draft));
  const running = useRef<Promise<boolean> | null>(null);
  const stopped = useRef(false);
  latest.current = draft;

  const saveNow = useCallback(async (): Promise<boolean> => {
    while (running.current) await running.current;
    const snapshot = latest.current;
    const key = contentKey(snapshot);
    if (key === savedKey.current || isBlank({ ...snapshot, draftId: draftId.current })) return true;
    const run = (async () => {
      setState({ kind: 'saving' });
      try {
        const saved = await api.saveDraft({ draftId: draftId.current, message: toDraftMessage(snapshot) });
        draftId.current = saved.draftId;
        savedKey.current = key;
        setState({ kind: 'saved', location: saved.location });
        return true;
      } catch (error) {
        setState({ kind: 'failed', reason: describeError(error).title });
        return false;
      }
    })();
    running.current = run;
    try {
      return await run;
    } finally {
      running.current = null;
    }
  }, [api]);

  useEffect(() => {
    // Only the user's edits start the timer: a reply opened and left alone is not saved.
    if (stopped.current || draft === initial.current || contentKey(draft) === savedKey.current) return;
    const timer = setTimeout(() => void saveNow(), delayMs);
    return () => clearTimeout(timer);
  }, [draft, delayMs, saveNow]);

  // Leaving the composer any other way (another view) keeps what was written.
  useEffect(
    () => () => {
      if (!stopped.current && latest.current !== initial.current) void saveNow();
    },
    [saveNow],
  );

  return {
    state,
    draftId: () => draftId.current,
    saveNow,
    async stop() {
      stopped.current = true;
      while (running.current) await running.current;
    },
    resume() {
      stopped.current = false;
    },
  };
}
