/**
 * Backup (S11): a folder exported as mbox (mboxrd quoting) or as one .eml file per message, and
 * imported back. Export writes the stored bytes unchanged; bodies not yet on this computer are
 * downloaded first when the server can be reached, and counted as skipped otherwise.
 */
import { mkdir, open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MailError } from '../../shared/errors';
import { cancelledError, isCancelled, throwIfCancelled } from '../sync/engine';
import type { MailService, ServiceInternals } from './create-service';
import { DOWNLOAD_CHUNK } from './message-handlers';

const PAGE_SIZE = 1000;

export interface ExportResult {
  path: string;
  exported: number;
  skipped: number;
}

/** mboxrd (RFC 4155 and the "mboxrd" convention): every line matching /^>*From / gains one '>'. */
export function quoteMboxrd(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/(^|\n)(>*From )/g, '$1>$2');
  return Buffer.from(text, 'latin1');
}

export function unquoteMboxrd(text: string): string {
  return text.replace(/(^|\n)>(>*From )/g, '$1$2');
}

/** Splits an mboxrd file into messages, undoing the quoting. Separator lines start with "From ". */
export function splitMbox(content: Buffer): Buffer[] {
  const text = content.toString('latin1');
  const messages: Buffer[] = [];
  const separator = /(?:^|\r?\n)From [^\r\n]*\r?\n/g;
  const starts: Array<{ bodyStart: number; separatorStart: number }> = [];
  for (let match = separator.exec(text); match; match = separator.exec(text)) {
    starts.push({ separatorStart: match.index, bodyStart: match.index + match[0].length });
  }
  for (let index = 0; index < starts.length; index++) {
    const end = index + 1 < starts.length ? starts[index + 1].separatorStart : text.length;
    let body = text.slice(starts[index].bodyStart, end);
    // The blank line that separates messages in mbox belongs to the format, not to the message.
    if (body.endsWith('\r\n\r\n')) body = body.slice(0, -2);
    else if (body.endsWith('\n\n')) body = body.slice(0, -1);
    messages.push(Buffer.from(unquoteMboxrd(body), 'latin1'));
  }
  return messages;
}

function safeFileName(subject: string): string {
  const cleaned = subject
    .replace(/[^\p{L}\p{N} ._-]+/gu, '')
    .trim()
    .slice(0, 60);
  return cleaned.length > 0 ? cleaned : 'message';
}

/** How far an export is: downloading bodies first (phase 'download'), then writing (phase 'export'). */
export interface ExportProgress {
  phase: 'download' | 'export';
  folder: string;
  done: number;
  total: number;
  bytes: number;
}

export interface ExportOptions {
  /** Stops the export between messages: what it had written is removed, and it fails with CANCELLED. */
  signal?: AbortSignal;
  onProgress?(progress: ExportProgress): void;
}

/** Where an export writes: a path the caller chose, or a new name in a folder (never an existing one). */
export type ExportTarget = { path: string } | { directory: string };

/** Bodies downloaded before an export come in chunks of about this many bytes (Cancel waits at most one). */
const EXPORT_CHUNK_BYTES = 512 * 1024;

/** Progress events at most this often (the last one always goes out). */
const PROGRESS_INTERVAL_MS = 100;

/** A folder name made safe as a file name on every system we run on. */
export function exportBaseName(folderName: string): string {
  const cleaned = folderName
    .replace(/[\\/:*?"<>|\p{Cc}]+/gu, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 100);
  return cleaned.length > 0 ? cleaned : 'Folder';
}

type ExportDeps = Pick<ServiceInternals, 'store' | 'engineFor'>;

interface OpenedTarget {
  path: string;
  mbox: FileHandle | null;
  /** The eml folder was made by this export (so removing it on cancel removes nothing of the user's). */
  createdDirectory: boolean;
}

const isExisting = (error: unknown): boolean => (error as { code?: string }).code === 'EEXIST';

async function openTarget(target: ExportTarget, folderName: string, format: 'mbox' | 'eml'): Promise<OpenedTarget> {
  if ('path' in target) {
    const outPath = target.path;
    if (format === 'eml') {
      const created = await mkdir(outPath, { recursive: true });
      return { path: outPath, mbox: null, createdDirectory: created !== undefined };
    }
    const mbox = await open(outPath, 'wx', 0o600).catch((error: unknown) => {
      if (isExisting(error)) {
        throw new MailError(
          'INVALID_INPUT',
          `${outPath} already exists; choose another name so nothing is overwritten.`,
        );
      }
      throw error;
    });
    return { path: outPath, mbox, createdDirectory: false };
  }
  await mkdir(target.directory, { recursive: true });
  const base = exportBaseName(folderName);
  for (let attempt = 1; ; attempt++) {
    const name = `${base}${attempt > 1 ? ` (${attempt})` : ''}${format === 'mbox' ? '.mbox' : ''}`;
    const candidate = join(target.directory, name);
    try {
      // Created exclusively: two exports at once never pick the same name, nothing is overwritten.
      if (format === 'mbox')
        return { path: candidate, mbox: await open(candidate, 'wx', 0o600), createdDirectory: false };
      await mkdir(candidate);
      return { path: candidate, mbox: null, createdDirectory: true };
    } catch (error) {
      if (!isExisting(error)) throw error;
    }
  }
}

/**
 * Exports a folder's messages, oldest first, as mboxrd or .eml files. Bodies not on this computer
 * are downloaded first (counted as skipped when that fails); Cancel (the signal) stops it between
 * messages and removes what it wrote.
 */
export async function exportFolder(
  service: ExportDeps | { internals: ExportDeps },
  folderId: string,
  format: 'mbox' | 'eml',
  destination: ExportTarget | string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const deps = 'internals' in service ? service.internals : service;
  const target = typeof destination === 'string' ? { path: destination } : destination;
  const { store } = deps;
  const { signal, onProgress } = options;
  const folder = store.getFolder(folderId);
  if (!folder) throw new MailError('NOT_FOUND', 'There is no such folder; it may have been deleted.');
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const page = store.listMessages({ folderId, offset, limit: PAGE_SIZE, sort: 'date', direction: 'asc' });
    ids.push(...page.items.map((item) => item.id));
    if (page.items.length < PAGE_SIZE) break;
  }
  let lastReport = 0;
  const report = (progress: Omit<ExportProgress, 'folder'>, force = false): void => {
    const now = Date.now();
    if (!onProgress || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = now;
    onProgress({ ...progress, folder: folder.name });
  };

  const missing = ids.filter((id) => !store.getMessageRecord(id)?.localPath);
  if (missing.length > 0) {
    const engine = deps.engineFor(folder.accountId);
    const chunks = downloadChunks(store, missing, DOWNLOAD_CHUNK[engine.mode]);
    let downloaded = 0;
    let bytes = 0;
    report({ phase: 'download', done: 0, total: missing.length, bytes: 0 }, true);
    for (const [index, chunk] of chunks.entries()) {
      throwIfCancelled(signal);
      try {
        await engine.fetchBodies(chunk, { signal });
      } catch (error) {
        throwIfCancelled(signal);
        if (isCancelled(error)) throw error;
        // Not reachable now: what is not here is counted as skipped.
        break;
      } finally {
        for (const id of chunk) {
          const record = store.getMessageRecord(id);
          if (!record?.localPath) continue;
          downloaded += 1;
          bytes += record.size;
        }
      }
      report({ phase: 'download', done: downloaded, total: missing.length, bytes }, index === chunks.length - 1);
    }
  }
  throwIfCancelled(signal);

  const opened = await openTarget(target, folder.name, format);
  const { path: outPath, mbox } = opened;
  const written: string[] = [];
  let exported = 0;
  let skipped = 0;
  let bytes = 0;
  let finished = false;
  try {
    report({ phase: 'export', done: 0, total: ids.length, bytes: 0 }, true);
    for (const [index, id] of ids.entries()) {
      throwIfCancelled(signal);
      const record = store.getMessageRecord(id);
      if (!record?.localPath) {
        skipped++;
      } else {
        const raw = await store.readRaw(id);
        if (mbox) {
          const date = new Date(record.date ?? Date.now()).toUTCString().replace(',', '');
          const sender = record.from?.address || 'MAILER-DAEMON';
          // One empty line ends each message (RFC 4155); a message without a final newline gets one first.
          const ending = raw.subarray(-1).toString('latin1') === '\n' ? '\n' : '\n\n';
          await mbox.write(
            Buffer.concat([Buffer.from(`From ${sender} ${date}\n`), quoteMboxrd(raw), Buffer.from(ending)]),
          );
        } else {
          const file = join(outPath, `${String(index + 1).padStart(5, '0')} ${safeFileName(record.subject)}.eml`);
          await writeFile(file, raw, { flag: 'wx', mode: 0o600 }).catch((error: unknown) => {
            if (isExisting(error)) {
              throw new MailError(
                'INVALID_INPUT',
                `${file} already exists; choose another folder so nothing is overwritten.`,
              );
            }
            throw error;
          });
          written.push(file);
        }
        exported++;
        bytes += raw.length;
      }
      report({ phase: 'export', done: index + 1, total: ids.length, bytes }, index + 1 === ids.length);
    }
    throwIfCancelled(signal);
    if (mbox) await mbox.sync();
    finished = true;
  } catch (error) {
    if (!isCancelled(error)) throw error;
    throw cancelledError(
      `Export stopped after ${exported} of ${ids.length} messages; the unfinished ${mbox ? 'file' : 'export'} ${outPath} was removed.`,
    );
  } finally {
    await mbox?.close();
    if (!finished) await removePartial(opened, written);
  }
  return { path: outPath, exported, skipped };
}

/**
 * The server-only messages in chunks of at most `count` messages and about EXPORT_CHUNK_BYTES:
 * the engine checks Cancel between chunks, so on a slow link a chunk is what Cancel may wait for.
 */
function downloadChunks(store: ExportDeps['store'], ids: readonly string[], count: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let currentBytes = 0;
  for (const id of ids) {
    const size = store.getMessageRecord(id)?.size ?? 0;
    if (current.length > 0 && (current.length >= count || currentBytes + size > EXPORT_CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(id);
    currentBytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** A stopped or failed export leaves nothing half-written behind (and nothing of the user's goes). */
async function removePartial(opened: OpenedTarget, written: readonly string[]): Promise<void> {
  if (opened.mbox) {
    await rm(opened.path, { force: true });
    return;
  }
  if (opened.createdDirectory) {
    await rm(opened.path, { recursive: true, force: true });
    return;
  }
  await Promise.all(written.map((file) => rm(file, { force: true })));
}

export async function importMessages(
  service: MailService,
  path: string,
  folderId: string,
): Promise<{ imported: number }> {
  const { store } = service.internals;
  const folder = store.getFolder(folderId);
  if (!folder) throw new MailError('NOT_FOUND', 'There is no such folder.');
  let sources: Buffer[];
  const info = await stat(path).catch(() => {
    throw new MailError('NOT_FOUND', `${path} does not exist.`);
  });
  if (info.isDirectory()) {
    const names = (await readdir(path)).filter((name) => name.toLowerCase().endsWith('.eml')).sort();
    sources = await Promise.all(names.map((name) => readFile(join(path, name))));
  } else {
    const content = await readFile(path);
    sources = content.subarray(0, 5).toString('latin1') === 'From ' ? splitMbox(content) : [content];
  }
  const account = store.getAccount(folder.accountId);
  let imported = 0;
  for (const source of sources) {
    if (source.length === 0) continue;
    const { record } = await store.insertMessage({
      folderId,
      source,
      flags: ['\\Seen'],
      onServer: false,
      durable: true,
    });
    if (folder.kind === 'server' && account?.mode === 'imap') {
      await service.internals.actions.appendToServerFolder(record.id, folder.path);
    }
    imported++;
  }
  return { imported };
}
