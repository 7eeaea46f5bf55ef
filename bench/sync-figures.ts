/**
 * Figures (1)–(5): IMAP full sync, IMAP headers-only sync, no-change resync, resync after another
 * client's changes, and POP3 download with leave-a-copy — each against its peers and the floor, every
 * contender a process of its own on the same machine, server and implicit-TLS port.
 */
import { createReadStream } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import type { MailServerInfo } from '../e2e/mailserver/types';
import { planMessage, renderMessage } from './corpus';
import { formatProfile, newestProfile, summarizeProfile } from './cpu-profile';
import type { CorpusMailbox } from './mailbox';
import { PatternCounter } from './pattern-counter';
import { prepareFetchmail, prepareMbsync, runFetchmail, runMbsync } from './peers';
import { timeProcess } from './processes';
import { formatMegabytes, formatRatio, formatSeconds, formatTimes, NOT_MEASURED, type ReportRow } from './report';
import { measureRounds, type Contender, type Samples } from './rounds';
import { pairRatios, summarize } from './statistics';
import {
  createProfile,
  LOCAL_FLOORS_SCRIPT,
  PROJECT_ROOT,
  residency,
  type RunningService,
  startRunningService,
  timeInProcessPasses,
  timeNodeStartup,
  timeStartup,
  timeSync,
  type WhereaboutsProfile,
} from './whereabouts';

/** The targets. */
export const TARGETS = {
  fullSyncRatio: 1.0,
  noChangeResyncSeconds: 0.1,
  changedResyncSeconds: 0.5,
  pop3Ratio: 0.5,
  mainRssBytes: 300 * 1024 * 1024,
} as const;
/** How long the counted rounds of a figure may take (see RoundPlan.budgetSeconds). */
const SLOW_FIGURE_BUDGET_SECONDS = 300;
const FAST_FIGURE_BUDGET_SECONDS = 120;
/** Another client's changes before each round of figure (4). */
const CHANGED_FLAGS = 100;
const NEW_MESSAGES = 100;

export interface SyncFigureContext {
  info: MailServerInfo;
  imapBox: CorpusMailbox;
  popBox: CorpusMailbox;
  seed: number;
  workDir: string;
  profilesDir: string;
  floorScript: string;
  runs: { warmups: number; fast: number; slow: number };
  whereaboutsReady: boolean;
  whereaboutsReason: string;
  peers: { mbsync: string | null; fetchmail: string | null };
  cpuProfiles: boolean;
}

export interface SyncFigureResults {
  rows: ReportRow[];
  sections: Array<{ heading: string; body: string }>;
  /** Peak RSS of our process in each run of figure (1), for figure (8). */
  fullSyncRssBytes: number[];
}

/** The profile a round prepared, for its timed run and the checks after the last round. */
class ProfileHolder {
  private profile: WhereaboutsProfile | null = null;

  set(profile: WhereaboutsProfile): void {
    this.profile = profile;
  }

  get(): WhereaboutsProfile {
    if (!this.profile) throw new Error('no profile was prepared');
    return this.profile;
  }
}

function floorContender(context: SyncFigureContext, mode: 'imap-bodies' | 'imap-headers' | 'pop3'): Contender {
  const box = mode === 'pop3' ? context.popBox : context.imapBox;
  const port = mode === 'pop3' ? context.info.ports.pop3s : context.info.ports.imaps;
  return {
    name: 'floor',
    run: async () => {
      const run = await timeProcess(
        process.execPath,
        [context.floorScript, mode, context.info.host, String(port), box.user.username],
        { env: { ...process.env, NODE_EXTRA_CA_CERTS: context.info.caPath, BENCH_FLOOR_PASSWORD: box.user.password } },
      );
      const { messages } = JSON.parse(run.stdout) as { messages: number };
      if (messages < box.messages) throw new Error(`the floor saw ${messages} of ${box.messages} messages`);
      return run;
    },
  };
}

/**
 * A floor that stores the box's messages on this disk (local-floors.ts): the disk floor (durable
 * files only) or the store floor (our store's batch path, nothing parsed). Its target directory is
 * removed before and after each run. Built with the app, so measured only when it built.
 */
function localFloorContender(
  context: SyncFigureContext,
  box: CorpusMailbox,
  kind: 'disk floor' | 'store floor',
): Contender {
  const target = path.join(context.workDir, `${kind.replace(' ', '-')}-${box.user.username}`);
  const mode = kind === 'disk floor' ? 'files' : 'store';
  return {
    name: kind,
    prepare: () => rm(target, { recursive: true, force: true }),
    run: async () => {
      const run = await timeProcess(process.execPath, [LOCAL_FLOORS_SCRIPT, mode, box.user.maildir, target], {
        cwd: PROJECT_ROOT,
      });
      const { messages } = JSON.parse(run.stdout) as { messages: number };
      if (messages !== box.messages) throw new Error(`the ${kind} stored ${messages} of ${box.messages} messages`);
      await rm(target, { recursive: true, force: true });
      return run;
    },
  };
}

const DISK_FLOOR_LABEL = 'disk floor: the same messages written as Maildir files, each fsynced (no network, no index)';

const STORE_FLOOR_LABEL =
  'store floor: the same messages through our store (durable files, index rows, commits), nothing parsed, no network';

/**
 * The rows under a download figure: ours against the network floor, the disk floor and the store
 * floor, then the store floor against the peer of the figure's target (how far the design alone,
 * before any parsing or protocol, is from that target).
 */
function floorRows(
  whereabouts: Samples | undefined,
  samples: ReadonlyMap<string, Samples>,
  networkFloorLabel: string,
  peer: { name: string; samples: Samples | undefined; target: string },
): ReportRow[] {
  const storeFloor = samples.get('store floor');
  const againstPeer = ratioRow('', storeFloor, peer.name, peer.samples, peer.target, '');
  const ratio =
    storeFloor && peer.samples ? summarize(pairRatios(storeFloor.seconds, peer.samples.seconds)).median : null;
  return [
    ratioRow('', whereabouts, networkFloorLabel, samples.get('floor'), '', ''),
    ratioRow('', whereabouts, DISK_FLOOR_LABEL, samples.get('disk floor'), '', ''),
    ratioRow('', whereabouts, STORE_FLOOR_LABEL, storeFloor, '', ''),
    {
      ...againstPeer,
      whereabouts: `store floor alone: ${againstPeer.whereabouts}`,
      ratio: againstPeer.ratio === '–' ? againstPeer.ratio : `${againstPeer.ratio} (store floor/peer)`,
      verdict: ratio === null ? '' : `the store alone is ${ratio.toFixed(2)}× ${peer.name.split(' ')[0]}`,
    },
  ];
}

async function countFiles(maildir: string): Promise<number> {
  let count = 0;
  for (const sub of ['cur', 'new']) count += (await readdir(path.join(maildir, sub)).catch(() => [])).length;
  return count;
}

/** Messages in a BSMTP file: one "MAIL FROM:" command at the start of a line each. */
async function countBsmtpMessages(file: string): Promise<number> {
  const counter = new PatternCounter(Buffer.from('\nMAIL FROM:'));
  // The file's start counts as a line start.
  counter.feed(Buffer.from('\n'));
  for await (const chunk of createReadStream(file)) counter.feed(chunk as Buffer);
  return counter.count;
}

function ratioRow(
  figure: string,
  ours: Samples | undefined,
  peerName: string,
  peer: Samples | undefined,
  target: string,
  verdict: string,
): ReportRow {
  return {
    figure,
    whereabouts: ours ? formatTimes(ours.seconds) : NOT_MEASURED,
    peer: peerName,
    peerValue: peer ? formatTimes(peer.seconds) : NOT_MEASURED,
    ratio: ours && peer ? formatRatio(pairRatios(ours.seconds, peer.seconds)) : '–',
    target,
    verdict,
  };
}

function ratioVerdict(
  ours: Samples | undefined,
  peer: Samples | undefined,
  limit: number,
): { text: string; met: boolean | null } {
  if (!ours || !peer) return { text: NOT_MEASURED, met: null };
  const ratio = summarize(pairRatios(ours.seconds, peer.seconds)).median;
  if (ratio <= limit) return { text: 'met', met: true };
  return { text: `missed: ${(ratio / limit).toFixed(1)}× the target`, met: false };
}

function timeVerdict(ours: Samples | undefined, limitSeconds: number): { text: string; met: boolean | null } {
  if (!ours) return { text: NOT_MEASURED, met: null };
  const median = summarize(ours.seconds).median;
  if (median <= limitSeconds) return { text: 'met', met: true };
  return {
    text: `missed by ${formatSeconds(median - limitSeconds)} (${(median / limitSeconds).toFixed(1)}×)`,
    met: false,
  };
}

/**
 * Our warm-up run of each figure runs under `node --cpu-prof` (it is not counted, so the profiler's
 * overhead costs nothing); when the figure misses its target, that profile says where the time goes.
 */
class WarmupProfiler {
  private readonly directories = new Map<string, string>();

  constructor(private readonly context: SyncFigureContext) {}

  /** The folder to profile into in this round, or undefined (counted rounds, or profiling off). */
  async directoryFor(label: string, round: number): Promise<string | undefined> {
    if (!this.context.cpuProfiles || round !== 0) return undefined;
    const directory = path.join(this.context.profilesDir, label);
    await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { recursive: true });
    this.directories.set(label, directory);
    return directory;
  }

  /** The summary for the report when `missed`; the profile is deleted otherwise. */
  async sectionFor(label: string, missed: boolean): Promise<string | null> {
    const directory = this.directories.get(label);
    if (!directory) return null;
    if (!missed) {
      await rm(directory, { recursive: true, force: true });
      return null;
    }
    const file = await newestProfile(directory);
    if (!file) return `(no CPU profile was written for ${label})`;
    const summary = await summarizeProfile(file, 12);
    return [
      `From the warm-up run under \`node --cpu-prof\`. ${formatProfile(summary)}`,
      '',
      `Full profile: \`${path.relative(process.cwd(), file)}\` (open it in Chrome DevTools → Performance).`,
    ].join('\n');
  }
}

export async function runSyncFigures(
  context: SyncFigureContext,
  only: ReadonlySet<string>,
): Promise<SyncFigureResults> {
  const rows: ReportRow[] = [];
  const sections: Array<{ heading: string; body: string }> = [];
  const { info, imapBox, popBox } = context;
  const ours = context.whereaboutsReady;
  const notMeasured = `Whereabouts ${NOT_MEASURED}: ${context.whereaboutsReason}`;
  const messages = imapBox.messages;
  const profiler = new WarmupProfiler(context);
  /** A figure that fails (a contender crashed, or stored the wrong count) is reported; the others still run. */
  const attempt = async (figure: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 2).join(' ');
      process.stderr.write(`  ${figure} failed: ${message}\n`);
      rows.push({
        figure,
        whereabouts: 'failed',
        peer: '–',
        peerValue: '–',
        ratio: '–',
        target: '',
        verdict: `failed: ${message.slice(0, 300)}`,
      });
    }
  };
  let fullSyncRssBytes: number[] = [];

  // The profile and Maildir left by (1) are the starting point of (3) and (4).
  let syncedProfile: WhereaboutsProfile | null = null;
  const mbsyncTarget = await prepareMbsync(info, imapBox.user, path.join(context.workDir, 'mbsync'));
  let mbsyncSynced = false;

  const freshImapProfile = async (name: string, headersOnly: boolean): Promise<WhereaboutsProfile> => {
    const directory = path.join(context.workDir, name);
    await rm(directory, { recursive: true, force: true });
    return createProfile(directory, info, imapBox.user, { mode: 'imap', headersOnly });
  };

  // ---------------------------------------------------------------- (1) full sync with bodies
  if (only.has('1') || only.has('3') || only.has('4') || only.has('8')) {
    await attempt('(1) IMAP full sync', async () => {
      const figure = `(1) IMAP full sync of ${messages.toLocaleString('en')} messages with bodies → Maildir + index`;
      const measured = only.has('1') || only.has('8');
      const current = new ProfileHolder();
      const contenders: Contender[] = [];
      if (ours) {
        contenders.push({
          name: 'whereabouts',
          prepare: async () => current.set(await freshImapProfile('imap-full', false)),
          run: async (round) =>
            timeSync(current.get(), measured ? await profiler.directoryFor('fig1-full-sync', round) : undefined),
        });
      }
      if (context.peers.mbsync) {
        contenders.push({
          name: 'mbsync',
          prepare: () => rm(mbsyncTarget.maildir, { recursive: true, force: true }),
          run: () => runMbsync(mbsyncTarget),
        });
      }
      if (measured) {
        contenders.push(floorContender(context, 'imap-bodies'));
        if (ours) {
          contenders.push(
            localFloorContender(context, imapBox, 'disk floor'),
            localFloorContender(context, imapBox, 'store floor'),
          );
        }
      }
      // Asked only for (3) or (4), one untimed first sync is all they need from here.
      const samples = await measureRounds(
        contenders,
        measured
          ? {
              warmups: context.runs.warmups,
              counted: context.runs.slow,
              budgetSeconds: SLOW_FIGURE_BUDGET_SECONDS,
              label: '(1)',
            }
          : { warmups: 0, counted: 1, label: '(1, set-up only)' },
      );
      if (ours) {
        syncedProfile = current.get();
        const counts = await residency(syncedProfile);
        if (counts.both !== messages) throw new Error(`(1): Whereabouts holds ${counts.both} of ${messages} bodies`);
      }
      if (context.peers.mbsync) {
        const count = await countFiles(path.join(mbsyncTarget.maildir, 'INBOX'));
        if (count !== messages) throw new Error(`(1): mbsync stored ${count} of ${messages} messages`);
        mbsyncSynced = true;
      }
      const whereabouts = samples.get('whereabouts');
      fullSyncRssBytes = whereabouts?.rssBytes ?? [];
      const verdict = ratioVerdict(whereabouts, samples.get('mbsync'), TARGETS.fullSyncRatio);
      if (only.has('1')) {
        rows.push(
          ratioRow(
            figure,
            whereabouts,
            context.peers.mbsync ?? `mbsync ${NOT_MEASURED}`,
            samples.get('mbsync'),
            '≤ 1.0× mbsync, every message fsynced',
            ours ? verdict.text : notMeasured,
          ),
          ...floorRows(whereabouts, samples, 'floor: raw FETCH BODY.PEEK[] of all bytes', {
            name: context.peers.mbsync ?? 'mbsync',
            samples: samples.get('mbsync'),
            target: '≤ 1.0× mbsync',
          }),
        );
        const body = await profiler.sectionFor('fig1-full-sync', verdict.met === false);
        if (body) sections.push({ heading: '(1) full sync: where the time goes', body });
      }
    });
  }

  // ---------------------------------------------------------------- (2) headers-only initial sync
  if (only.has('2')) {
    await attempt('(2) IMAP headers-only sync', async () => {
      const figure = `(2) IMAP headers-only initial sync of ${messages.toLocaleString('en')} messages`;
      const current = new ProfileHolder();
      const contenders: Contender[] = [];
      if (ours) {
        contenders.push({
          name: 'whereabouts',
          prepare: async () => current.set(await freshImapProfile('imap-headers', true)),
          run: async (round) => timeSync(current.get(), await profiler.directoryFor('fig2-headers-only', round)),
        });
      }
      contenders.push(floorContender(context, 'imap-headers'));
      const samples = await measureRounds(contenders, {
        warmups: context.runs.warmups,
        counted: context.runs.fast,
        budgetSeconds: FAST_FIGURE_BUDGET_SECONDS,
        label: '(2)',
      });
      if (ours) {
        const counts = await residency(current.get());
        if (counts.serverOnly !== messages) throw new Error(`(2): ${counts.serverOnly} of ${messages} header rows`);
        await rm(current.get().directory, { recursive: true, force: true });
      }
      rows.push(
        ratioRow(
          figure,
          samples.get('whereabouts'),
          'floor: raw FETCH of ENVELOPE, FLAGS, size, date, 5 header fields',
          samples.get('floor'),
          '(no target; no peer has a headers-only mode)',
          ours ? '–' : notMeasured,
        ),
      );
      // No target, but its profile is the header phase of (1): always shown.
      const body = await profiler.sectionFor('fig2-headers-only', true);
      if (body) sections.push({ heading: '(2) headers-only sync: where the time goes', body });
    });
  }

  // ---------------------------------------------------------------- (3) no-change resync
  if (only.has('3')) {
    await attempt('(3) no-change resync', async () => {
      const figure = '(3) no-change resync';
      const contenders: Contender[] = [];
      if (ours && syncedProfile) {
        const profile: WhereaboutsProfile = syncedProfile;
        contenders.push({
          name: 'whereabouts',
          run: async (round) => timeSync(profile, await profiler.directoryFor('fig3-no-change-resync', round)),
        });
      }
      if (mbsyncSynced) contenders.push({ name: 'mbsync', run: () => runMbsync(mbsyncTarget) });
      if (ours) {
        contenders.push({ name: 'startup', run: () => timeStartup() });
        contenders.push({ name: 'node', run: () => timeNodeStartup() });
      }
      const samples = await measureRounds(contenders, {
        warmups: context.runs.warmups,
        counted: context.runs.fast,
        budgetSeconds: FAST_FIGURE_BUDGET_SECONDS,
        label: '(3)',
      });
      const whereabouts = samples.get('whereabouts');
      const verdict = timeVerdict(whereabouts, TARGETS.noChangeResyncSeconds);
      rows.push(
        ratioRow(
          figure,
          whereabouts,
          context.peers.mbsync ?? `mbsync ${NOT_MEASURED}`,
          samples.get('mbsync'),
          '≤ 0.1 s',
          ours ? verdict.text : notMeasured,
        ),
      );
      if (ours) {
        rows.push({
          figure: '',
          whereabouts: '',
          peer: 'of which: CLI start-up alone (`--help`)',
          peerValue: formatTimes(samples.get('startup')?.seconds ?? []),
          ratio: '',
          target: '',
          verdict: '',
        });
        rows.push({
          figure: '',
          whereabouts: '',
          peer: 'of which: Node itself starting (`node -e 0`)',
          peerValue: formatTimes(samples.get('node')?.seconds ?? []),
          ratio: '',
          target: '',
          verdict: '',
        });
      }
      if (ours && syncedProfile) {
        // The same pass inside a running service, as in the app: start-up and store opening paid once.
        const inProcess = await timeInProcessPasses(syncedProfile, context.runs.warmups + context.runs.fast);
        const passes = inProcess.passMilliseconds
          .slice(context.runs.warmups)
          .map((milliseconds) => milliseconds / 1000);
        rows.push({
          figure: '',
          whereabouts: formatTimes(passes),
          peer: `same pass inside a running service (opened once in ${formatSeconds(inProcess.openMilliseconds / 1000)})`,
          peerValue: '',
          ratio: '',
          target: '≤ 0.1 s',
          verdict: timeVerdict({ seconds: passes, rssBytes: [] }, TARGETS.noChangeResyncSeconds).text,
        });
      }
      const body = await profiler.sectionFor('fig3-no-change-resync', verdict.met === false);
      if (body) sections.push({ heading: '(3) no-change resync: where the time goes', body });
    });
  }

  // ---------------------------------------------------------------- (4) resync after another client's changes
  if (only.has('4')) {
    await attempt('(4) resync after changes', async () => {
      const figure = `(4) resync after ${CHANGED_FLAGS} flag changes + ${NEW_MESSAGES} new messages by another client`;
      const contenders: Contender[] = [];
      if (ours && syncedProfile) {
        const profile: WhereaboutsProfile = syncedProfile;
        contenders.push({
          name: 'whereabouts',
          run: async (round) => timeSync(profile, await profiler.directoryFor('fig4-changed-resync', round)),
        });
      }
      if (mbsyncSynced) contenders.push({ name: 'mbsync', run: () => runMbsync(mbsyncTarget) });
      // The same resync inside a running service, as in the app, on its own copy of the synced
      // profile (a profile is one writer's): start-up and the opening of the store paid once.
      let running: RunningService | null = null;
      let runningProfile: WhereaboutsProfile | null = null;
      if (ours && syncedProfile) {
        runningProfile = { ...syncedProfile, directory: path.join(context.workDir, 'imap-running') };
        await rm(runningProfile.directory, { recursive: true, force: true });
        await cp(syncedProfile.directory, runningProfile.directory, { recursive: true });
        const service = await startRunningService(runningProfile);
        running = service;
        contenders.push({
          name: 'running',
          run: async () => ({
            seconds: (await service.pass()) / 1000,
            maxRssBytes: 0,
            exitCode: 0,
            stdout: '',
            stderr: '',
          }),
        });
      }
      let appended = 0;
      const samples = await measureRounds(contenders, {
        warmups: context.runs.warmups,
        counted: context.runs.fast,
        budgetSeconds: FAST_FIGURE_BUDGET_SECONDS,
        // Whoever syncs first after the change also warms Dovecot's cache for the new mail: alternate.
        alternate: true,
        label: '(4)',
        beforeRound: async (round) => {
          await changeFromAnotherClient(context, round, messages + appended);
          appended += NEW_MESSAGES;
        },
      });
      await running?.stop();
      const whereabouts = samples.get('whereabouts');
      for (const profile of [syncedProfile, runningProfile]) {
        if (!ours || !profile) continue;
        const counts = await residency(profile);
        if (counts.both !== messages + appended) {
          throw new Error(`(4): Whereabouts holds ${counts.both} of ${messages + appended} bodies`);
        }
      }
      const verdict = timeVerdict(whereabouts, TARGETS.changedResyncSeconds);
      rows.push(
        ratioRow(
          figure,
          whereabouts,
          context.peers.mbsync ?? `mbsync ${NOT_MEASURED}`,
          samples.get('mbsync'),
          '≤ 0.5 s',
          ours ? verdict.text : notMeasured,
        ),
      );
      if (running) {
        const passes = samples.get('running')?.seconds ?? [];
        rows.push({
          figure: '',
          whereabouts: formatTimes(passes),
          peer: `same resync inside a running service (opened once in ${formatSeconds(running.openMilliseconds / 1000)})`,
          peerValue: '',
          ratio: '',
          target: '≤ 0.5 s',
          verdict: timeVerdict({ seconds: passes, rssBytes: [] }, TARGETS.changedResyncSeconds).text,
        });
      }
      const body = await profiler.sectionFor('fig4-changed-resync', verdict.met === false);
      if (body) sections.push({ heading: '(4) resync after changes: where the time goes', body });
    });
  }

  // ---------------------------------------------------------------- (5) POP3 download, leave a copy
  if (only.has('5')) {
    await attempt('(5) POP3 download', async () => {
      const figure = `(5) POP3 download of ${popBox.messages.toLocaleString('en')} messages, leave a copy`;
      const fetchmailTarget = await prepareFetchmail(info, popBox.user, path.join(context.workDir, 'fetchmail'));
      const current = new ProfileHolder();
      const freshPopProfile = async (name: string): Promise<WhereaboutsProfile> => {
        const directory = path.join(context.workDir, name);
        await rm(directory, { recursive: true, force: true });
        return createProfile(directory, info, popBox.user, { mode: 'pop3' });
      };
      const contenders: Contender[] = [];
      if (ours) {
        contenders.push({
          name: 'whereabouts',
          prepare: async () => current.set(await freshPopProfile('pop3')),
          run: async (round) => timeSync(current.get(), await profiler.directoryFor('fig5-pop3', round)),
        });
      }
      if (context.peers.fetchmail) {
        contenders.push({
          name: 'fetchmail',
          prepare: () => rm(fetchmailTarget.output, { force: true }),
          run: () => runFetchmail(fetchmailTarget),
        });
      }
      contenders.push(floorContender(context, 'pop3'));
      if (ours) {
        contenders.push(
          localFloorContender(context, popBox, 'disk floor'),
          localFloorContender(context, popBox, 'store floor'),
        );
      }
      const samples = await measureRounds(contenders, {
        warmups: context.runs.warmups,
        counted: context.runs.slow,
        budgetSeconds: SLOW_FIGURE_BUDGET_SECONDS,
        label: '(5)',
      });
      if (ours) {
        const counts = await residency(current.get());
        if (counts.both !== popBox.messages)
          throw new Error(`(5): Whereabouts holds ${counts.both} of ${popBox.messages}`);
        await rm(current.get().directory, { recursive: true, force: true });
      }
      if (context.peers.fetchmail) {
        const count = await countBsmtpMessages(fetchmailTarget.output);
        if (count !== popBox.messages) throw new Error(`(5): fetchmail delivered ${count} of ${popBox.messages}`);
        await rm(fetchmailTarget.output, { force: true });
      }
      const whereabouts = samples.get('whereabouts');
      const verdict = ratioVerdict(whereabouts, samples.get('fetchmail'), TARGETS.pop3Ratio);
      rows.push(
        ratioRow(
          figure,
          whereabouts,
          context.peers.fetchmail ?? `fetchmail ${NOT_MEASURED}`,
          samples.get('fetchmail'),
          '≤ 0.5× fetchmail',
          ours ? verdict.text : notMeasured,
        ),
        ...floorRows(whereabouts, samples, 'floor: raw pipelined RETR of all bytes', {
          name: context.peers.fetchmail ?? 'fetchmail',
          samples: samples.get('fetchmail'),
          target: '≤ 0.5× fetchmail',
        }),
      );
      if (ours) {
        rows.push({
          figure: '',
          whereabouts: `peak RSS ${formatMegabytes(summarize(whereabouts?.rssBytes ?? []).max)}`,
          peer: 'fetchmail peak RSS',
          peerValue: formatMegabytes(summarize(samples.get('fetchmail')?.rssBytes ?? []).max),
          ratio: '',
          target: '',
          verdict: '',
        });
      }
      const body = await profiler.sectionFor('fig5-pop3', verdict.met === false);
      if (body) sections.push({ heading: '(5) POP3 download: where the time goes', body });
    });
  }

  return { rows, sections, fullSyncRssBytes };
}

/**
 * "Another client": toggles \Flagged on CHANGED_FLAGS messages spread over the mailbox and appends
 * NEW_MESSAGES new corpus messages (RFC 3501 §6.4.6 STORE, §6.3.11 APPEND).
 */
async function changeFromAnotherClient(
  context: SyncFigureContext,
  round: number,
  firstNewIndex: number,
): Promise<void> {
  const { info, imapBox } = context;
  const client = new ImapFlow({
    host: info.host,
    port: info.ports.imaps,
    secure: true,
    auth: { user: imapBox.user.username, pass: imapBox.user.password },
    tls: { ca: [await readFile(info.caPath)] },
    logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const exists = client.mailbox === false ? 0 : client.mailbox.exists;
      const sequenceNumbers = new Set<number>();
      for (let index = 0; sequenceNumbers.size < Math.min(CHANGED_FLAGS, exists); index += 1) {
        sequenceNumbers.add(1 + (((round * CHANGED_FLAGS + index) * 7_919) % exists));
      }
      const current = await client.fetchAll([...sequenceNumbers].join(','), { uid: true, flags: true });
      const flagged = current.filter((message) => message.flags?.has('\\Flagged')).map((message) => message.uid);
      const unflagged = current.filter((message) => !message.flags?.has('\\Flagged')).map((message) => message.uid);
      if (flagged.length > 0) await client.messageFlagsRemove(flagged.join(','), ['\\Flagged'], { uid: true });
      if (unflagged.length > 0) await client.messageFlagsAdd(unflagged.join(','), ['\\Flagged'], { uid: true });
      for (let index = firstNewIndex; index < firstNewIndex + NEW_MESSAGES; index += 1) {
        const plan = planMessage(context.seed, index);
        await client.append('INBOX', renderMessage(context.seed, plan), [], new Date(plan.date));
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}
