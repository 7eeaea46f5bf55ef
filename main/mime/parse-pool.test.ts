import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMessage, type ParseInput, type ParseOptions, type ParseResult } from './parse';
import { ParsePool, workerScript } from './parse-pool';

/** Real-world and hostile messages, read in place (never copied into the repository). */
const CORPUS = '/work/shared/mail-corpus';
const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

function corpusSample(every: number): string[] {
  const [, ...rows] = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  return rows.map((row) => join(CORPUS, row.split('\t')[0])).filter((_, index) => index % every === 0);
}

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'));
const plain = (subject: string, extra: string[] = []) =>
  crlf([
    `From: a@example.org`,
    `Subject: ${subject}`,
    'Message-ID: <m@example.org>',
    ...extra,
    '',
    `Body of ${subject}`,
  ]);

const pools: ParsePool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});
function newPool(options: ConstructorParameters<typeof ParsePool>[0]): ParsePool {
  const pool = new ParsePool(options);
  pools.push(pool);
  return pool;
}

/** Several messages submitted together, as the store submits a batch; results in input order. */
function parseAll(pool: ParsePool, inputs: readonly ParseInput[], options?: ParseOptions): Promise<ParseResult[]> {
  return Promise.all(inputs.map((input) => pool.parse(input, options)));
}

describe('the parse worker pool', () => {
  it('finds its worker script: the TypeScript source under tsx and vitest', () => {
    expect(workerScript()).toMatchObject({ kind: 'ts', path: join(import.meta.dirname, 'parse-worker.ts') });
  });

  it('gives the same results as parsing on the main thread, in input order, and leaves the Buffers intact', async () => {
    const files = corpusSample(5);
    expect(files.length).toBeGreaterThan(60);
    const sources = files.map((file) => readFileSync(file));
    const before = sources.map((source) => Buffer.from(source));
    // Small Buffers that share one pooled ArrayBuffer: each must arrive alone and stay usable.
    const pooled = [plain('pooled one'), plain('pooled two')];
    const pool = newPool({ workers: 1 });
    const viaPool = await parseAll(pool, [...sources, ...pooled]);
    expect(pool.usesWorkers).toBe(true);
    expect(pool.runningWorkers).toBe(1);
    const inThread: unknown[] = [];
    for (const source of [...sources, ...pooled]) inThread.push(await parseMessage(source));
    expect(viaPool).toEqual(inThread);
    sources.forEach((source, index) => expect(source.equals(before[index]), files[index]).toBe(true));
    expect(viaPool.at(-1)?.envelope.subject).toBe('pooled two');
    expect(pooled[0].toString()).toContain('Body of pooled one');

    // A stored file is read by the worker itself; a captured attachment comes back as a Buffer.
    const torture = join(CORPUS, 'postal-mime', 'mimetorture.eml');
    const fromFile = await pool.parse({ path: torture });
    expect(fromFile).toEqual(await parseMessage({ path: torture }));
    const partId = fromFile.attachments[0]?.partId;
    expect(partId).toBeDefined();
    const captured = await pool.parse({ path: torture }, { capturePartId: partId });
    expect(Buffer.isBuffer(captured.captured?.content)).toBe(true);
    expect(captured.captured).toEqual((await parseMessage({ path: torture }, { capturePartId: partId })).captured);
  });

  it('hashes the bytes of a parse for the index on the worker: exactly the message, also for a view of a pooled buffer', async () => {
    const sources = [...corpusSample(40).map((file) => readFileSync(file)), plain('pooled one'), plain('pooled two')];
    const pool = newPool({ workers: 1 });
    const results = await Promise.all(sources.map((source) => pool.parseForIndex(source)));
    expect(pool.usesWorkers).toBe(true);
    expect(results.map((result) => result.sourceSha256)).toEqual(
      sources.map((source) => createHash('sha256').update(source).digest('hex')),
    );
    // A stored file is not hashed by the parse (the store hashes what it reads itself).
    expect((await pool.parseForIndex({ path: join(CORPUS, 'postal-mime', 'mimetorture.eml') })).sourceSha256).toBe(
      undefined,
    );
    // Without a worker the calling thread hashes as well.
    const inThread = newPool({ workers: 0 });
    expect((await inThread.parseForIndex(sources[0])).sourceSha256).toBe(results[0].sourceSha256);
  });

  it('recovers from a worker that dies mid-parse: every message still gets its result, later parses use a new worker', async () => {
    const pool = newPool({ workers: 1, testHooks: true });
    const inputs = [plain('before'), plain('kills the worker', ['X-Parse-Worker-Test: exit']), plain('after')];
    const results = await parseAll(pool, inputs);
    expect(results.map((result) => result.envelope.subject)).toEqual(['before', 'kills the worker', 'after']);
    // The message being parsed when the worker died was parsed again on the main thread, fully.
    expect(results[1]).toEqual(await parseMessage(inputs[1]));
    expect(results.every((result) => result.parseWarning === null)).toBe(true);
    const later = await pool.parse(plain('later'));
    expect(later.bodyText).toBe('Body of later');
    expect(pool.usesWorkers).toBe(true);
    expect(pool.runningWorkers).toBe(1);
  });

  it('stops a worker stuck in one message: that message gets its headers and the timeout warning, the others parse', async () => {
    const pool = newPool({ workers: 1, testHooks: true, watchdogGraceMs: 500 });
    const results = await parseAll(
      pool,
      [plain('first'), plain('hangs', ['X-Parse-Worker-Test: hang']), plain('third')],
      { timeoutMs: 1000 },
    );
    expect(results.map((result) => result.envelope.subject)).toEqual(['first', 'hangs', 'third']);
    expect(results[1].parseWarning).toBe('Parsing took longer than 1 s and was stopped.');
    expect(results[1].envelope.messageId).toBe('<m@example.org>');
    expect(results[1].bodyText).toBe('');
    expect(results[2].bodyText).toBe('Body of third');
    expect((await pool.parse(plain('later'))).bodyText).toBe('Body of later');
    expect(pool.usesWorkers).toBe(true);
  });

  it('parses on the main thread when no worker can start, one message at a time', async () => {
    const pool = newPool({ workers: 1, script: { kind: 'js', path: join(tmpdir(), 'no-such-parse-worker.js') } });
    const results = await parseAll(pool, [plain('one'), plain('two'), plain('three')]);
    expect(results.map((result) => result.bodyText)).toEqual(['Body of one', 'Body of two', 'Body of three']);
    expect(pool.usesWorkers).toBe(false);
    const inThread = newPool({ workers: 0 });
    expect((await inThread.parse(plain('zero'))).bodyText).toBe('Body of zero');
    expect(inThread.runningWorkers).toBe(0);
  });
});

describe('a process that stores mail through the pool', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'wb-parse-pool-'));
  // The bundle goes inside the project so that its external packages resolve as in out/.
  mkdirSync(join(PROJECT_ROOT, '.tmp'), { recursive: true });
  const bundleDir = mkdtempSync(join(PROJECT_ROOT, '.tmp', 'parse-pool-'));
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  });

  function runChild(args: string[], profile: string): { subjects: string[]; usesWorkers: boolean } {
    const started = Date.now();
    const result = spawnSync(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, WB_PROFILE: profile, WHEREABOUTS_PARSE_WORKERS: '1' },
      encoding: 'utf8',
      timeout: 25_000,
    });
    expect(result.stderr).toBe('');
    // An idle worker that kept the process alive would hold it until it is terminated (30 s).
    expect(result.signal, 'the process did not end by itself').toBeNull();
    expect(result.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    return JSON.parse(result.stdout) as { subjects: string[]; usesWorkers: boolean };
  }

  const expected = Array.from({ length: 20 }, (_, index) => `pooled ${index}`);

  it('from the TypeScript sources (tsx): parses on the worker and exits by itself', () => {
    const output = runChild(['--import', 'tsx', join(import.meta.dirname, 'parse-pool-child.ts')], join(scratch, 'a'));
    expect(output).toMatchObject({ subjects: expected, usesWorkers: true });
  });

  it('bundled like out/ (esbuild, packages external): finds main/mime/parse-worker.js and exits by itself', async () => {
    await build({
      entryPoints: [
        join(PROJECT_ROOT, 'main', 'mime', 'parse-pool-child.ts'),
        join(PROJECT_ROOT, 'main', 'mime', 'parse-worker.ts'),
      ],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outdir: bundleDir,
      outbase: PROJECT_ROOT,
      packages: 'external',
      logLevel: 'silent',
    });
    const output = runChild([join(bundleDir, 'main', 'mime', 'parse-pool-child.js')], join(scratch, 'b'));
    expect(output).toMatchObject({ subjects: expected, usesWorkers: true });
  });
});
