/**
 * What MessageStore.attachBodies takes and gives back. The files are written by
 * maildir-batch.ts `writeFilesInParallel`: each body named with its row's id (so that reconcile
 * pairs a file left by a crash with its row), each with its own outcome, like one attachBody each.
 */
import type { ParsedMessage } from '../mime/parse';

/** One body for MessageStore.attachBodies: the exact bytes of a header-only row's message. */
export interface BodyToAttach {
  messageId: string;
  source: Buffer;
  /** Its parse, when the caller started it as the bytes arrived (parse-pool.ts); else it starts in the store. */
  parsed?: Promise<ParsedMessage>;
}

/**
 * What attachBodies did with one body. `stored`: durable in cur/ and committed. `present`: the
 * row had its body already (nothing written). `gone`: the row no longer exists. `failed`: this
 * file could not be written (e.g. DISK_FULL); the row stays header-only.
 */
export type AttachOutcome =
  | { messageId: string; status: 'stored' | 'present'; size: number; sha256: string | null }
  | { messageId: string; status: 'gone' }
  | { messageId: string; status: 'failed'; error: Error };
