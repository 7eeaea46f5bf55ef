/**
 * The store floor of figures (1) and (5): what our own store costs for the corpus with nothing parsed.
 *
 * The messages are read from Dovecot's Maildir, so there is no network, and stored through
 * `MessageStore.insertMessageBatch`, the path a POP3 download takes. That means:
 * - the batches of a download (BATCH_MAX_MESSAGES, BATCH_MAX_BYTES);
 * - durable files eight at a time, then one directory fsync;
 * - index rows with their search entries;
 * - one commit per batch, made durable at the end, as a download that leaves a copy does (the
 *   body commits of an IMAP sync are not synced one by one either).
 *
 * The one difference from a download is the parse. Each message's parse result is made here, from
 * its raw header lines: subject, Message-ID and date, undecoded, with no body text and no MIME
 * walk. The SHA-256 that the parse worker would compute is computed here too.
 *
 * Comparing a sync with this floor shows what the parses cost. Comparing this floor with a peer
 * shows how much of the peer's time the design already spends before anything is parsed. Usage:
 * `node store-floor.js SOURCE_MAILDIR PROFILE_DIR`; prints `{"bytes":…,"messages":…}`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Account } from '../shared/model';
import type { ParsedMessage } from '../main/mime/parse';
import { firstHeader, parseMessageIds, readRawHeaders } from '../main/mime/raw-headers';
import { openMessageStore } from '../main/store/message-store';
import { BATCH_MAX_BYTES, BATCH_MAX_MESSAGES } from '../main/sync/pop3/download-batches';
import { ensureLocalFolders } from '../main/sync/pop3/local-folders';

const ACCOUNT: Account = {
  id: 'store-floor',
  createdAt: new Date(0).toISOString(),
  name: 'Store floor',
  email: 'floor@example.org',
  mode: 'pop3',
  username: 'floor',
  imap: null,
  pop3: { host: '127.0.0.1', port: 995, security: 'tls' },
  smtp: null,
  leaveOnServer: { kind: 'forever' },
  offlineFolders: [],
  checkIntervalMinutes: 10,
};

/** A parse result from the raw header lines alone: what the index needs to list the message, nothing decoded. */
function headerOnlyResult(source: Buffer): ParsedMessage {
  const headers = readRawHeaders(source);
  const date = Date.parse(firstHeader(headers, 'date') ?? '');
  return {
    envelope: {
      messageId: parseMessageIds(firstHeader(headers, 'message-id'))[0] ?? null,
      inReplyTo: null,
      references: [],
      subject: firstHeader(headers, 'subject') ?? '',
      from: null,
      to: [],
      cc: [],
      bcc: [],
      replyTo: [],
      date: Number.isNaN(date) ? null : new Date(date).toISOString(),
    },
    threadId: null,
    bodyText: '',
    preview: '',
    parts: [],
    attachments: [],
    hasAttachments: false,
    parseWarning: null,
    sourceSha256: createHash('sha256').update(source).digest('hex'),
  };
}

async function storeFloor(sourceMaildir: string, profileDir: string): Promise<{ bytes: number; messages: number }> {
  const names = (await readdir(path.join(sourceMaildir, 'cur'))).sort();
  const sources = await Promise.all(names.map((name) => readFile(path.join(sourceMaildir, 'cur', name))));
  await rm(profileDir, { recursive: true, force: true });
  const store = await openMessageStore({ profileDir });
  try {
    await store.upsertAccount(ACCOUNT);
    const inbox = await ensureLocalFolders(store, ACCOUNT.id);
    let bytes = 0;
    let stored = 0;
    let next = 0;
    while (next < sources.length) {
      const batch: number[] = [];
      let batchBytes = 0;
      // As DownloadBatches fills them: a batch is full at BATCH_MAX_MESSAGES or once past BATCH_MAX_BYTES.
      while (next < sources.length && batch.length < BATCH_MAX_MESSAGES && batchBytes < BATCH_MAX_BYTES) {
        batch.push(next);
        batchBytes += sources[next].length;
        next += 1;
      }
      const results = await store.insertMessageBatch(
        inbox.id,
        batch.map((index) => ({
          source: sources[index],
          popUidl: `floor-${index}`,
          onServer: true,
          parsed: Promise.resolve(headerOnlyResult(sources[index])),
        })),
        // As a download that leaves a copy: commits are made durable once, at the end (as before a DELE).
        { durable: false },
      );
      stored += results.filter((result) => result.created).length;
      bytes += batchBytes;
    }
    store.makeIndexDurable();
    return { bytes, messages: stored };
  } finally {
    store.close();
  }
}

const [sourceMaildir, profileDir] = process.argv.slice(2);
storeFloor(sourceMaildir, profileDir).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
