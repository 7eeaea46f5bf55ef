/**
 * Figure (6): full-text search over the 100,000-message variant of the corpus, measured inside one
 * process on the store (`store.search`), p50 and p95 over a fixed set of queries. The same profile
 * serves figure (7), the browser UI.
 *
 * The profile is populated through the store's own `insertMessage` (durable files, parsed, indexed),
 * which takes minutes for 100,000 messages, so it is kept under bench/results/cache/ and reused while
 * the corpus generator and the index schema are unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openMessageStore } from '../main/store/message-store';
import { generateCorpus } from './corpus';
import { runQuietly } from './processes';
import { formatMilliseconds, NOT_MEASURED, type ReportRow } from './report';
import { percentile, summarize } from './statistics';
import { CLI_SCRIPT, PROJECT_ROOT } from './whereabouts';

export const SEARCH_TARGET_P95_MS = 50;
export const ARCHIVE_FOLDER = 'Archive';
/** A small second folder, so the UI figure can switch away from the big one and back. */
export const SMALL_FOLDER = 'Recent';
const SMALL_FOLDER_MESSAGES = 20;
const INSERT_CONCURRENCY = 32;
const COMPLETE_FILE = 'complete.json';
/** Bumped when what ensureSearchProfile puts into the profile changes. */
const POPULATE_VERSION = 1;

/** What people type: common and rare words, names, non-Latin text, addresses, several terms, prefixes. */
export const SEARCH_QUERIES: readonly string[] = [
  'meeting',
  'zeppelin',
  'budget review',
  'invoice payment',
  'alice',
  'Jürgen',
  'Müller',
  'Grüße',
  'München',
  '会議の議事録を送ります',
  'Привет',
  'deadline project report',
  'kitchen recipe',
  'zuhu',
  'the',
  'of and the',
  'incident outage postmortem',
  'quokka fjord',
  'tanaka',
  'saffron gazpacho',
  'noreply-builds',
  'Re: party',
];

export interface SearchProfile {
  directory: string;
  messages: number;
  /** Seconds it took to populate, or null when the cached profile was reused. */
  populateSeconds: number | null;
}

async function cacheKey(seed: number, count: number): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['bench/corpus.ts', 'main/store/migrations.ts']) {
    hash.update(await readFile(path.join(PROJECT_ROOT, file)));
  }
  hash.update(`${POPULATE_VERSION}/${seed}/${count}`);
  return hash.digest('hex').slice(0, 12);
}

/** A profile with one POP3 account whose local folder holds the first `count` corpus messages. */
export async function ensureSearchProfile(cacheRoot: string, seed: number, count: number): Promise<SearchProfile> {
  const directory = path.join(cacheRoot, `search-${count}-${await cacheKey(seed, count)}`);
  if (existsSync(path.join(directory, COMPLETE_FILE))) return { directory, messages: count, populateSeconds: null };
  // Profiles of older corpus or schema versions are of no more use (each is gigabytes).
  for (const name of await readdir(cacheRoot).catch(() => [] as string[])) {
    if (name.startsWith(`search-${count}-`)) await rm(path.join(cacheRoot, name), { recursive: true, force: true });
  }
  await mkdir(directory, { recursive: true });
  const started = process.hrtime.bigint();
  // The account through the CLI, as a user adds it; its server is unreachable on purpose (nothing to sync).
  await runQuietly(
    process.execPath,
    [
      CLI_SCRIPT,
      '--profile',
      directory,
      'account',
      'add',
      '--name',
      'archive',
      '--email',
      'me@example.net',
      '--mode',
      'pop3',
      '--host',
      '127.0.0.1',
      '--port',
      '9',
      '--security',
      'tls',
      '--password-env',
      'BENCH_ARCHIVE_PASSWORD',
      '--leave-on-server',
      'forever',
    ],
    { cwd: PROJECT_ROOT, env: { ...process.env, BENCH_ARCHIVE_PASSWORD: 'unused' } },
  );
  const store = await openMessageStore({ profileDir: directory });
  try {
    const [account] = store.listAccounts();
    if (!account) throw new Error('the archive account was not created');
    const archive = await store.upsertFolder({ accountId: account.id, kind: 'local', path: ARCHIVE_FOLDER });
    const small = await store.upsertFolder({ accountId: account.id, kind: 'local', path: SMALL_FOLDER });
    let pending: Array<Promise<unknown>> = [];
    let done = 0;
    for (const { plan, raw } of generateCorpus({ seed, count: count + SMALL_FOLDER_MESSAGES })) {
      const folderId = plan.index < count ? archive.id : small.id;
      const flags = [
        ...(plan.flags.includes('S') ? ['\\Seen'] : []),
        ...(plan.flags.includes('F') ? ['\\Flagged'] : []),
        ...(plan.flags.includes('R') ? ['\\Answered'] : []),
      ];
      pending.push(
        store.insertMessage({ folderId, source: raw, flags, receivedAt: new Date(plan.date).toISOString() }),
      );
      if (pending.length >= INSERT_CONCURRENCY) {
        await Promise.all(pending);
        pending = [];
        done += INSERT_CONCURRENCY;
        if (done % 5_000 === 0)
          process.stderr.write(`  populating the ${count.toLocaleString('en')}-message profile: ${done}\n`);
      }
    }
    await Promise.all(pending);
  } finally {
    store.close();
  }
  const populateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await writeFile(path.join(directory, COMPLETE_FILE), `${JSON.stringify({ seed, count, populateSeconds })}\n`);
  return { directory, messages: count, populateSeconds };
}

export interface SearchFigure {
  rows: ReportRow[];
  section: string;
}

export async function runSearchFigure(profile: SearchProfile, runsPerQuery: number): Promise<SearchFigure> {
  const openStarted = process.hrtime.bigint();
  const store = await openMessageStore({ profileDir: profile.directory });
  const openMilliseconds = Number(process.hrtime.bigint() - openStarted) / 1e6;
  const all: number[] = [];
  const perQuery: Array<{ query: string; median: number; max: number; hits: number }> = [];
  try {
    for (const query of SEARCH_QUERIES) {
      // The first search of a term reads its index pages from disk; that one is the warm-up.
      const hits = store.search(query).length;
      const times: number[] = [];
      for (let run = 0; run < runsPerQuery; run += 1) {
        const started = process.hrtime.bigint();
        store.search(query);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      all.push(...times);
      const summary = summarize(times);
      perQuery.push({ query, median: summary.median, max: summary.max, hits });
    }
  } finally {
    store.close();
  }
  const p50 = percentile(all, 50);
  const p95 = percentile(all, 95);
  const met = p95 < SEARCH_TARGET_P95_MS;
  const rows: ReportRow[] = [
    {
      figure: `(6) full-text search over ${profile.messages.toLocaleString('en')} messages, ${SEARCH_QUERIES.length} queries × ${runsPerQuery}`,
      whereabouts: `p50 ${formatMilliseconds(p50)}, p95 ${formatMilliseconds(p95)}`,
      peer: '–',
      peerValue: '–',
      ratio: '–',
      target: 'p95 < 50 ms',
      verdict: met
        ? 'met'
        : `missed by ${formatMilliseconds(p95 - SEARCH_TARGET_P95_MS)} (${(p95 / SEARCH_TARGET_P95_MS).toFixed(1)}×)`,
    },
  ];
  perQuery.sort((left, right) => right.median - left.median);
  const section = [
    `Store opened (with its start-up reconcile) in ${formatMilliseconds(openMilliseconds)}; limit 50 results per query (the API's default).`,
    profile.populateSeconds === null
      ? 'The profile was reused from the cache.'
      : `Populating the profile through insertMessage took ${profile.populateSeconds.toFixed(0)} s.`,
    '',
    '| query | hits | median | max |',
    '|---|---:|---:|---:|',
    ...perQuery.map(
      (entry) =>
        `| \`${entry.query}\` | ${entry.hits} | ${formatMilliseconds(entry.median)} | ${formatMilliseconds(entry.max)} |`,
    ),
  ].join('\n');
  return { rows, section };
}

export function searchNotMeasured(reason: string): ReportRow {
  return {
    figure: '(6) full-text search over 100,000 messages',
    whereabouts: NOT_MEASURED,
    peer: '–',
    peerValue: '–',
    ratio: '–',
    target: 'p95 < 50 ms',
    verdict: `${NOT_MEASURED}: ${reason}`,
  };
}
