/**
 * Per-account POP3 download options that AccountSettings does not carry yet. Until it does, they
 * are read from an optional `pop3Options` field of the account (checked here, where the data
 * arrives) and may be overridden by the engine's creator.
 */
import type { Account } from '../../../shared/model';

export interface Pop3Options {
  /** Download only headers (RFC 1939 §7 TOP n 0); bodies come on open (`fetchBodies`). */
  headersOnly: boolean;
  /** Messages larger than this (LIST size, KiB) get headers only until asked for; null: no limit. */
  maxMessageKb: number | null;
}

export const DEFAULT_POP3_OPTIONS: Pop3Options = { headersOnly: false, maxMessageKb: null };

/** The account as it may look once AccountSettings has the field. */
export type AccountWithPop3Options = Account & { pop3Options?: Partial<Pop3Options> };

const BYTES_PER_KB = 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The account's options, defaults for anything missing or malformed, `overrides` last. */
export function pop3OptionsOf(account: Account, overrides: Partial<Pop3Options> = {}): Pop3Options {
  const stored: unknown = (account as AccountWithPop3Options).pop3Options;
  const options: Pop3Options = { ...DEFAULT_POP3_OPTIONS };
  if (isRecord(stored)) {
    if (typeof stored.headersOnly === 'boolean') options.headersOnly = stored.headersOnly;
    const limit = stored.maxMessageKb;
    if (limit === null || (typeof limit === 'number' && Number.isFinite(limit) && limit >= 0)) {
      options.maxMessageKb = limit;
    }
  }
  if (overrides.headersOnly !== undefined) options.headersOnly = overrides.headersOnly;
  if (overrides.maxMessageKb !== undefined) options.maxMessageKb = overrides.maxMessageKb;
  return options;
}

/** Whether a message of `size` octets (LIST) is downloaded whole in a pass, or only its headers. */
export function downloadsWhole(options: Pop3Options, size: number): boolean {
  if (options.headersOnly) return false;
  return options.maxMessageKb === null || size <= options.maxMessageKb * BYTES_PER_KB;
}
