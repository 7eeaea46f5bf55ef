import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestStore, temporaryProfile, testAccount } from './test-fixtures';

/** Real-world and hostile messages, read in place (never copied into the repository). */
const CORPUS = '/work/shared/mail-corpus';
const PER_MESSAGE_LIMIT_MS = 2_000;

interface CorpusEntry {
  path: string;
  bytes: number;
  sha256: string;
}

function manifest(): CorpusEntry[] {
  const [, ...rows] = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  return rows.map((row) => {
    const columns = row.split('\t');
    return { path: columns[0], bytes: Number(columns[4]), sha256: columns[5] };
  });
}

const profile = temporaryProfile('wb-corpus-');
afterAll(() => profile.remove());

describe('the mail corpus (355 real-world and malformed messages)', () => {
  it('stores every message byte-exactly, lists it, and opens it, each within 2 s', async () => {
    const entries = manifest();
    expect(entries.length).toBe(355);
    const store = await openTestStore(profile.directory);
    try {
      await store.upsertAccount(testAccount('corpus', 'pop3'));
      const folder = await store.upsertFolder({ accountId: 'corpus', kind: 'local', path: 'Corpus' });
      const idByPath = new Map<string, string>();
      let slowest = { path: '', milliseconds: 0 };
      const note = (path: string, milliseconds: number) => {
        if (milliseconds > slowest.milliseconds) slowest = { path, milliseconds };
        expect(milliseconds, `${path} took ${Math.round(milliseconds)} ms`).toBeLessThan(PER_MESSAGE_LIMIT_MS);
      };

      for (const entry of entries) {
        const bytes = readFileSync(join(CORPUS, entry.path));
        const start = performance.now();
        const { record } = await store.insertMessage({ folderId: folder.id, source: bytes });
        note(entry.path, performance.now() - start);
        expect(record.size).toBe(entry.bytes);
        expect(record.sha256, entry.path).toBe(entry.sha256);
        idByPath.set(entry.path, record.id);
      }

      const page = store.listMessages({ folderId: folder.id, offset: 0, limit: 1000 });
      expect(page.total).toBe(entries.length);
      expect(new Set(page.items.map((item) => item.id))).toEqual(new Set(idByPath.values()));

      let warned = 0;
      for (const entry of entries) {
        const id = idByPath.get(entry.path) ?? '';
        const start = performance.now();
        const detail = await store.getMessageDetail(id);
        note(entry.path, performance.now() - start);
        expect(detail.parts).not.toBeNull();
        if (detail.parseWarning) warned += 1;
        const raw = await store.readRaw(id);
        expect(createHash('sha256').update(raw).digest('hex')).toBe(entry.sha256);
      }
      process.stdout.write(
        `corpus: ${entries.length} stored and opened; slowest ${slowest.path} ${Math.round(slowest.milliseconds)} ms; ${warned} with a parse warning\n`,
      );

      // Spot checks that the parser understood, not just survived.
      const torture = await store.getMessageDetail(idByPath.get('postal-mime/mimetorture.eml') ?? '');
      expect(torture.subject).toBe("Ryan Finnie's MIME Torture Test v1.0");
      expect(torture.parts?.length).toBeGreaterThan(5);
      const encoded = store.getMessageRecord(idByPath.get('mail-mime-parser/encoded-headers') ?? '');
      expect(encoded?.subject).toBe('¡Hola, señor!');
      expect(store.search('Torture').map((item) => item.id)).toContain(idByPath.get('postal-mime/mimetorture.eml'));
    } finally {
      store.close();
    }
  });
});
