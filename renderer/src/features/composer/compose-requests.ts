/**
 * Ways into the composer besides the buttons: a mailto: request from the operating system
 * (the composeRequested event) and a saved draft opened from the Drafts folder.
 */
import type { MailApi } from '../../../../shared/api';
import type { MessageSummary } from '../../../../shared/model';
import { useMailEvent } from '../../api/use-mail-event';
import { mailtoDraft, savedDraft, type ComposeDraft } from './compose-draft';

/** Opens the composer, prefilled, when the OS asks Whereabouts to write mail (RFC 6068 mailto:). */
export function useComposeRequests(open: (draft: ComposeDraft) => void, accountId: () => string | null): void {
  useMailEvent('composeRequested', (request) => {
    const target = accountId();
    if (target !== null) open(mailtoDraft(target, request));
  });
}

/** A message the composer reopens rather than the reader shows: a saved draft. */
export function isDraft(message: MessageSummary, folderRole: string | null): boolean {
  return folderRole === 'drafts' || message.flags.some((flag) => flag.toLowerCase() === '\\draft');
}

export async function openSavedDraft(api: MailApi, messageId: string): Promise<ComposeDraft> {
  return savedDraft(await api.getDraft({ draftId: messageId }));
}
