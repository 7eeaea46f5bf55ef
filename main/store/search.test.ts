/**
 * Search results a person relies on, in both shapes of the query: up to SEARCH_RANK_LIMIT matches
 * in scope are ranked (best first); more than that (a word most messages contain, a short prefix
 * while typing) list the newest. Either way an account or folder filter returns that scope's
 * matches, prefixes of one to many characters match, several terms must all match, and non-Latin
 * text is found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageSummary } from '../../shared/model';
import { SEARCH_RANK_LIMIT, type MessageStore } from './message-store';
import { buildMessage, openTestStore, temporaryProfile, testAccount } from './test-fixtures';
import type { HeaderOnlyInput } from './types';

/** More matches than the ranking takes: the common word is in every row of the big folder. */
const BIG_FOLDER_ROWS = SEARCH_RANK_LIMIT + 500;
const COMMON_WORD = 'status';
/** Rows of the big folder with 'kumquat' in the subject. */
const KUMQUAT_ROWS = BIG_FOLDER_ROWS / 50;
const start = Date.parse('2020-01-01T00:00:00Z');

const profile = temporaryProfile('wb-search-');
let store: MessageStore;
let bigId: string;
let smallId: string;
let otherAccountFolderId: string;
const smallIds: Record<string, string> = {};

function headerRow(folderId: string, index: number, subject: string): HeaderOnlyInput {
  // Stored in index order, dated out of order (the newest stored is not the newest dated).
  const minutes = (index * 7_919) % BIG_FOLDER_ROWS;
  return {
    folderId,
    imap: { uidvalidity: 1, uid: index + 1 },
    envelope: {
      messageId: `<m${index}@${folderId}.example>`,
      inReplyTo: null,
      references: [],
      subject,
      from: { name: `Sender ${index % 50}`, address: `s${index % 50}@big.example` },
      to: [{ name: '', address: 'me@big.example' }],
      cc: [],
      bcc: [],
      replyTo: [],
      date: new Date(start + minutes * 60_000).toISOString(),
    },
    size: 1_000,
    flags: [],
  };
}

const ids = (results: MessageSummary[]) => results.map((summary) => summary.id);
const dates = (results: MessageSummary[]) => results.map((summary) => Date.parse(summary.date ?? ''));

beforeAll(async () => {
  store = await openTestStore(profile.directory);
  await store.upsertAccount(testAccount('acct'));
  await store.upsertAccount(testAccount('other'));
  const small = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'Small' });
  smallId = small.id;
  // The small folder's messages are stored first: the newest-stored matches are all elsewhere, and
  // the big folder's subjects repeat the common word, so they also rank above these.
  const smallMessages: Record<string, { subject: string; body: string; from?: string }> = {
    weak: {
      subject: 'Weekly notes',
      body: `One ${COMMON_WORD} line, one kumquat, among many other words in a rather long body of text.`,
    },
    german: { subject: 'Grüße aus München', body: `Herzliche Grüße, Jürgen Müller. ${COMMON_WORD}` },
    russian: { subject: 'Привет из Москвы', body: 'Встреча в понедельник.' },
    japanese: { subject: '会議の議事録を送ります', body: '来週の予定' },
    zygote: { subject: 'Zygote biology', body: 'zygomatic arch and zygotes' },
    strong: { subject: 'kumquat kumquat kumquat', body: 'Fruit.' },
  };
  for (const [key, fields] of Object.entries(smallMessages)) {
    const { record } = await store.insertMessage({
      folderId: smallId,
      source: buildMessage(fields),
      imap: { uidvalidity: 1, uid: Object.keys(smallIds).length + 1 },
    });
    smallIds[key] = record.id;
  }
  bigId = (await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' })).id;
  const rows: HeaderOnlyInput[] = [];
  for (let index = 0; index < BIG_FOLDER_ROWS; index += 1) {
    const extra = `${index % 100 === 0 ? ' quarterly budget' : ''}${index % 50 === 25 ? ' kumquat' : ''}`;
    rows.push(headerRow(bigId, index, `${COMMON_WORD} ${COMMON_WORD} report ${index}${extra}`));
  }
  store.insertHeaderOnlyBatch(rows);
  otherAccountFolderId = (await store.upsertFolder({ accountId: 'other', kind: 'server', path: 'INBOX' })).id;
  store.insertHeaderOnlyBatch(
    [0, 1, 2].map((index) => headerRow(otherAccountFolderId, index, `${COMMON_WORD} elsewhere`)),
  );
}, 60_000);

afterAll(() => {
  store?.close();
  profile.remove();
});

describe('search with more matches than are ranked', () => {
  it('a folder filter returns that folder’s matches, not the best or newest of other folders', () => {
    expect(ids(store.search(COMMON_WORD, { folderId: smallId })).sort()).toEqual(
      [smallIds.weak, smallIds.german].sort(),
    );
    // Also as a prefix typed so far, and within the account.
    expect(ids(store.search('stat', { folderId: smallId })).sort()).toEqual([smallIds.weak, smallIds.german].sort());
    const otherAccount = store.search(COMMON_WORD, { accountId: 'other' });
    expect(otherAccount).toHaveLength(3);
    expect(otherAccount.every((summary) => summary.folderId === otherAccountFolderId)).toBe(true);
  });

  it('lists the newest matches, newest first, each one a match in scope', () => {
    const results = store.search(COMMON_WORD, { folderId: bigId, limit: 100 });
    expect(results).toHaveLength(100);
    expect(results.every((summary) => summary.folderId === bigId && summary.subject.includes(COMMON_WORD))).toBe(true);
    const shown = dates(results);
    expect(shown).toEqual([...shown].sort((left, right) => right - left));
    // Unfiltered: every account, capped at the limit.
    const everywhere = store.search(COMMON_WORD);
    expect(everywhere).toHaveLength(50);
    expect(dates(everywhere)).toEqual([...dates(everywhere)].sort((left, right) => right - left));
    // One- to three-letter prefixes (the prefix index) behave like longer ones.
    for (const prefix of ['s', 'st', 'sta', 'stat']) {
      const found = store.search(prefix, { accountId: 'acct', limit: 20 });
      expect(found, prefix).toHaveLength(20);
      expect(found.every((summary) => summary.accountId === 'acct')).toBe(true);
    }
  });
});

describe('search with few matches (ranked)', () => {
  it('several terms must all match; the best match comes first, also within a folder', () => {
    // 'quarterly budget' is in every 100th subject of the big folder only.
    const budget = store.search('quarterly budget', { limit: 500 });
    expect(budget).toHaveLength(BIG_FOLDER_ROWS / 100);
    expect(budget.every((summary) => summary.subject.endsWith('quarterly budget'))).toBe(true);
    expect(store.search('quarterly zygote')).toEqual([]);
    // 'kumquat' three times in a short subject ranks above once in a long body; the big folder's
    // kumquat rows (short subjects, better ranked) do not push the small folder's out.
    expect(ids(store.search('kumquat', { folderId: smallId }))).toEqual([smallIds.strong, smallIds.weak]);
    expect(ids(store.search('kumquat', { limit: 500 })).slice(-1)).toEqual([smallIds.weak]);
    expect(store.search('kumquat', { limit: 500 })).toHaveLength(KUMQUAT_ROWS + 2);
  });

  it('finds prefixes, German and non-Latin text', () => {
    const found = (query: string) => ids(store.search(query, { folderId: smallId }));
    for (const query of ['z', 'zy', 'zyg', 'zygo', 'Zygote', 'zygomatic'])
      expect(found(query), query).toEqual([smallIds.zygote]);
    for (const query of ['Müller', 'muller', 'Müll', 'München', 'munchen', 'Grüße', 'jurgen']) {
      expect(found(query), query).toEqual([smallIds.german]);
    }
    for (const query of ['Привет', 'привет', 'прив', 'Москвы', 'понедельник'])
      expect(found(query), query).toEqual([smallIds.russian]);
    for (const query of ['会議の議事録を送ります', '会議', '会', '来週の予定'])
      expect(found(query), query).toEqual([smallIds.japanese]);
  });
});

describe('header-only rows whose search entry waits for their body (a folder kept offline)', () => {
  it('are found before and after their bodies come, once each, and a deleted one is never found', async () => {
    const folder = await store.upsertFolder({ accountId: 'acct', kind: 'server', path: 'Offline' });
    const deferred = (index: number, subject: string): HeaderOnlyInput => ({
      ...headerRow(folder.id, index, subject),
      imap: { uidvalidity: 7, uid: index + 1 },
    });
    const [early, late, gone] = store
      .insertHeaderOnlyBatch(
        [deferred(0, 'Pomegranate harvest'), deferred(1, 'Pomegranate prices'), deferred(2, 'Lychee season')],
        { deferSearch: true },
      )
      .map((result) => result.id);

    // The body of one comes before anyone searched: its entry is made with the body.
    await store.attachBody(early, buildMessage({ subject: 'Pomegranate harvest', body: 'Ripe persimmon too.' }));
    await store.deleteMessage(gone);
    expect(ids(store.search('pomegranate')).sort()).toEqual([early, late].sort());
    expect(ids(store.search('persimmon'))).toEqual([early]);
    expect(store.search('lychee')).toEqual([]);

    // The other's body comes after a search gave it its header entry: that entry is replaced.
    await store.attachBody(late, buildMessage({ subject: 'Pomegranate prices', body: 'Quince is cheaper.' }));
    expect(ids(store.search('pomegranate')).sort()).toEqual([early, late].sort());
    expect(ids(store.search('quince'))).toEqual([late]);
    expect(store.indexPendingSearch()).toBe(0);
  });

  it('get their header entries when the store opens again after a pass that ended before the bodies', async () => {
    const other = temporaryProfile('wb-search-pending-');
    try {
      let reopened = await openTestStore(other.directory);
      await reopened.upsertAccount(testAccount('acct'));
      const folder = await reopened.upsertFolder({ accountId: 'acct', kind: 'server', path: 'INBOX' });
      const [id] = reopened
        .insertHeaderOnlyBatch([headerRow(folder.id, 0, 'Tamarind chutney')], { deferSearch: true })
        .map((result) => result.id);
      reopened.close();
      reopened = await openTestStore(other.directory);
      try {
        expect(reopened.indexPendingSearch()).toBe(0);
        expect(ids(reopened.search('tamarind'))).toEqual([id]);
      } finally {
        reopened.close();
      }
    } finally {
      other.remove();
    }
  });
});
