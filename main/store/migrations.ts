/**
 * The index schema, as numbered migrations. The index is a cache of facts (DESIGN.md): the
 * Maildir plus the server are the truth, so a migration may always fall back to a rebuild. Each
 * migration runs in its own transaction and bumps `PRAGMA user_version` to its number; never
 * edit a released migration, add the next number.
 */
import type Database from 'better-sqlite3';
import { addConversations } from './threads';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

const INITIAL_SCHEMA = `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  settings TEXT NOT NULL,                 -- AccountSettings as JSON; never a secret
  mode TEXT NOT NULL CHECK (mode IN ('imap', 'pop3')),
  created_at TEXT NOT NULL
);

CREATE TABLE folders (
  id TEXT PRIMARY KEY,                    -- also the Maildir directory name
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('server', 'local')),
  path TEXT NOT NULL,                     -- full server path (IMAP) or local path
  name TEXT NOT NULL,
  delimiter TEXT NOT NULL DEFAULT '/',
  role TEXT,
  subscribed INTEGER NOT NULL DEFAULT 1,
  keep_offline INTEGER NOT NULL DEFAULT 0,
  uidvalidity INTEGER,                    -- RFC 3501 §2.3.1.1
  uidnext INTEGER,
  highestmodseq TEXT,                     -- RFC 7162, 63-bit: kept as decimal text
  last_sync_at TEXT,
  UNIQUE (account_id, kind, path)
);

CREATE TABLE messages (
  row_id INTEGER PRIMARY KEY,             -- also the rowid of messages_fts
  id TEXT NOT NULL UNIQUE,                -- 32 hex digits; part of the Maildir file name; the
                                          -- last sort key, so equal dates keep their order on rebuild
  account_id TEXT NOT NULL REFERENCES accounts (id),
  folder_id TEXT NOT NULL REFERENCES folders (id),
  remote_uidvalidity INTEGER,
  remote_uid INTEGER,
  pop_uidl TEXT,
  message_id TEXT,
  thread_id TEXT,
  in_reply_to TEXT,
  references_json TEXT NOT NULL DEFAULT '[]',
  subject TEXT NOT NULL DEFAULT '',
  subject_sort TEXT NOT NULL DEFAULT '',
  from_name TEXT NOT NULL DEFAULT '',
  from_address TEXT NOT NULL DEFAULT '',
  from_sort TEXT NOT NULL DEFAULT '',
  to_json TEXT NOT NULL DEFAULT '[]',
  cc_json TEXT NOT NULL DEFAULT '[]',
  bcc_json TEXT NOT NULL DEFAULT '[]',
  reply_to_json TEXT NOT NULL DEFAULT '[]',
  date INTEGER,                           -- ms since epoch, from the Date header
  received_at INTEGER,                    -- ms, IMAP INTERNALDATE (the file's mtime)
  downloaded_at INTEGER,                  -- ms, when the bytes were stored here
  sort_date INTEGER NOT NULL,             -- date, else received_at, else downloaded_at
  size INTEGER NOT NULL,
  flags_json TEXT NOT NULL DEFAULT '[]',
  seen INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT,
  local_path TEXT,                        -- relative to the profile; NULL: only headers are here
  on_server INTEGER NOT NULL DEFAULT 0,
  server_confirmed_at TEXT,
  has_attachments INTEGER NOT NULL DEFAULT 0,
  preview TEXT NOT NULL DEFAULT '',
  parse_warning TEXT,
  residency TEXT GENERATED ALWAYS AS (
    CASE WHEN local_path IS NULL THEN 'server' WHEN on_server = 1 THEN 'both' ELSE 'local' END
  ) VIRTUAL,
  -- A row always stands for bytes somewhere: here, on the server, or both.
  CHECK (local_path IS NOT NULL OR on_server = 1),
  CHECK ((remote_uid IS NULL) = (remote_uidvalidity IS NULL))
);

CREATE UNIQUE INDEX messages_imap_identity ON messages (folder_id, remote_uidvalidity, remote_uid)
  WHERE remote_uid IS NOT NULL;
CREATE INDEX messages_pop_uidl ON messages (account_id, pop_uidl) WHERE pop_uidl IS NOT NULL;
CREATE INDEX messages_message_id ON messages (account_id, message_id);
CREATE INDEX messages_folder_date ON messages (folder_id, sort_date, id);
CREATE INDEX messages_folder_from ON messages (folder_id, from_sort, sort_date, id);
CREATE INDEX messages_folder_subject ON messages (folder_id, subject_sort, sort_date, id);
CREATE INDEX messages_folder_residency ON messages (folder_id, residency, sort_date, id);
-- Covers the residency totals (count and bytes by folder and residency), recomputed during syncs.
CREATE INDEX messages_account_residency ON messages (account_id, folder_id, residency, size);
CREATE INDEX messages_folder_seen ON messages (folder_id, seen);

-- Subject, addresses and decoded body text (HTML stripped). Contentless: the text is not stored
-- twice; rows are found by rowid = messages.row_id. Prefix indexes for the first 1–3 characters:
-- search-as-you-type ends every query with a prefix ("t", "th", "the"), and without them such a
-- prefix merges the doclists of every word it begins (seconds for "t" in 100,000 messages).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  subject, addresses, body,
  content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
);

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  DELETE FROM messages_fts WHERE rowid = old.row_id;
END;

-- Every UIDL ever downloaded (RFC 1939 §7), also after the local copy is deleted, so that
-- nothing is downloaded twice. deleted_on_server_at: when our DELE of it was committed (QUIT).
CREATE TABLE pop_uidl_state (
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  uidl TEXT NOT NULL,
  downloaded_at TEXT NOT NULL,
  deleted_on_server_at TEXT,
  size INTEGER,                           -- LIST size (RFC 1939 §5) as last seen on the server
  PRIMARY KEY (account_id, uidl)
) WITHOUT ROWID;

-- Server operations made offline or not yet replayed, in order (DESIGN.md: offline queue).
CREATE TABLE action_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,                  -- JSON
  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'failed', 'done')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  last_error TEXT
);
CREATE INDEX action_queue_by_account ON action_queue (account_id, state, id);

-- Messages waiting to be sent; the bytes are a stored message (normally in the Outbox folder).
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  message_id TEXT NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
  envelope_from TEXT NOT NULL,
  envelope_to TEXT NOT NULL,              -- JSON array of addresses (RFC 5321 RCPT TO)
  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'delivery-unknown')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  next_attempt_at TEXT,
  last_error TEXT,
  sent_at TEXT
);
CREATE INDEX outbox_by_account ON outbox (account_id, state, id);

CREATE TABLE sync_state (
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,                    -- JSON
  updated_at TEXT NOT NULL,
  PRIMARY KEY (account_id, key)
) WITHOUT ROWID;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL                     -- JSON
) WITHOUT ROWID;
`;

/** FTS5 'deletemerge' (migration 5): a segment is merged for its deletions once this share is deleted. */
export const FTS_DELETE_MERGE_PERCENT = 50;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    up(db) {
      db.exec(INITIAL_SCHEMA);
    },
  },
  {
    version: 2,
    name: 'known addresses for completion',
    up(db) {
      // Senders and recipients of stored mail, counted, for completion in the composer. Filled
      // incrementally from messages.row_id above settings 'known-addresses-row-id' (message-store.ts).
      db.exec(`
        CREATE TABLE known_addresses (
          account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
          address TEXT NOT NULL,            -- lower case
          name TEXT NOT NULL DEFAULT '',
          uses INTEGER NOT NULL DEFAULT 0,
          last_used INTEGER NOT NULL DEFAULT 0, -- ms, the newest message's sort_date
          PRIMARY KEY (account_id, address)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    name: 'conversations kept by the index',
    up(db) {
      // threads.ts: thread_key, message_refs, folder_threads and the triggers that keep them.
      addConversations(db);
    },
  },
  {
    version: 4,
    name: 'rows still missing their body',
    up(db) {
      // Each sync pass asks which rows of an offline folder still need a body (listMissingBodies):
      // only those are in this index, so a folder whose bodies are all here costs nothing to ask.
      db.exec(`
        CREATE INDEX messages_missing_body ON messages (folder_id, remote_uidvalidity, remote_uid)
          WHERE local_path IS NULL;
      `);
    },
  },
  {
    version: 5,
    name: 'search index: merge segments for deletions only when half deleted',
    up(db) {
      // Every header-only row's search entry is deleted when its body arrives (a new entry with the
      // body replaces it). FTS5's default 'deletemerge' (10 %) then merges a segment again and again
      // as its entries are replaced, so each deletion cost grew with the index (≈ 0.1 ms per row at
      // 1,000 rows, ≈ 0.7 ms at 3,000: 5 s of a 10,000-message first sync). At 50 % a segment is
      // merged about once per halving; the entries of deleted rows stay hidden by their tombstones
      // meanwhile, and ordinary merges drop them.
      db.exec(`INSERT INTO messages_fts (messages_fts, rank) VALUES ('deletemerge', ${FTS_DELETE_MERGE_PERCENT})`);
    },
  },
  {
    version: 6,
    name: 'search entries of header-only rows made later',
    up(db) {
      // A header-only row of a folder kept for offline reading gets its body in the same sync pass;
      // its search entry is made then, with the body, rather than made from the headers and
      // replaced (a deletion from the search index costs ≈ 0.2 ms). Rows listed here have no
      // entry yet: a search, and every opening of the store, gives them their header entry first.
      db.exec(`
        CREATE TABLE search_pending (row_id INTEGER PRIMARY KEY);
        DROP TRIGGER messages_fts_delete;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
          DELETE FROM messages_fts WHERE rowid = old.row_id;
          DELETE FROM search_pending WHERE row_id = old.row_id;
        END;
      `);
    },
  },
  {
    version: 7,
    name: 'rows without a UID',
    up(db) {
      // Each sync pass that finds new server messages asks which rows of the folder have no UID
      // (listRemapCandidates: local copies waiting for their upload may be among them). Only such
      // rows are in this index; without it the question read every row of the folder.
      db.exec('CREATE INDEX messages_without_uid ON messages (folder_id) WHERE remote_uid IS NULL;');
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
