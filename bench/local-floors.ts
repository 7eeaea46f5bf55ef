/**
 * The two floors of figures (1) and (5) that store the corpus on this disk. The messages are read
 * from Dovecot's Maildir first, in this process (no network), and stored in the batches of a POP3
 * download (DownloadBatches: BATCH_MAX_MESSAGES, BATCH_MAX_BYTES), one batch being stored at a time.
 * - `files`, the disk floor: each batch goes through the store's own batch writer
 *   (`writeMessageBatch`, maildir-batch.ts): tmp/ → write → fsync → close → rename into cur/, eight
 *   files at a time, then one fsync of cur/. No index: what durably storing the messages as files
 *   costs on this disk by itself.
 * - `store`, the store floor: each batch goes through `MessageStore.insertMessageBatch`, the path a
 *   POP3 download takes: those files, index rows with their search entries, one commit per batch,
 *   made durable at the end, as a download that leaves a copy does (the body commits of an IMAP sync
 *   are not synced one by one either). Nothing is parsed: each message's parse result is made here
 *   from its raw header lines (subject, Message-ID and date, undecoded; no body text, no MIME walk),
 *   with the SHA-256 that the parse worker would compute.
 *
 * Our sync against the store floor shows what the parses (and the protocol) add; the store floor
 * against a peer, how far the design alone is from a target. Built with the app (it runs the same
 * store code); usage: `node local-floors.js files|store SOURCE_MAILDIR TARGET_DIR`. Prints
 * `{"bytes":…,"messages":…}`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ParsedMessage } from '../main/mime/parse';
import { firstHeader, parseMessageIds, readRawHeaders } from '../main/mime/raw-headers';
import { ensureMaildir } from '../main/store/maildir';
import { writeMessageBatch } from '../main/store/maildir-batch';
import { openMessageStore } from '../main/store/message-store';
import { testAccount } from '../main/store/test-fixtures';
import { DownloadBatches } from '../main/sync/pop3/download-batches';
import { ensureLocalFolders } from '../main/sync/pop3/local-folders';

type Mode = 'files' | 'store';

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

interface Item {
  index: number;
  bytes: Buffer;
}

/** Stores `sources` in download batches with `storeBatch`; resolves once every batch is stored. */
async function inDownloadBatches(
  sources: readonly Buffer[],
  storeBatch: (batch: readonly Item[]) => Promise<void>,
): Promise<void> {
  const batches = new DownloadBatches<Item>(storeBatch);
  for (const [index, bytes] of sources.entries()) await batches.add({ index, bytes });
  await batches.drain();
}

async function localFloor(
  mode: Mode,
  sourceMaildir: string,
  target: string,
): Promise<{ bytes: number; messages: number }> {
  const names = (await readdir(path.join(sourceMaildir, 'cur'))).sort();
  const sources = await Promise.all(names.map((name) => readFile(path.join(sourceMaildir, 'cur', name))));
  const bytes = sources.reduce((total, source) => total + source.length, 0);
  await rm(target, { recursive: true, force: true });
  if (mode === 'files') {
    await ensureMaildir(target);
    let messages = 0;
    await inDownloadBatches(sources, async (batch) => {
      const written = await writeMessageBatch(
        target,
        batch.map(({ bytes: source }) => ({ source, flags: [], imap: null, popUidl: null, receivedAt: null })),
      );
      messages += written.length;
    });
    return { bytes, messages };
  }
  const store = await openMessageStore({ profileDir: target });
  try {
    const account = { ...testAccount('store-floor', 'pop3'), leaveOnServer: { kind: 'forever' as const } };
    await store.upsertAccount(account);
    const inbox = await ensureLocalFolders(store, account.id);
    let messages = 0;
    await inDownloadBatches(sources, async (batch) => {
      const results = await store.insertMessageBatch(
        inbox.id,
        batch.map(({ index, bytes: source }) => ({
          source,
          popUidl: `floor-${index}`,
          onServer: true,
          parsed: Promise.resolve(headerOnlyResult(source)),
        })),
        { durable: false },
      );
      messages += results.filter((result) => result.created).length;
    });
    store.makeIndexDurable();
    return { bytes, messages };
  } finally {
    store.close();
  }
}

const [mode, sourceMaildir, target] = process.argv.slice(2) as [Mode, string, string];
if (mode !== 'files' && mode !== 'store') {
  process.stderr.write('usage: local-floors.js files|store SOURCE_MAILDIR TARGET_DIR\n');
  process.exitCode = 2;
} else {
  localFloor(mode, sourceMaildir, target).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
