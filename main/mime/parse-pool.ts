/**
 * MIME parsing on a worker thread, so that it runs on another core while the main thread does the
 * protocol I/O and SQLite (issue #7: parsing was ≈42 % of the main thread in a POP3 download).
 *
 * `ParsePool.parse` keeps `parseMessage`'s promise: it never rejects and settles with what could be
 * read plus a warning. Each worker parses one message at a time (so each keeps its own time limit)
 * and answers in order; the pool watches the oldest unanswered request of each worker:
 * - a worker that does not answer within the parse's time limit plus a grace (a synchronous hang
 *   parseMessage's own timer cannot interrupt) is terminated; that message gets its raw headers
 *   and the timeout warning, as parseMessage gives a message that timed out;
 * - a worker that dies (a crash, an out-of-memory exit) is replaced; the message it was parsing is
 *   parsed again on the main thread;
 * - requests sent to a dead or terminated worker but not started are sent to its replacement.
 * When no worker can be started (the script is missing, the platform refuses threads) or workers
 * keep dying, the pool parses on the main thread, one message at a time, as before.
 *
 * The workers start on the first parse, are unref'd while idle (a CLI process exits as if they
 * were not there) and are terminated after IDLE_TERMINATE_MS without work.
 *
 * Message bytes are copied into a fresh ArrayBuffer that is transferred: the caller's Buffer stays
 * intact (it is still being written to disk), and a Buffer that is a view of a larger (pooled)
 * ArrayBuffer does not send that whole ArrayBuffer along.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  PARSE_TIMEOUT_MS,
  describeError,
  headersOnlyParse,
  parseMessage,
  type ParseInput,
  type ParseOptions,
  type ParseResult,
} from './parse';
import type { ParseRequest, ParseResponse } from './parse-worker';

/** Extra time a worker gets past a parse's own limit before it counts as hung. */
const WATCHDOG_GRACE_MS = 5_000;
const IDLE_TERMINATE_MS = 30_000;
/**
 * Requests queued in one worker at once (each holds a copy of its message): deep enough that the
 * worker never waits for the main thread to send the next one while the main thread is busy…
 */
const MAX_IN_FLIGHT = 32;
/** …and their bytes, beyond the first. */
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;
/**
 * The worker's young generation. V8's default (up to 48 MB) grows to its limit under mailparser's
 * short-lived strings and stays resident: with 6 MB the process's peak RSS in a 10,000-message
 * sync fell from 281–312 MB to 249–261 MB (three pairs of runs), for 1–3 % more wall time.
 */
const WORKER_YOUNG_GENERATION_MB = 6;
/** Failed starts in a row, or workers dying in a row without one answer, before parsing in-thread. */
const MAX_FAILURES_IN_A_ROW = 3;

export interface ParsePoolOptions {
  /** Worker threads; 0 parses on the calling thread. Default: one per spare core, at most 2. */
  workers?: number;
  watchdogGraceMs?: number;
  idleTerminateMs?: number;
  /** For tests: the worker script (default: found next to this module, see workerScript()). */
  script?: WorkerScript | null;
  /** For tests: lets a message make the worker exit or hang (see parse-worker.ts). */
  testHooks?: boolean;
}

interface Job {
  input: ParseInput;
  options: ParseOptions;
  resolve: (result: ParseResult) => void;
}

interface Sent {
  id: number;
  job: Job;
  bytes: number;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** Set when the pool itself terminates the worker: its exit is then no failure. */
  retired: boolean;
  /** Requests sent, oldest first: the worker answers in this order. */
  sent: Sent[];
  watchdog: NodeJS.Timeout | null;
}

export type WorkerScript = { kind: 'js'; path: string } | { kind: 'ts'; path: string; tsxApi: string };

/**
 * Where the worker script is. In a bundle (out/main/cli/main.js, out/main/electron/main.js, the
 * benchmark's build of bench/in-process-sync.js…) it is main/mime/parse-worker.js under the bundle's
 * root, found by walking up from the bundle's folder; in an Electron package that is inside
 * app.asar, which worker threads read since Electron 18 (electron/electron#33216). From the
 * TypeScript sources (tsx, vitest) it is parse-worker.ts, run through tsx's CommonJS hooks.
 */
export function workerScript(): WorkerScript | null {
  if (__filename.endsWith('.ts')) {
    const path = join(__dirname, 'parse-worker.ts');
    try {
      const tsxApi = createRequire(__filename).resolve('tsx/cjs/api');
      return existsSync(path) ? { kind: 'ts', path, tsxApi } : null;
    } catch {
      return null;
    }
  }
  let directory = __dirname;
  for (let level = 0; level < 4; level += 1) {
    const path = join(directory, 'main', 'mime', 'parse-worker.js');
    if (existsSync(path)) return { kind: 'js', path };
    directory = dirname(directory);
  }
  return null;
}

function defaultWorkerCount(): number {
  const configured = process.env.WHEREABOUTS_PARSE_WORKERS;
  if (configured !== undefined && /^\d+$/.test(configured)) return Number(configured);
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

/** A result as it arrives from the worker: a captured Buffer comes back as a plain Uint8Array. */
function fromWorker(result: ParseResult): ParseResult {
  const captured = result.captured;
  if (captured === null || Buffer.isBuffer(captured.content)) return result;
  const content = captured.content as Uint8Array;
  return {
    ...result,
    captured: { ...captured, content: Buffer.from(content.buffer, content.byteOffset, content.length) },
  };
}

export class ParsePool {
  private readonly size: number;
  private readonly graceMs: number;
  private readonly idleMs: number;
  private readonly testHooks: boolean;
  private script: WorkerScript | null | undefined;
  private readonly queue: Job[] = [];
  private slots: Slot[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | null = null;
  private failuresInARow = 0;
  /** Parses on the calling thread run one at a time, as they always did. */
  private inThreadChain: Promise<unknown> = Promise.resolve();
  /** True once workers proved unusable: everything is parsed on the calling thread from then on. */
  private inThreadOnly: boolean;

  constructor(options: ParsePoolOptions = {}) {
    this.size = options.workers ?? defaultWorkerCount();
    this.graceMs = options.watchdogGraceMs ?? WATCHDOG_GRACE_MS;
    this.idleMs = options.idleTerminateMs ?? IDLE_TERMINATE_MS;
    this.testHooks = options.testHooks === true;
    this.script = options.script;
    this.inThreadOnly = this.size <= 0;
  }

  /** Whether parses go to worker threads (false once the pool fell back to the calling thread). */
  get usesWorkers(): boolean {
    return !this.inThreadOnly;
  }

  /** Worker threads running now (for tests and diagnostics). */
  get runningWorkers(): number {
    return this.slots.length;
  }

  /**
   * What the index stores of one message (envelope, text, attachment facts; no decoded parts, which
   * would be copied back from the worker for nothing): what every store and sync path asks for.
   * Bytes in memory are also hashed there (`sourceSha256`), off the main thread.
   */
  parseForIndex(input: ParseInput): Promise<ParseResult> {
    return this.parse(input, { indexOnly: true, digest: true });
  }

  /** Parses one message; the same contract as parseMessage (never rejects). */
  parse(input: ParseInput, options: ParseOptions = {}): Promise<ParseResult> {
    return new Promise<ParseResult>((resolve) => {
      const job: Job = { input, options, resolve };
      if (this.inThreadOnly) this.parseInThread(job);
      else {
        this.queue.push(job);
        this.pump();
      }
    });
  }

  /**
   * Starts the workers now, ahead of the first parse (they take about 0.1 s to load), when a
   * caller knows messages are about to arrive. They end again after IDLE_TERMINATE_MS unused.
   */
  warm(): void {
    if (this.inThreadOnly) return;
    while (this.slots.length < this.size) {
      if (!this.startWorker()) return;
    }
    this.updateIdleness();
  }

  /**
   * Terminates the workers. Requests not answered yet are parsed on the calling thread; a later
   * parse starts a worker again.
   */
  async close(): Promise<void> {
    this.clearIdleTimer();
    const slots = this.slots;
    this.slots = [];
    const orphans: Job[] = [];
    for (const slot of slots) orphans.push(...this.retire(slot));
    orphans.push(...this.queue.splice(0));
    for (const job of orphans) this.parseInThread(job);
    await Promise.all(slots.map((slot) => slot.worker.terminate().catch(() => undefined)));
  }

  private parseInThread(job: Job): void {
    const previous = this.inThreadChain;
    this.inThreadChain = (async () => {
      await previous;
      try {
        job.resolve(await parseMessage(job.input, job.options));
      } catch (error) {
        // parseMessage does not throw; should that change, the promise still settles.
        job.resolve(await headersOnlyParse(job.input, `The message could not be parsed: ${describeError(error)}`));
      }
    })();
  }

  private pump(): void {
    if (this.inThreadOnly) {
      for (const job of this.queue.splice(0)) this.parseInThread(job);
      return;
    }
    while (this.queue.length > 0 && this.slots.length < this.size) {
      if (!this.startWorker()) return;
    }
    for (const slot of this.slots) {
      if (!slot.ready) continue;
      while (this.queue.length > 0 && this.hasRoom(slot, this.queue[0])) this.send(slot, this.queue.shift() as Job);
    }
    this.updateIdleness();
  }

  private hasRoom(slot: Slot, job: Job): boolean {
    if (slot.sent.length === 0) return true;
    if (slot.sent.length >= MAX_IN_FLIGHT) return false;
    const bytes = slot.sent.reduce((sum, sent) => sum + sent.bytes, 0);
    return bytes + (Buffer.isBuffer(job.input) ? job.input.length : 0) <= MAX_IN_FLIGHT_BYTES;
  }

  private startWorker(): boolean {
    if (this.script === undefined) this.script = workerScript();
    const script = this.script;
    if (script === null) {
      this.fallBackToThisThread();
      return false;
    }
    let worker: Worker;
    try {
      const workerData = { testHooks: this.testHooks };
      const resourceLimits = { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB };
      worker =
        script.kind === 'js'
          ? new Worker(script.path, { workerData, resourceLimits })
          : new Worker(
              `require(${JSON.stringify(script.tsxApi)}).register();require(${JSON.stringify(script.path)});`,
              {
                eval: true,
                execArgv: [],
                workerData,
                resourceLimits,
              },
            );
    } catch {
      this.fallBackToThisThread();
      return false;
    }
    const slot: Slot = { worker, ready: false, retired: false, sent: [], watchdog: null };
    this.slots.push(slot);
    worker.on('message', (message: ParseResponse) => this.onMessage(slot, message));
    // An 'error' (an uncaught exception in the worker) is followed by 'exit', handled there.
    worker.on('error', () => undefined);
    worker.on('exit', () => this.onExit(slot));
    return true;
  }

  private send(slot: Slot, job: Job): void {
    const id = this.nextId++;
    let request: ParseRequest;
    let transfer: ArrayBuffer[] = [];
    if (Buffer.isBuffer(job.input)) {
      const copy = new Uint8Array(job.input.length);
      copy.set(job.input);
      request = { id, bytes: copy, path: null, options: job.options };
      transfer = [copy.buffer];
    } else {
      request = { id, bytes: null, path: job.input.path, options: job.options };
    }
    slot.sent.push({ id, job, bytes: request.bytes?.length ?? 0 });
    slot.worker.postMessage(request, transfer);
    if (slot.sent.length === 1) this.watch(slot);
  }

  /** Starts the watchdog for the oldest request of a worker (the one it is parsing now). */
  private watch(slot: Slot): void {
    if (slot.watchdog) clearTimeout(slot.watchdog);
    slot.watchdog = null;
    const oldest = slot.sent[0];
    if (!oldest) return;
    const limit = (oldest.job.options.timeoutMs ?? PARSE_TIMEOUT_MS) + this.graceMs;
    slot.watchdog = setTimeout(() => this.onHang(slot), limit);
  }

  private onMessage(slot: Slot, message: ParseResponse): void {
    if (slot.retired) return;
    if (message.type === 'ready') {
      slot.ready = true;
      this.pump();
      return;
    }
    const position = slot.sent.findIndex((sent) => sent.id === message.id);
    if (position === -1) return;
    const [answered] = slot.sent.splice(position, 1);
    this.failuresInARow = 0;
    this.watch(slot);
    answered.job.resolve(fromWorker(message.result));
    this.pump();
  }

  /** The oldest request took too long: the worker is stuck in it. */
  private onHang(slot: Slot): void {
    if (slot.retired) return;
    const [stuck, ...rest] = this.retire(slot);
    this.slots = this.slots.filter((other) => other !== slot);
    void slot.worker.terminate().catch(() => undefined);
    this.queue.unshift(...rest);
    if (stuck) void this.answerStopped(stuck);
    this.pump();
  }

  private async answerStopped(job: Job): Promise<void> {
    const limit = job.options.timeoutMs ?? PARSE_TIMEOUT_MS;
    job.resolve(await headersOnlyParse(job.input, `Parsing took longer than ${limit / 1000} s and was stopped.`));
  }

  /** A worker ended without being asked to: it failed to start, or died while parsing. */
  private onExit(slot: Slot): void {
    if (slot.retired) return;
    const [interrupted, ...rest] = this.retire(slot);
    this.slots = this.slots.filter((other) => other !== slot);
    this.failuresInARow += 1;
    if (this.failuresInARow >= MAX_FAILURES_IN_A_ROW) this.fallBackToThisThread();
    // The message being parsed may be what killed the worker: it is parsed here, once, not resent.
    if (interrupted) this.parseInThread(interrupted);
    this.queue.unshift(...rest);
    this.pump();
  }

  /** Marks a worker as no longer used; returns its unanswered requests, oldest first. */
  private retire(slot: Slot): Job[] {
    slot.retired = true;
    if (slot.watchdog) clearTimeout(slot.watchdog);
    slot.watchdog = null;
    return slot.sent.splice(0).map((sent) => sent.job);
  }

  private fallBackToThisThread(): void {
    this.inThreadOnly = true;
    for (const slot of this.slots) {
      for (const job of this.retire(slot)) this.queue.push(job);
      void slot.worker.terminate().catch(() => undefined);
    }
    this.slots = [];
    for (const job of this.queue.splice(0)) this.parseInThread(job);
  }

  /** Busy workers keep the process alive; idle ones do not, and end after a while. */
  private updateIdleness(): void {
    const busy = this.queue.length > 0 || this.slots.some((slot) => slot.sent.length > 0 || !slot.ready);
    for (const slot of this.slots) {
      if (busy) slot.worker.ref();
      else slot.worker.unref();
    }
    this.clearIdleTimer();
    if (!busy && this.slots.length > 0) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        void this.close();
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

let shared: ParsePool | null = null;

/**
 * The process's parse pool: one for every store in the process (there is one in the app and the
 * CLI). WHEREABOUTS_PARSE_WORKERS sets its size; 0 parses on the main thread.
 */
export function sharedParsePool(): ParsePool {
  shared ??= new ParsePool();
  return shared;
}
