/**
 * The leave-a-copy policy (SEMANTICS S10) as one pure decision: may the server copy of a message
 * be deleted (DELE) now? Only ever for a message whose bytes were durably stored here first
 * (SEMANTICS: "Nothing is lost").
 */
import type { LeaveOnServer } from '../../../shared/model';

export const MILLISECONDS_PER_DAY = 24 * 60 * 60 * 1000;

export interface ServerCopy {
  /** The message's full bytes are durably stored here. */
  bytesHere: boolean;
  /** The user deleted the local copy (its UIDL is known, no message here carries it any more). */
  deletedHere: boolean;
  /** When its bytes were stored here (ISO), the start of the "N days". */
  downloadedAt: string | null;
}

/**
 * Header-only messages (TOP) and local copies the user evicted have neither bytes here nor a
 * deletion here: the server holds their only copy, and no policy deletes it.
 */
export function mayDeleteFromServer(policy: LeaveOnServer, copy: ServerCopy, now: Date): boolean {
  if (!copy.bytesHere && !copy.deletedHere) return false;
  switch (policy.kind) {
    case 'off':
      return true;
    case 'forever':
      return false;
    case 'days': {
      if (copy.downloadedAt === null) return false;
      const downloaded = Date.parse(copy.downloadedAt);
      if (!Number.isFinite(downloaded)) return false;
      return now.getTime() - downloaded >= policy.days * MILLISECONDS_PER_DAY;
    }
    case 'until-deleted':
      return copy.deletedHere;
  }
}
