/**
 * ImapFlow with a guard on every byte it writes, and the few imapflow internals we rely on, in
 * one place. imapflow is pinned (2.1.2 in package.json); the start-up check below fails loudly if
 * an upgrade removes what this file uses.
 *
 * Why a guard: imapflow creates its TLS sockets itself (for implicit TLS in connect(), for
 * STARTTLS inside its upgrade), so the caller gets no hook between "handshake done" and "first
 * command sent". Node cannot pin a certificate for us: with `rejectUnauthorized` a self-signed
 * certificate fails before any callback, and `checkServerIdentity` is not consulted when the
 * chain fails. So pinned mode connects with verification off and this class makes the trust
 * decision (tls-errors.ts `verifyTlsPeer`) before the first byte goes out on each TLS socket:
 * nothing — not even CAPABILITY, let alone LOGIN — is sent to a server we do not trust.
 * The same gate refuses any credential-bearing command on a plaintext socket unless the account
 * allows plaintext (DESIGN.md Security), as a second line behind `doSTARTTLS: true`.
 */
import { createRequire } from 'node:module';
import { TLSSocket } from 'node:tls';
import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { MailError } from '../../../shared/errors';
import { verifyTlsPeer, watchPeerCertificate, type CertificateFacts, type TlsTrustOptions } from '../tls-errors';

/** A token or list in a command we send through imapflow's command compiler. */
export type CommandAttribute = { type: 'ATOM' | 'SEQUENCE' | 'STRING'; value: string } | CommandAttribute[];

/** A parsed server response as imapflow hands it to command callbacks. */
export interface ParsedResponse {
  tag?: string;
  command?: string;
  attributes?: unknown[];
}

export interface ExecOptions {
  /** Handlers for untagged responses while this command runs, keyed by upper-case response name. */
  untagged?: Record<string, (response: ParsedResponse) => Promise<void> | void>;
}

interface ExecResult {
  response: ParsedResponse;
  /** imapflow's flow control: the reader stays paused until this is called. */
  next: () => void;
}

/** imapflow internals used here (present in 2.1.2; see `assertInternals`). */
interface ImapflowInternals {
  write(chunk: string | Buffer): unknown;
  exec(command: string, attributes: CommandAttribute[] | false, options?: ExecOptions): Promise<ExecResult>;
  /** The handler connect() installs for a `* PREAUTH` greeting. */
  initialPREAUTH(): Promise<void>;
}

const baseWrite = (ImapFlow.prototype as unknown as Partial<ImapflowInternals>).write;
const baseExec = (ImapFlow.prototype as unknown as Partial<ImapflowInternals>).exec;
const basePreauthGreeting = (ImapFlow.prototype as unknown as Partial<ImapflowInternals>).initialPREAUTH;
if (typeof baseWrite !== 'function' || typeof baseExec !== 'function' || typeof basePreauthGreeting !== 'function') {
  throw new Error(
    'imapflow changed: ImapFlow.prototype.write/exec/initialPREAUTH are gone; see main/protocols/imap/guarded-imapflow.ts',
  );
}

/**
 * Two of imapflow's uses of its command compiler cost a sync far more than the compile is worth,
 * and are answered here, in front of it:
 * - It compiles every command it sends and every response it parses a second time, into text for
 *   its logger (imap-flow.js: `compiler(…, { isLogging: true })`), even with `logger: false`, which
 *   is how we always run it (connect-imap.ts). For a FETCH response that is a walk over every
 *   envelope, address and header literal: ≈ 10 % of the main thread in a headers-only sync of
 *   10,000 messages (bench figure 2). The logging text of untagged responses (`* …`: FETCH, EXISTS,
 *   LIST…) is now empty; commands and tagged answers, which imapflow also puts into its error
 *   texts, are still compiled.
 * - It names each item of each FETCH response by compiling the item's key (`UID`, `FLAGS`,
 *   `BODY[HEADER.FIELDS (…)]`) on its own (tools.js formatMessageResponse): six compiles per
 *   message. The few distinct keys are remembered (the compile is a pure function of the key).
 * The wire compile of anything else is imapflow's own. imap-flow.js and tools.js read `compiler`
 * from the handler module's exports at each call, so replacing it there is seen by the CommonJS
 * build we ship (the `import` build the tests load keeps its own, unpatched, instance: same bytes
 * on the wire either way).
 */
type ImapCompiler = (node: unknown, options?: { isLogging?: boolean }) => Promise<unknown>;
const NOTHING_TO_LOG = Buffer.alloc(0);
const MAX_REMEMBERED_KEYS = 256;
export const imapflowHandler = createRequire(__filename)('imapflow/lib/handler/imap-handler.js') as {
  compiler?: ImapCompiler;
};
const wireCompiler = imapflowHandler.compiler;
if (typeof wireCompiler !== 'function') {
  throw new Error('imapflow changed: its handler module has no compiler; see main/protocols/imap/guarded-imapflow.ts');
}

/** The one attribute of `{ attributes: [key] }`, the shape formatMessageResponse compiles; else null. */
function lonelyAttribute(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return null;
  const keys = Object.keys(node);
  const attributes = (node as { attributes?: unknown }).attributes;
  return keys.length === 1 && Array.isArray(attributes) && attributes.length === 1 ? (attributes[0] as unknown) : null;
}

function quietCompiler(wire: ImapCompiler): ImapCompiler {
  const remembered = new Map<string, unknown>();
  return async (node, options) => {
    if (options?.isLogging && (node as { tag?: unknown } | null)?.tag === '*') return NOTHING_TO_LOG;
    const attribute = options === undefined ? lonelyAttribute(node) : null;
    if (attribute === null || typeof attribute !== 'object') return wire(node, options);
    const key = JSON.stringify(attribute);
    const known = remembered.get(key);
    if (known !== undefined) return known;
    const compiled = await wire(node, options);
    if (remembered.size >= MAX_REMEMBERED_KEYS) remembered.clear();
    remembered.set(key, compiled);
    return compiled;
  };
}

if (!(wireCompiler as { quiet?: boolean }).quiet) {
  imapflowHandler.compiler = Object.assign(quietCompiler(wireCompiler), { quiet: true });
}

/** Commands that carry no secret and may go over a plaintext socket before STARTTLS (RFC 3501 section 6.1, 6.2.1; RFC 2971 ID). */
const PRE_TLS_COMMAND = /^[A-Za-z0-9.]+ (CAPABILITY|STARTTLS|ID|NOOP|LOGOUT)(\r\n| )/;

export interface TransportGuard {
  /** Host, port and the pinned fingerprint, for the trust decision. */
  trust: TlsTrustOptions;
  /** Only with security 'none' and the account's explicit allowPlaintext. */
  plaintextAllowed: boolean;
  /** Security 'starttls': the session must become TLS before it may be used at all. */
  startTlsRequired: boolean;
}

export class GuardedImapFlow extends ImapFlow {
  /** The first refusal of the guard; connect() reports it instead of imapflow's generic "closed". */
  refusal: MailError | null = null;
  private activeSocket: unknown = false;
  private readonly verifiedSockets = new WeakSet<TLSSocket>();
  private certificateOfLastTlsSocket: () => CertificateFacts = () => ({});

  constructor(
    options: ImapFlowOptions,
    private readonly guard: TransportGuard,
  ) {
    super(options);
    // imapflow assigns `this.socket` whenever it creates a transport (connect, STARTTLS). Watching
    // the assignment is the only way to see each TLS socket before its handshake completes, in
    // time to record the certificate for the error message even when Node rejects it.
    this.activeSocket = (this as unknown as { socket: unknown }).socket;
    Object.defineProperty(this, 'socket', {
      configurable: true,
      enumerable: true,
      get: () => this.activeSocket,
      set: (socket: unknown) => {
        this.activeSocket = socket;
        if (socket instanceof TLSSocket) this.certificateOfLastTlsSocket = watchPeerCertificate(socket);
      },
    });
  }

  /** The certificate of the most recent TLS handshake (empty before one completed). */
  get peerCertificate(): CertificateFacts {
    return this.certificateOfLastTlsSocket();
  }

  /** True when the session runs over TLS (implicit or after STARTTLS). */
  get encrypted(): boolean {
    return this.activeSocket instanceof TLSSocket;
  }

  /** Ends the transport at once, as a network failure would (for tests of what follows a drop). */
  destroyTransport(): void {
    const socket = this.activeSocket as { destroy?: unknown } | false | null;
    if (socket && typeof socket.destroy === 'function') (socket as { destroy(): void }).destroy();
  }

  /** Sends a command through imapflow's queue and parser, keeping the server's NO/BAD text (imapflow's wrappers drop it). */
  exec(command: string, attributes: CommandAttribute[] | false, options?: ExecOptions): Promise<ExecResult> {
    return (baseExec as ImapflowInternals['exec']).call(this, command, attributes, options);
  }

  /**
   * Called by imapflow for a `* PREAUTH` greeting. PREAUTH puts the session in the authenticated
   * state, where STARTTLS is no longer allowed (RFC 3501 section 6.2.1), so on a connection that
   * must be encrypted first it can only be a downgrade (an attacker on the path answering for the
   * server): RFC 9051 section 7.1.4 says a client that requires STARTTLS MUST close the connection.
   * imapflow would instead carry on (STARTTLS in the authenticated state, or plaintext commands).
   */
  initialPREAUTH(): Promise<void> {
    if (this.guard.startTlsRequired && !this.encrypted) {
      const { host, port } = this.guard.trust;
      this.refusal ??= new MailError(
        'STARTTLS_UNAVAILABLE',
        `${host}:${port} claimed the session was already logged in (PREAUTH) before the connection was encrypted, ` +
          'so it can no longer be switched to encryption (STARTTLS). The connection was closed before anything was sent.',
        { host, port },
      );
      // Closing before the greeting completes makes connect() reject; ImapflowSession reports `refusal`.
      this.destroyTransport();
      return Promise.resolve();
    }
    return (basePreauthGreeting as ImapflowInternals['initialPREAUTH']).call(this);
  }

  /** Overrides imapflow's single write path (every command, literal and continuation goes through it). */
  write(chunk: string | Buffer): unknown {
    const refusal = this.checkBeforeWrite(chunk);
    if (refusal) {
      this.refusal ??= refusal;
      this.destroyTransport();
      throw refusal;
    }
    return (baseWrite as ImapflowInternals['write']).call(this, chunk);
  }

  private checkBeforeWrite(chunk: string | Buffer): MailError | undefined {
    const socket = this.activeSocket;
    if (socket instanceof TLSSocket) {
      if (this.verifiedSockets.has(socket)) return undefined;
      const untrusted = verifyTlsPeer(socket, this.guard.trust);
      if (untrusted) return untrusted;
      this.verifiedSockets.add(socket);
      return undefined;
    }
    if (this.guard.plaintextAllowed) return undefined;
    const line = typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    if (PRE_TLS_COMMAND.test(line.endsWith('\r\n') ? line : `${line}\r\n`)) return undefined;
    return new MailError(
      'PLAINTEXT_REFUSED',
      `Whereabouts stopped before sending anything private to ${this.guard.trust.host} without encryption.`,
      { host: this.guard.trust.host, port: this.guard.trust.port },
    );
  }
}
