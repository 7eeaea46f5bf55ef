/**
 * The one place that picks an account's engine for its mode (SEMANTICS: every account runs in
 * IMAP mode or POP3 mode). The service calls this and sees only AccountEngine; after a mode
 * switch it closes the old engine and creates the new one here.
 */
import type { AccountEngine, EngineContext } from './engine';
import { ImapAccountEngine, type ImapEngineOptions } from './imap/imap-engine';
import { createPop3Engine } from './pop3/pop3-engine';

export interface EngineOptions {
  /** The clock the leave-a-copy policy counts days with (S10); tests move it forward. */
  now?: () => Date;
  /** IMAP engine settings (tests use a small header batch to see a sync in several steps). */
  imap?: ImapEngineOptions;
}

export function createEngine(context: EngineContext, options: EngineOptions = {}): AccountEngine {
  const mode = context.account().mode;
  switch (mode) {
    case 'imap':
      return new ImapAccountEngine(context, options.imap ?? {});
    case 'pop3':
      return createPop3Engine(context, options.now ? { now: options.now } : {});
  }
}
