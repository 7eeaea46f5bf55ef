/**
 * `npm run bench [-- --quick] [--only 1,3,5] [--seed N] [--no-cpu-profile] [--keep]`
 *
 * Starts its own test mail server, writes the seeded corpus into a fresh user's Maildir, and measures
 * Whereabouts against mbsync, fetchmail and a raw loopback floor, each a process of its own; then
 * search and the UI on a 100,000-message profile. Prints one Markdown table and writes it, with the
 * raw samples, to bench/results/. See bench/README.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { startMailServer, type RunningMailServer } from '../e2e/mailserver/mail-server';
import { DEFAULT_SEED } from './corpus';
import { cloneMailbox, createCorpusMailbox } from './mailbox';
import { PEER_PACKAGES, peerVersions } from './peers';
import { ensurePrograms } from './processes';
import { formatMegabytes, NOT_MEASURED, renderReport, type Report, type ReportRow } from './report';
import { ensureSearchProfile, runSearchFigure, searchNotMeasured, type SearchProfile } from './search-figure';
import { summarize } from './statistics';
import { runSyncFigures, TARGETS } from './sync-figures';
import { prepareUi, RENDERER_RSS_TARGET_BYTES, runUiFigure, uiNotMeasured } from './ui-figure';
import { prepareResultsDir, PROJECT_ROOT, RESULTS_DIR } from './results-dir';
import { prepareCli } from './whereabouts';

const ALL_FIGURES = ['1', '2', '3', '4', '5', '6', '7', '8'];

interface Options {
  quick: boolean;
  only: Set<string>;
  seed: number;
  cpuProfiles: boolean;
  keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    quick: false,
    only: new Set(ALL_FIGURES),
    seed: DEFAULT_SEED,
    cpuProfiles: true,
    keep: false,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const [name, inline] = argv[index].split('=', 2);
    const value = (): string => inline ?? argv[++index] ?? '';
    if (name === '--quick') options.quick = true;
    else if (name === '--only')
      options.only = new Set(
        value()
          .split(',')
          .map((figure) => figure.trim()),
      );
    else if (name === '--seed') options.seed = Number(value());
    else if (name === '--no-cpu-profile') options.cpuProfiles = false;
    else if (name === '--keep') options.keep = true;
    else throw new Error(`unknown option ${argv[index]}; see bench/README.md`);
  }
  if (!Number.isInteger(options.seed)) throw new Error('--seed takes an integer');
  return options;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

async function buildFloor(): Promise<string> {
  const outfile = path.join(RESULTS_DIR, 'build', 'floor.cjs');
  await build({
    entryPoints: [path.join(PROJECT_ROOT, 'bench', 'floor.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  const started = new Date();
  const syncMessages = options.quick ? 1_000 : 10_000;
  const searchMessages = options.quick ? 10_000 : 100_000;
  const runs = options.quick ? { warmups: 1, fast: 3, slow: 2 } : { warmups: 1, fast: 5, slow: 3 };
  const rows: ReportRow[] = [];
  const sections: Report['sections'] = [];
  const notes: string[] = [];
  const wants = (...figures: string[]): boolean => figures.some((figure) => options.only.has(figure));

  log(`Whereabouts benchmark${options.quick ? ' (quick)' : ''}: figures ${[...options.only].join(', ')}`);
  const missing = await ensurePrograms(PEER_PACKAGES);
  if (missing.includes('/usr/bin/time'))
    throw new Error('GNU time (/usr/bin/time) is needed to read peak RSS: apt-get install time');
  const versions = await peerVersions();
  const peers = {
    mbsync: missing.includes('/usr/bin/mbsync') ? null : `mbsync (${versions.mbsync})`,
    fetchmail: missing.includes('/usr/bin/fetchmail') ? null : `fetchmail ${versions.fetchmail}`,
  };
  await prepareResultsDir();
  log('building the CLI and the browser-mode host (as npm run build:main does) …');
  const cli = await prepareCli();
  if (!cli.ready) log(`Whereabouts will not be measured: ${cli.reason}`);
  const floorScript = await buildFloor();
  const profilesDir = path.join(RESULTS_DIR, 'profiles', timestamp(started));

  let corpusDescription = `seed ${options.seed}`;
  let fullSyncRssBytes: number[] = [];
  if (wants('1', '2', '3', '4', '5', '8')) {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'wb-bench-'));
    let server: RunningMailServer | null = null;
    try {
      log('starting the test mail server …');
      server = await startMailServer();
      const writing = process.hrtime.bigint();
      log(`writing ${syncMessages.toLocaleString('en')} messages into Dovecot's Maildir …`);
      const imapBox = await createCorpusMailbox(server.info, { seed: options.seed, count: syncMessages });
      const popBox = await cloneMailbox(server.info, imapBox);
      log(
        `  ${formatMegabytes(imapBox.bytes)} written and indexed in ${(Number(process.hrtime.bigint() - writing) / 1e9).toFixed(1)} s`,
      );
      corpusDescription = `seed ${options.seed}; ${imapBox.messages.toLocaleString('en')} messages, ${formatMegabytes(imapBox.bytes)} for (1)–(5)`;
      const results = await runSyncFigures(
        {
          info: server.info,
          imapBox,
          popBox,
          seed: options.seed,
          workDir,
          profilesDir,
          floorScript,
          runs,
          whereaboutsReady: cli.ready,
          whereaboutsReason: cli.reason,
          peers,
          cpuProfiles: options.cpuProfiles,
        },
        options.only,
      );
      rows.push(...results.rows);
      sections.push(...results.sections);
      fullSyncRssBytes = results.fullSyncRssBytes;
    } finally {
      await server?.stop();
      if (options.keep) log(`work folder kept: ${workDir}`);
      else await rm(workDir, { recursive: true, force: true });
    }
  }

  let searchProfile: SearchProfile | null = null;
  if (wants('6', '7', '8')) {
    if (!cli.ready) {
      rows.push(searchNotMeasured(cli.reason));
    } else {
      log(`preparing the ${searchMessages.toLocaleString('en')}-message profile (cached under bench/results/cache) …`);
      try {
        searchProfile = await ensureSearchProfile(path.join(RESULTS_DIR, 'cache'), options.seed, searchMessages);
        corpusDescription += `; ${searchMessages.toLocaleString('en')} messages for (6)–(7)`;
        if (wants('6')) {
          const search = await runSearchFigure(searchProfile, options.quick ? 5 : 10);
          rows.push(...search.rows);
          sections.push({ heading: '(6) search: per query', body: search.section });
        }
      } catch (error) {
        const reason = `failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
        log(`(6) ${reason}`);
        rows.push(searchNotMeasured(reason));
      }
    }
  }

  let rendererRssBytes: number | null = null;
  if (wants('7', '8')) {
    const ui = searchProfile ? await prepareUi() : { ready: false, reason: cli.reason };
    if (!ui.ready || !searchProfile) {
      rows.push(...uiNotMeasured(ui.reason));
    } else {
      try {
        const screenshot = path.join(RESULTS_DIR, `ui-${timestamp(started)}.png`);
        const figure = await runUiFigure(searchProfile, { warmups: 1, counted: options.quick ? 3 : 5 }, screenshot);
        rows.push(...figure.rows);
        sections.push({ heading: '(7) UI: how it was measured', body: figure.section });
        rendererRssBytes = figure.rendererRssBytes;
      } catch (error) {
        const reason = `the UI does not show the folder's rows yet (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`;
        log(`(7) ${reason}`);
        rows.push(...uiNotMeasured(reason));
      }
    }
  }

  if (wants('8')) {
    const mainPeak = fullSyncRssBytes.length > 0 ? summarize(fullSyncRssBytes).max : null;
    rows.push({
      figure: '(8) peak RSS: main process during (1)',
      whereabouts: mainPeak === null ? NOT_MEASURED : formatMegabytes(mainPeak),
      peer: '–',
      peerValue: '–',
      ratio: '–',
      target: '< 300 MB',
      verdict:
        mainPeak === null
          ? NOT_MEASURED
          : mainPeak < TARGETS.mainRssBytes
            ? 'met'
            : `missed by ${formatMegabytes(mainPeak - TARGETS.mainRssBytes)}`,
    });
    rows.push({
      figure: '(8) peak RSS: renderer in (7)',
      whereabouts: rendererRssBytes === null ? NOT_MEASURED : formatMegabytes(rendererRssBytes),
      peer: '–',
      peerValue: '–',
      ratio: '–',
      target: '< 300 MB',
      verdict:
        rendererRssBytes === null
          ? NOT_MEASURED
          : rendererRssBytes < RENDERER_RSS_TARGET_BYTES
            ? 'met'
            : `missed by ${formatMegabytes(rendererRssBytes - RENDERER_RSS_TARGET_BYTES)}`,
    });
  }

  if (!cli.ready) notes.push(`Whereabouts was not measured: ${cli.reason}.`);
  notes.push(
    'Every contender runs as its own process over implicit TLS to the same Dovecot on loopback; wall time is',
    'spawn to exit (start-up included), peak RSS is the kernel’s ru_maxrss via GNU time.',
  );
  sections.push({ heading: 'Notes', body: notes.join('\n') });
  const cpus = os.cpus();
  const report: Report = {
    title: `Whereabouts benchmark${options.quick ? ' (quick)' : ''}`,
    startedAt: started.toISOString(),
    machine: {
      cores: String(cpus.length),
      cpu: cpus[0]?.model.trim() ?? '?',
      memory: `${Math.round(os.totalmem() / 1024 / 1024 / 1024)} GB`,
      kernel: os.release(),
    },
    versions,
    corpus: [corpusDescription],
    rows,
    sections,
  };
  const markdown = renderReport(report);
  process.stdout.write(markdown);
  const name = `bench-${timestamp(started)}${options.quick ? '-quick' : ''}`;
  await writeFile(path.join(RESULTS_DIR, `${name}.md`), markdown);
  await writeFile(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, 'latest.md'), markdown);
  log(`written to ${path.join(RESULTS_DIR, name)}.md (and latest.md)`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
