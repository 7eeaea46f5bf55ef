/**
 * The worker thread behind ParsePool (parse-pool.ts): runs `parseMessage` off the main thread.
 * Requests are handled one at a time, in the order they arrive, so each parse keeps its own
 * time limit (PARSE_TIMEOUT_MS) as it has on the main thread, and the pool knows which request a
 * hang or a crash belongs to: always the oldest unanswered one.
 *
 * Bundled on its own as out/main/mime/parse-worker.js (package.json "build:main"); run from the
 * TypeScript sources through tsx's CommonJS hooks (see parse-pool.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
// Loaded before the worker reports ready, so that the pool's watchdog (which starts when a request
// is sent) never counts loading mailparser against a message's time limit.
import 'mailparser';
import { parseMessage, type ParseOptions, type ParseResult } from './parse';

/** What the pool sends: the message bytes (a copy the worker owns) or a stored file's path. */
export interface ParseRequest {
  id: number;
  bytes: Uint8Array | null;
  path: string | null;
  options: ParseOptions;
}

export type ParseResponse = { type: 'ready' } | { type: 'result'; id: number; result: ParseResult };

/** Set only by the pool's tests: lets a message make this worker exit or hang while parsing it. */
const TEST_HOOKS = (workerData as { testHooks?: unknown } | null)?.testHooks === true;
const TEST_HOOK_HEADER = /^X-Parse-Worker-Test: (exit|hang)\r?$/m;

function runTestHook(bytes: Uint8Array | null): void {
  if (!TEST_HOOKS || bytes === null) return;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString('latin1');
  const hook = TEST_HOOK_HEADER.exec(head)?.[1];
  if (hook === 'exit') process.exit(3);
  if (hook === 'hang') for (;;);
}

async function handle(request: ParseRequest): Promise<void> {
  runTestHook(request.bytes);
  const input =
    request.bytes !== null
      ? Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.length)
      : { path: request.path ?? '' };
  const result = await parseMessage(input, request.options);
  const response: ParseResponse = { type: 'result', id: request.id, result };
  port.postMessage(response);
}

if (!parentPort) throw new Error('parse-worker runs only as a worker thread.');
const port = parentPort;
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ParseRequest) => {
  // parseMessage never throws; the catch keeps the chain alive should that ever change (the pool's
  // watchdog then answers the request).
  queue = queue.then(() => handle(request)).catch(() => undefined);
});
port.postMessage({ type: 'ready' } satisfies ParseResponse);
