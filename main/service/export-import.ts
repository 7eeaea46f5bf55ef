/**
 * Backup (S11): a folder exported as mbox (mboxrd quoting) or as one .eml file per message, and
 * imported back. Export writes the stored bytes unchanged; bodies not yet on this computer are
 * downloaded first when the server can be reached, and counted as skipped otherwise.
 */
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MailError } from '../../shared/errors';
import type { MailService } from './create-service';

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

export async function exportFolder(
  service: MailService,
  folderId: string,
  format: 'mbox' | 'eml',
  outPath: string,
): Promise<ExportResult> {
  const { api, internals } = service;
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE_SIZE) {
    const page = await api.listMessages({ folderId, offset, limit: PAGE_SIZE, sort: 'date', direction: 'asc' });
    ids.push(...page.items.map((item) => item.id));
    if (page.items.length < PAGE_SIZE) break;
  }
  const missing = ids.filter((id) => !internals.store.getMessageRecord(id)?.localPath);
  if (missing.length > 0) await api.downloadMessages({ messageIds: missing }).catch(() => undefined);

  let exported = 0;
  let skipped = 0;
  const refuseOverwrite = (error: unknown): never => {
    if ((error as { code?: string }).code === 'EEXIST') {
      throw new MailError('INVALID_INPUT', `${outPath} already exists; choose another name so nothing is overwritten.`);
    }
    throw error;
  };
  if (format === 'eml') await mkdir(outPath, { recursive: true });
  const mbox = format === 'mbox' ? await open(outPath, 'wx', 0o600).catch(refuseOverwrite) : null;
  try {
    for (const [index, id] of ids.entries()) {
      const record = internals.store.getMessageRecord(id);
      if (!record?.localPath) {
        skipped++;
        continue;
      }
      const raw = await internals.store.readRaw(id);
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
        await writeFile(file, raw, { flag: 'wx', mode: 0o600 }).catch(refuseOverwrite);
      }
      exported++;
    }
    if (mbox) await mbox.sync();
  } finally {
    await mbox?.close();
  }
  return { path: outPath, exported, skipped };
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
