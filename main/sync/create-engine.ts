/**
 * The one place that picks an account's engine for its mode (SEMANTICS: every account runs in
 * IMAP mode or POP3 mode). The service calls this and sees only AccountEngine; after a mode
 * switch it closes the old engine and creates the new one here.
 */
import type { AccountEngine, EngineContext } from './engine';
import { ImapAccountEngine } from './imap/imap-engine';
import { createPop3Engine } from './pop3/pop3-engine';

export interface EngineOptions {
  /** The clock the leave-a-copy policy counts days with (S10); tests move it forward. */
  now?: () => Date;
}

export function createEngine(context: EngineContext, options: EngineOptions = {}): AccountEngine {
  const mode = context.account().mode;
  switch (mode) {
    case 'imap':
      return new ImapAccountEngine(context);
    case 'pop3':
      return createPop3Engine(context, options.now ? { now: options.now } : {});
  }
}
