/**
 * Conversations, kept by the index itself (SQL triggers), so that every way a row arrives, moves,
 * changes or goes (sync batches, bodies attached, moves, rebuild from the Maildir) keeps them right.
 *
 * - A conversation is a connected group of messages of one account: a message is linked to every
 *   message-id it names (its own Message-ID, In-Reply-To and References, RFC 5322 §3.6.4), so a
 *   reply stored before its parent, a parent arriving after its replies, replies whose parent
 *   never arrives and the Sent copy of a reply to an INBOX message all join one conversation.
 * - `messages.thread_key` names it: the smallest "root" among its messages, where a message's root
 *   is its first Reference, else its In-Reply-To, else its own Message-ID (else `#` + its id: a
 *   message naming no message-id is a conversation of its own). The smallest root does not depend
 *   on the order messages arrived in, so a rebuilt index names conversations the same way. In a
 *   normal thread every reply has the same root, so a new reply renames nothing; when a message
 *   links two conversations, the one with the bigger key is renamed.
 * - Deleting a message never splits its conversation (the key stays until the index is rebuilt).
 * - `folder_threads` holds, per folder and conversation, the messages and unread messages there and
 *   the newest one (by sort_date, id) with its sort keys: the grouped listing reads it through an
 *   index, one entry per conversation, without looking at the folder's other messages.
 * - The app-written `thread_id` column (the message's own root) is no longer read for grouping.
 */
import type Database from 'better-sqlite3';
import type { SortKey } from '../../shared/model';

const LIST = (row: string) =>
  `(SELECT ref FROM message_refs WHERE row_id = ${row}.row_id UNION ALL SELECT ${row}.message_id)`;

/** A row's references as JSON, or an empty list when the stored text is not JSON. */
const REFERENCES = (row: string) =>
  `CASE WHEN json_valid(${row}.references_json) THEN ${row}.references_json ELSE '[]' END`;

/** The row's root (see above). */
const ROOT = (row: string) => `coalesce(
    nullif(json_extract(${REFERENCES(row)}, '$[0]'), ''),
    nullif(${row}.in_reply_to, ''),
    nullif(${row}.message_id, ''),
    '#' || ${row}.id)`;

/** The key the row's conversation takes: the smallest of its root and of the keys it links. */
const KEY = (row: string) => `(SELECT min(label) FROM (SELECT label FROM thread_work UNION ALL SELECT ${ROOT(row)}))`;

/**
 * Links `row` (already in messages) into its conversation; `guard` limits every statement (an
 * UPDATE trigger only re-threads when the headers changed). `keep` adds the row's previous key.
 */
function linkStatements(row: string, guard: string, keep: boolean): string {
  return `
  DELETE FROM message_refs WHERE row_id = ${row}.row_id AND ${guard};
  INSERT OR IGNORE INTO message_refs (row_id, account_id, ref)
    SELECT ${row}.row_id, ${row}.account_id, value FROM json_each(${REFERENCES(row)})
     WHERE type = 'text' AND value <> '' AND ${guard}
    UNION ALL
    SELECT ${row}.row_id, ${row}.account_id, ${row}.in_reply_to
     WHERE coalesce(${row}.in_reply_to, '') <> '' AND ${guard};
  -- (+thread_key: found by message-id, never by walking the account's keys)
  INSERT OR IGNORE INTO thread_work (label)
    SELECT thread_key FROM messages
     WHERE account_id = ${row}.account_id AND message_id IN ${LIST(row)}
       AND row_id <> ${row}.row_id AND +thread_key IS NOT NULL AND ${guard}
    UNION ALL
    SELECT m.thread_key FROM message_refs r JOIN messages m ON m.row_id = r.row_id
     WHERE r.account_id = ${row}.account_id AND r.ref IN ${LIST(row)}
       AND r.row_id <> ${row}.row_id AND +m.thread_key IS NOT NULL AND ${guard}
    ${keep ? `UNION ALL SELECT old.thread_key WHERE old.thread_key IS NOT NULL AND ${guard}` : ''};
  UPDATE messages SET thread_key = ${KEY(row)}
   WHERE folder_id IN (SELECT id FROM folders WHERE account_id = ${row}.account_id)
     AND thread_key IN (SELECT label FROM thread_work)
     AND thread_key <> ${KEY(row)} AND ${guard};
  UPDATE messages SET thread_key = ${KEY(row)}
   WHERE row_id = ${row}.row_id AND thread_key IS NOT ${KEY(row)} AND ${guard};
  DELETE FROM thread_work;`;
}

/** `row` leaves its folder's entry for its conversation. */
function leaveStatements(row: string): string {
  const entry = `folder_id = ${row}.folder_id AND thread_key = ${row}.thread_key`;
  return `
  UPDATE folder_threads SET messages = messages - 1, unread = unread - (${row}.seen = 0) WHERE ${entry};
  DELETE FROM folder_threads WHERE ${entry} AND messages <= 0;
  UPDATE folder_threads SET (newest_row_id, sort_date, id, from_sort, subject_sort) =
    (SELECT row_id, sort_date, id, from_sort, subject_sort FROM messages
      WHERE ${entry} ORDER BY sort_date DESC, id DESC LIMIT 1)
   WHERE ${entry} AND newest_row_id = ${row}.row_id;`;
}

/** `row` joins its folder's entry for its conversation. */
function joinStatements(row: string): string {
  const newer = '(excluded.sort_date, excluded.id) > (sort_date, id)';
  const pick = (column: string) => `${column} = CASE WHEN ${newer} THEN excluded.${column} ELSE ${column} END`;
  return `
  INSERT INTO folder_threads
    (folder_id, thread_key, messages, unread, newest_row_id, sort_date, id, from_sort, subject_sort)
    SELECT ${row}.folder_id, ${row}.thread_key, 1, ${row}.seen = 0, ${row}.row_id, ${row}.sort_date, ${row}.id,
           ${row}.from_sort, ${row}.subject_sort
     WHERE ${row}.thread_key IS NOT NULL
    ON CONFLICT (folder_id, thread_key) DO UPDATE SET
      messages = messages + 1,
      unread = unread + excluded.unread,
      ${['newest_row_id', 'sort_date', 'id', 'from_sort', 'subject_sort'].map(pick).join(',\n      ')};`;
}

const HEADERS_CHANGED = `(old.message_id IS NOT new.message_id OR old.in_reply_to IS NOT new.in_reply_to
  OR old.references_json IS NOT new.references_json OR old.account_id IS NOT new.account_id
  OR new.thread_key IS NULL)`;

const SUMMARY_CHANGED = `(old.folder_id IS NOT new.folder_id OR old.id IS NOT new.id
  OR old.sort_date IS NOT new.sort_date OR old.from_sort IS NOT new.from_sort
  OR old.subject_sort IS NOT new.subject_sort OR old.seen IS NOT new.seen)`;

export const THREADS_SCHEMA = `
ALTER TABLE messages ADD COLUMN thread_key TEXT;

-- The message-ids each message names (In-Reply-To, References); its own is messages.message_id.
CREATE TABLE message_refs (
  row_id INTEGER NOT NULL,
  account_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  PRIMARY KEY (row_id, ref)
) WITHOUT ROWID;
CREATE INDEX message_refs_by_ref ON message_refs (account_id, ref);

-- Scratch for the triggers: the conversations a message links. Empty outside a trigger.
CREATE TABLE thread_work (label TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE INDEX messages_folder_thread ON messages (folder_id, thread_key, sort_date, id);

-- Per folder and conversation: its messages there and the newest of them (the listed row).
CREATE TABLE folder_threads (
  folder_id TEXT NOT NULL,
  thread_key TEXT NOT NULL,
  messages INTEGER NOT NULL,
  unread INTEGER NOT NULL,
  newest_row_id INTEGER NOT NULL,
  sort_date INTEGER NOT NULL,
  id TEXT NOT NULL,
  from_sort TEXT NOT NULL,
  subject_sort TEXT NOT NULL,
  PRIMARY KEY (folder_id, thread_key)
) WITHOUT ROWID;
CREATE INDEX folder_threads_date ON folder_threads (folder_id, sort_date, id);
CREATE INDEX folder_threads_from ON folder_threads (folder_id, from_sort, sort_date, id);
CREATE INDEX folder_threads_subject ON folder_threads (folder_id, subject_sort, sort_date, id);

`;

/** The triggers (created after the tables are filled, when migrating). */
const THREADS_TRIGGERS = `
-- No INSERT trigger: any trigger on INSERT, even one that does nothing, costs about as much as the
-- insert itself; new rows are threaded by the store before they are inserted (threadNewRow).

-- Each change of a row's key moves it between folder entries.
CREATE TRIGGER messages_thread_key AFTER UPDATE OF thread_key ON messages
WHEN old.thread_key IS NOT new.thread_key BEGIN
  ${leaveStatements('old')}
  ${joinStatements('new')}
END;

-- One trigger, so that the folder entry is updated before the row is threaded again.
CREATE TRIGGER messages_thread_update AFTER UPDATE OF
  folder_id, account_id, id, sort_date, from_sort, subject_sort, seen, message_id, in_reply_to, references_json
ON messages WHEN ${SUMMARY_CHANGED} OR ${HEADERS_CHANGED} BEGIN
  ${leaveStatements('old').replaceAll(';', ` AND ${SUMMARY_CHANGED};`)}
  ${joinStatements('new').replace('WHERE new.thread_key IS NOT NULL', `WHERE new.thread_key IS NOT NULL AND ${SUMMARY_CHANGED}`)}
  ${linkStatements('new', HEADERS_CHANGED, true)}
END;

CREATE TRIGGER messages_thread_delete AFTER DELETE ON messages BEGIN
  ${leaveStatements('old')}
  DELETE FROM message_refs WHERE row_id = old.row_id;
END;
`;

// ---------------------------------------------------------------- new rows

/** A prepared statement of the store (its cache, its error translation). */
export interface ThreadStatement {
  run(...parameters: unknown[]): unknown;
  all(...parameters: unknown[]): unknown[];
}
export type PrepareThreadStatement = (sql: string) => ThreadStatement;

/** The columns of a new row that threading reads. */
export interface NewThreadedRow {
  id: string;
  account_id: string;
  folder_id: string;
  message_id: string | null;
  in_reply_to: string | null;
  sort_date: number;
  seen: number;
  from_sort: string;
  subject_sort: string;
}

/** The message-ids a row names besides its own: References and In-Reply-To, as the triggers read them. */
function namedIds(row: NewThreadedRow, references: readonly string[]): string[] {
  const named = new Set(references.filter((reference) => typeof reference === 'string' && reference !== ''));
  if (row.in_reply_to) named.add(row.in_reply_to);
  return [...named];
}

const LINKED_KEYS_SQL = `
  SELECT thread_key FROM messages
   WHERE account_id = @account AND message_id IN (SELECT value FROM json_each(@ids)) AND +thread_key IS NOT NULL
  UNION
  SELECT m.thread_key FROM message_refs r JOIN messages m ON m.row_id = r.row_id
   WHERE r.account_id = @account AND r.ref IN (SELECT value FROM json_each(@ids)) AND +m.thread_key IS NOT NULL`;

/** The same for one id (most messages name only their own): no JSON, no temporary table. */
const LINKED_KEY_SQL = LINKED_KEYS_SQL.replaceAll('IN (SELECT value FROM json_each(@ids))', '= @id').replace(
  'UNION',
  'UNION ALL',
);

/**
 * The key of a row about to be inserted (the same as the triggers give; see above): the smallest of
 * its root and of the keys of the conversations it links, which are merged into it here.
 */
export function threadNewRow(
  prepare: PrepareThreadStatement,
  row: NewThreadedRow,
  references: readonly string[],
): string {
  const named = namedIds(row, references);
  const root = references[0] || row.in_reply_to || row.message_id || `#${row.id}`;
  const ids = row.message_id ? [row.message_id, ...named] : named;
  if (ids.length === 0) return root;
  const linked = (
    ids.length === 1
      ? prepare(LINKED_KEY_SQL).all({ account: row.account_id, id: ids[0] })
      : prepare(LINKED_KEYS_SQL).all({ account: row.account_id, ids: JSON.stringify(ids) })
  ).map((found) => (found as { thread_key: string }).thread_key);
  const key = linked.reduce((smallest, candidate) => (candidate < smallest ? candidate : smallest), root);
  for (const other of linked) {
    if (other !== key) {
      // Found through each folder's entries (an index per account would cost every insert).
      prepare(
        `UPDATE messages SET thread_key = @key WHERE thread_key = @other
            AND folder_id IN (SELECT id FROM folders WHERE account_id = @account)`,
      ).run({ key, other, account: row.account_id });
    }
  }
  return key;
}

/** After the insert: the row's references, and its folder's entry for its conversation. */
export function threadInsertedRow(
  prepare: PrepareThreadStatement,
  rowId: number,
  row: NewThreadedRow,
  references: readonly string[],
  key: string,
): void {
  const named = namedIds(row, references);
  if (named.length > 0) {
    prepare('INSERT OR IGNORE INTO message_refs (row_id, account_id, ref) SELECT ?, ?, value FROM json_each(?)').run(
      rowId,
      row.account_id,
      JSON.stringify(named),
    );
  }
  prepare(JOIN_SQL).run({
    row_id: rowId,
    folder_id: row.folder_id,
    thread_key: key,
    seen: row.seen,
    sort_date: row.sort_date,
    id: row.id,
    from_sort: row.from_sort,
    subject_sort: row.subject_sort,
  });
}

/**
 * joinStatements for a row given as parameters (its key is never null here): VALUES rather than
 * the trigger's SELECT … WHERE, which costs a third more per insert.
 */
const JOIN_SQL = joinStatements('new')
  .replace(/SELECT (new\.folder_id[\s\S]*?)\s+WHERE new\.thread_key IS NOT NULL/, 'VALUES ($1)')
  .replace(/new\.(\w+)/g, '@$1')
  .replace(/;\s*$/, '');

/**
 * The schema change, with every stored message threaded at once (the same keys as inserting them
 * one by one would give): conversations are the connected groups of message-ids, each named by the
 * smallest root of its messages; then each folder's entries, then the triggers.
 */
export function addConversations(db: Database.Database): void {
  db.exec(THREADS_SCHEMA);
  db.exec(`INSERT OR IGNORE INTO message_refs (row_id, account_id, ref)
    SELECT m.row_id, m.account_id, j.value FROM messages m, json_each(${REFERENCES('m')}) j
     WHERE j.type = 'text' AND j.value <> ''
    UNION ALL
    SELECT row_id, account_id, in_reply_to FROM messages WHERE coalesce(in_reply_to, '') <> ''`);
  const rows = db
    .prepare('SELECT row_id, id, account_id, message_id, in_reply_to, references_json FROM messages')
    .all() as Array<{
    row_id: number;
    id: string;
    account_id: string;
    message_id: string | null;
    in_reply_to: string | null;
    references_json: string;
  }>;
  // Union-find over "account id + message-id".
  const parent = new Map<string, string>();
  const find = (node: string): string => {
    let root = node;
    while (parent.get(root) !== root) root = parent.get(root) as string;
    for (let next = node; next !== root;) {
      const up = parent.get(next) as string;
      parent.set(next, root);
      next = up;
    }
    return root;
  };
  const nodesOf = rows.map((row) => {
    let references: unknown;
    try {
      references = JSON.parse(row.references_json);
    } catch {
      references = [];
    }
    const named = Array.isArray(references)
      ? references.filter((value): value is string => typeof value === 'string' && value !== '')
      : [];
    const first = Array.isArray(references) && typeof references[0] === 'string' ? references[0] : '';
    const root = first || row.in_reply_to || row.message_id || `#${row.id}`;
    const ids = [row.message_id, row.in_reply_to, ...named].filter((id): id is string => !!id);
    const nodes = ids.map((id) => `${row.account_id}\u0000${id}`);
    for (const node of nodes) if (!parent.has(node)) parent.set(node, node);
    for (const node of nodes.slice(1)) {
      const [left, right] = [find(nodes[0]), find(node)];
      if (left !== right) parent.set(right, left);
    }
    return { nodes, root };
  });
  const keys = new Map<string, string>();
  nodesOf.forEach(({ nodes, root }) => {
    if (nodes.length === 0) return;
    const component = find(nodes[0]);
    const current = keys.get(component);
    if (current === undefined || root < current) keys.set(component, root);
  });
  const assign = db.prepare('UPDATE messages SET thread_key = ? WHERE row_id = ?');
  rows.forEach((row, index) => {
    const { nodes, root } = nodesOf[index];
    assign.run(nodes.length === 0 ? root : keys.get(find(nodes[0])), row.row_id);
  });
  db.exec(`INSERT INTO folder_threads
      (folder_id, thread_key, messages, unread, newest_row_id, sort_date, id, from_sort, subject_sort)
    SELECT folder_id, thread_key, messages, unread, row_id, sort_date, id, from_sort, subject_sort FROM (
      SELECT folder_id, thread_key, row_id, sort_date, id, from_sort, subject_sort,
             row_number() OVER (PARTITION BY folder_id, thread_key ORDER BY sort_date DESC, id DESC) AS n,
             count(*) OVER (PARTITION BY folder_id, thread_key) AS messages,
             sum(seen = 0) OVER (PARTITION BY folder_id, thread_key) AS unread
        FROM messages)
     WHERE n = 1`);
  db.exec(THREADS_TRIGGERS);
}

// ---------------------------------------------------------------- listing

/** `ORDER BY` columns of a sort (the same names in messages and folder_threads), with a table prefix. */
export function orderColumns(columns: readonly string[], direction: 'ASC' | 'DESC', prefix = ''): string {
  return columns.map((column) => `${prefix}${column} ${direction}`).join(', ');
}

/**
 * One page of a folder's conversations: each one's newest message (`m.*`) with its counts. The
 * entries are read in order from a folder_threads index; only the page's rows are joined.
 */
export function conversationPageSql(columns: readonly string[], direction: 'ASC' | 'DESC'): string {
  return `SELECT m.*, t.messages AS thread_messages, t.unread AS thread_unread
    FROM (SELECT newest_row_id, messages, unread, ${columns.join(', ')} FROM folder_threads
           WHERE folder_id = ? ORDER BY ${orderColumns(columns, direction)} LIMIT ? OFFSET ?) AS t
    JOIN messages m ON m.row_id = t.newest_row_id
    ORDER BY ${orderColumns(columns, direction, 't.')}`;
}

export const CONVERSATION_TOTALS_SQL =
  'SELECT count(*) AS total, coalesce(sum(messages), 0) AS messages FROM folder_threads WHERE folder_id = ?';

/**
 * The same page over a folder's messages of one residency: grouped on the fly (no summary is
 * kept per residency), so it reads every message of that residency in the folder.
 */
export function filteredConversationPageSql(columns: readonly string[], direction: 'ASC' | 'DESC'): string {
  return `WITH r AS (
      SELECT row_id, ${columns.join(', ')},
             row_number() OVER (PARTITION BY thread_key ORDER BY sort_date DESC, id DESC) AS n,
             count(*) OVER (PARTITION BY thread_key) AS messages,
             sum(seen = 0) OVER (PARTITION BY thread_key) AS unread
        FROM messages WHERE folder_id = ? AND residency = ?)
    SELECT m.*, r.messages AS thread_messages, r.unread AS thread_unread
      FROM r JOIN messages m ON m.row_id = r.row_id
     WHERE r.n = 1 ORDER BY ${orderColumns(columns, direction, 'r.')} LIMIT ? OFFSET ?`;
}

export const FILTERED_CONVERSATION_TOTALS_SQL = `SELECT count(DISTINCT thread_key) AS total, count(*) AS messages
  FROM messages WHERE folder_id = ? AND residency = ?`;

/** The sort keys of the listing, as columns (messages and folder_threads name them alike). */
export const SORT_COLUMNS: Record<SortKey, readonly string[]> = {
  date: ['sort_date', 'id'],
  from: ['from_sort', 'sort_date', 'id'],
  subject: ['subject_sort', 'sort_date', 'id'],
};
