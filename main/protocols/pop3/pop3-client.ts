/**
 * A small POP3 client on Node's `net`/`tls` (RFC 1939, RFC 2449 CAPA/PIPELINING/response codes,
 * RFC 2595 STLS, RFC 5034 SASL). It replaces node-pop3, whose framing assumes each TCP read starts
 * a response and ends a body where a read ends — the root of its truncations, hangs and decoded
 * strings — and which has no STLS. All framing is done by `Pop3ResponseReader`; this file owns the
 * socket, the command queue, authentication and error mapping.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { MailError } from '../../../shared/errors';
import type { Security } from '../../../shared/model';
import {
  timeoutError,
  tlsConnectionOptions,
  toMailError,
  verifyTlsPeer,
  watchPeerCertificate,
  type CertificateFacts,
  type ConnectionTarget,
} from '../tls-errors';
import type { MailboxStatus, MessageIdentity, MessageListing, Pop3Capabilities, Pop3Mailbox } from './pop3-mailbox';
import { bodyLines, parseCapabilities, parseNumberPair, parseUidLine, responseCode } from './pop3-responses';
import {
  endsWithCrlf,
  Pop3ProtocolError,
  Pop3ResponseReader,
  type ReaderEvent,
  type ResponseExpectation,
  type StatusLine,
} from './response-reader';
import {
  apopDigest,
  greetingTimestamp,
  oauthBearerMechanism,
  plainMechanism,
  xoauth2Mechanism,
  type SaslMechanism,
} from './sasl';

export type { SaslMechanism } from './sasl';

/** TCP connect plus TLS handshake. */
export const CONNECT_TIMEOUT_MS = 30_000;
/** From an open connection to the server's first line (RFC 1939 §4). */
export const GREETING_TIMEOUT_MS = 30_000;
/** Longest silence while a response is awaited; it restarts with every byte received. */
export const COMMAND_TIMEOUT_MS = 60_000;
/** After QUIT was answered, how long to wait for the server to close before closing ourselves. */
export const QUIT_CLOSE_WAIT_MS = 2_000;
/** Most RETR commands in flight at once when pipelining (RFC 2449 §6.6). */
export const PIPELINE_WINDOW_COMMANDS = 16;
/** Most message bytes (by LIST size) in flight at once when pipelining; bounds memory. */
export const PIPELINE_WINDOW_BYTES = 16 * 1024 * 1024;
/** RFC 2449 §4: a command line, keyword and arguments, is at most 255 octets. */
const MAXIMUM_COMMAND_OCTETS = 255;
const TCP_KEEPALIVE_DELAY_MS = 60_000;

export interface Pop3Timeouts {
  connectMs: number;
  greetingMs: number;
  commandMs: number;
}

/**
 * 'auto': SASL PLAIN when the server offers it, else USER/PASS. 'apop': APOP (RFC 1939 §7) when
 * the greeting carries a timestamp, else as 'auto'.
 */
export type Pop3Authentication = 'auto' | 'user-pass' | 'sasl-plain' | 'apop';

export interface Pop3ConnectOptions {
  host: string;
  port: number;
  security: Security;
  /** Required to be true for security 'none': the user accepted that the password travels unencrypted. */
  allowPlaintext?: boolean;
  /** SHA-256 of the one certificate to accept even though it does not verify (64 hex digits). */
  pinnedFingerprint?: string | null;
  /** Extra trusted CA certificates (PEM), e.g. a company CA. */
  ca?: string | Buffer | Array<string | Buffer>;
  username: string;
  /** Not needed when `saslMechanism` supplies its own credentials (XOAUTH2). */
  password?: string;
  /**
   * An OAuth 2.0 bearer token instead of a password: SASL OAUTHBEARER (RFC 7628) when the server
   * lists it, else XOAUTH2 (what Gmail, Outlook, Yahoo and AOL offer over POP3).
   */
  accessToken?: string;
  authentication?: Pop3Authentication;
  /** Overrides `authentication`: log in with this SASL mechanism. */
  saslMechanism?: SaslMechanism;
  timeouts?: Partial<Pop3Timeouts>;
}

interface BodySink {
  data(bytes: Buffer): void;
}

interface PendingCommand {
  /** The line to send; null for the greeting, which comes unasked. */
  line: string | null;
  /** How the command appears in error messages (never a password). */
  label: string;
  expectation: ResponseExpectation;
  written: boolean;
  sink: BodySink | null;
  status: StatusLine | null;
  resolve(status: StatusLine): void;
  reject(error: MailError): void;
}

function assertMessageNumber(value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new MailError('INVALID_INPUT', `${value} is not a POP3 message number (they start at 1).`);
  }
}

/** Nothing the user typed may end a command line early (command injection). */
function assertSingleLine(value: string, what: string): void {
  if (/[\r\n\0]/.test(value)) throw new MailError('INVALID_INPUT', `The ${what} must not contain line breaks.`);
}

/** A socket we gave up on may still report errors; they are no longer anyone's concern. */
function ignoreLateErrors(): void {}

export class Pop3Client implements Pop3Mailbox {
  private socket: Socket | TLSSocket | null = null;
  private readonly reader = new Pop3ResponseReader();
  private readonly pending: PendingCommand[] = [];
  private failure: MailError | null = null;
  private pipeliningEnabled = false;
  private quitting = false;
  private timer: NodeJS.Timeout | null = null;
  private timerPaused = false;
  private certificate: () => CertificateFacts = () => ({});
  private readonly sizes = new Map<number, number>();
  private readonly target: ConnectionTarget;
  private readonly timeouts: Pop3Timeouts;
  private greetingText = '';
  private currentCapabilities: Pop3Capabilities = parseCapabilities(null);

  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onError = (error: Error): void => this.fail(toMailError(error, this.target, this.certificate()));
  private readonly onClose = (): void => this.closed();

  private constructor(private readonly options: Pop3ConnectOptions) {
    this.target = { host: options.host, port: options.port };
    this.timeouts = {
      connectMs: options.timeouts?.connectMs ?? CONNECT_TIMEOUT_MS,
      greetingMs: options.timeouts?.greetingMs ?? GREETING_TIMEOUT_MS,
      commandMs: options.timeouts?.commandMs ?? COMMAND_TIMEOUT_MS,
    };
  }

  /** Connects, secures the connection, logs in and reads the capabilities. */
  static async connect(options: Pop3ConnectOptions): Promise<Pop3Client> {
    assertSingleLine(options.username, 'user name');
    if (options.password !== undefined) assertSingleLine(options.password, 'password');
    if (options.accessToken !== undefined) assertSingleLine(options.accessToken, 'access token');
    if (options.security === 'none' && options.allowPlaintext !== true) {
      throw new MailError(
        'PLAINTEXT_REFUSED',
        `Connecting to ${options.host} without encryption is not allowed for this account: the password ` +
          'would be readable by anyone on the network. Choose TLS or STARTTLS, or allow an unencrypted ' +
          'connection explicitly.',
        { host: options.host, port: options.port },
      );
    }
    const client = new Pop3Client(options);
    try {
      await client.open();
      await client.refreshCapabilities();
      if (options.security === 'starttls') {
        // A server without CAPA (plain RFC 1939) may still know STLS: then asking is the only way to find out.
        if (client.currentCapabilities.known && !client.currentCapabilities.stls) throw client.startTlsUnavailable();
        await client.startTls();
        // RFC 2595 §4: what was learned before TLS may have been forged; ask again.
        await client.refreshCapabilities();
      }
      await client.authenticate();
      // RFC 2449 §5: capabilities may differ once logged in (PIPELINING in particular).
      await client.refreshCapabilities();
      client.pipeliningEnabled = client.currentCapabilities.pipelining;
      return client;
    } catch (error) {
      client.close();
      throw error instanceof MailError ? error : toMailError(error, client.target, client.certificate());
    }
  }

  get capabilities(): Pop3Capabilities {
    return this.currentCapabilities;
  }

  /** The server's greeting text, after "+OK ". */
  get greeting(): string {
    return this.greetingText;
  }

  // ---- connection ---------------------------------------------------------------------------

  private async open(): Promise<void> {
    const socket =
      this.options.security === 'tls'
        ? connectTls(this.tlsOptions())
        : connectTcp({ host: this.options.host, port: this.options.port });
    if (this.options.security === 'tls') this.certificate = watchPeerCertificate(socket as TLSSocket);
    await this.establish(socket, this.options.security === 'tls' ? 'secureConnect' : 'connect');
    const greeting = await this.enqueue(null, 'the greeting', 'single-line', null);
    if (greeting.kind !== 'ok') {
      const code = responseCode(greeting.text);
      throw new MailError(
        code === 'IN-USE' ? 'MAILBOX_IN_USE' : 'SERVER_ERROR',
        `${this.options.host} refused the session: ${greeting.text || 'no reason given'}`,
        { ...this.target, serverText: greeting.text },
      );
    }
    this.greetingText = greeting.text;
  }

  private tlsOptions(): ReturnType<typeof tlsConnectionOptions> {
    return tlsConnectionOptions({
      host: this.options.host,
      port: this.options.port,
      pinnedFingerprint: this.options.pinnedFingerprint,
      ca: this.options.ca,
    });
  }

  /**
   * Waits for `readyEvent` ('connect' or 'secureConnect') within the connect timeout, checks the
   * certificate before a single byte is written, then makes `socket` the session's socket.
   */
  private async establish(socket: Socket | TLSSocket, readyEvent: 'connect' | 'secureConnect'): Promise<void> {
    socket.setNoDelay(true); // pipelined commands and small replies should not wait for Nagle
    socket.setKeepAlive(true, TCP_KEEPALIVE_DELAY_MS);
    // Data that arrives before we are ready is kept by the reader for the first expectation.
    socket.on('data', this.onData);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(timeoutError(this.target, this.timeouts.connectMs, 'the connection to be established'));
        }, this.timeouts.connectMs);
        const cleanUp = (): void => {
          clearTimeout(timer);
          socket.off(readyEvent, onReady);
          socket.off('error', onFailure);
          socket.off('close', onEarlyClose);
        };
        const onReady = (): void => {
          cleanUp();
          resolve();
        };
        const onFailure = (error: Error): void => {
          cleanUp();
          reject(toMailError(error, this.target, this.certificate()));
        };
        const onEarlyClose = (): void => {
          cleanUp();
          reject(
            new MailError('CONNECTION_LOST', `${this.describeTarget()} closed the connection at once.`, this.target),
          );
        };
        socket.once(readyEvent, onReady);
        socket.once('error', onFailure);
        socket.once('close', onEarlyClose);
      });
      if (readyEvent === 'secureConnect') {
        const trustError = verifyTlsPeer(socket as TLSSocket, this.trustOptions());
        if (trustError) throw trustError;
      }
    } catch (error) {
      socket.off('data', this.onData);
      socket.on('error', ignoreLateErrors);
      socket.destroy();
      throw error;
    }
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    this.socket = socket;
  }

  private trustOptions(): { host: string; port: number; pinnedFingerprint?: string | null } {
    return { ...this.target, pinnedFingerprint: this.options.pinnedFingerprint };
  }

  private startTlsUnavailable(): MailError {
    return new MailError(
      'STARTTLS_UNAVAILABLE',
      `${this.describeTarget()} does not offer STARTTLS (STLS), so the password would travel unencrypted. ` +
        'Nothing was sent. Use the server’s TLS port (usually 995) instead.',
      { ...this.target },
    );
  }

  /** RFC 2595 §4: STLS, then a TLS handshake on the same connection. */
  private async startTls(): Promise<void> {
    const status = await this.command('STLS', 'STLS', 'single-line');
    if (status.kind !== 'ok') throw this.startTlsUnavailable();
    const plain = this.socket as Socket;
    // From now on the TLS socket reports the session's data and end; errors of the TCP socket
    // underneath still fail the session (onError stays attached to it).
    plain.off('data', this.onData);
    plain.off('close', this.onClose);
    this.socket = null;
    // Anything that came after "+OK" in plaintext could only be an injection attempt.
    this.reader.discardBuffered();
    const secure = connectTls({ ...this.tlsOptions(), socket: plain });
    this.certificate = watchPeerCertificate(secure);
    await this.establish(secure, 'secureConnect');
  }

  private describeTarget(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  // ---- command queue ------------------------------------------------------------------------

  private command(line: string, label: string, expectation: ResponseExpectation, sink: BodySink | null = null) {
    return this.enqueue(line, label, expectation, sink);
  }

  private enqueue(
    line: string | null,
    label: string,
    expectation: ResponseExpectation,
    sink: BodySink | null,
  ): Promise<StatusLine> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.socket) {
      return Promise.reject(new MailError('CONNECTION_LOST', `The connection to ${this.describeTarget()} is closed.`));
    }
    return new Promise<StatusLine>((resolve, reject) => {
      const command: PendingCommand = {
        line,
        label,
        expectation,
        written: line === null,
        sink,
        status: null,
        resolve,
        reject,
      };
      this.pending.push(command);
      try {
        this.dispatch(this.reader.expect(expectation));
      } catch (error) {
        this.failWithProtocolError(error);
        return;
      }
      this.writeReadyCommands();
      this.armTimer();
    });
  }

  /** Without PIPELINING a command is sent only once every earlier one was answered (RFC 1939 §3). */
  private writeReadyCommands(): void {
    const socket = this.socket;
    if (!socket) return;
    for (let index = 0; index < this.pending.length; index += 1) {
      const command = this.pending[index];
      if (command.written) continue;
      if (!this.pipeliningEnabled && index > 0) return;
      command.written = true;
      socket.write(`${command.line}\r\n`, 'utf8');
    }
  }

  private receive(chunk: Buffer): void {
    this.timer?.refresh();
    try {
      this.dispatch(this.reader.push(chunk));
    } catch (error) {
      this.failWithProtocolError(error);
    }
  }

  private failWithProtocolError(error: unknown): void {
    if (error instanceof Pop3ProtocolError) {
      this.fail(new MailError('SERVER_ERROR', error.message, { ...this.target }));
    } else {
      this.fail(toMailError(error, this.target));
    }
  }

  private dispatch(events: ReaderEvent[]): void {
    for (const event of events) {
      const command = this.pending[0];
      if (!command) return; // cannot happen: the reader answers only queued expectations
      if (event.type === 'status') {
        if (event.bodyFollows) {
          command.status = event.status;
          continue;
        }
        this.pending.shift();
        command.resolve(event.status);
      } else if (event.type === 'body') {
        command.sink?.data(event.data);
      } else {
        this.pending.shift();
        command.resolve(command.status as StatusLine);
      }
      this.writeReadyCommands();
    }
    if (this.pending.length === 0) this.disarmTimer();
  }

  // ---- timers and failure -------------------------------------------------------------------

  private armTimer(): void {
    if (this.timer || this.timerPaused || this.pending.length === 0) return;
    const waitingForGreeting = this.pending[0]?.line === null;
    const timeoutMs = waitingForGreeting ? this.timeouts.greetingMs : this.timeouts.commandMs;
    const waitingFor = this.pending[0]?.label ?? 'an answer';
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fail(timeoutError(this.target, timeoutMs, waitingFor));
    }, timeoutMs);
  }

  private disarmTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** While a slow destination holds the socket paused, our silence is not the server's. */
  private pauseForBackpressure(destination: Writable): void {
    const socket = this.socket;
    if (!socket || socket.isPaused()) return;
    socket.pause();
    this.disarmTimer();
    this.timerPaused = true;
    destination.once('drain', () => {
      this.timerPaused = false;
      this.armTimer();
      socket.resume();
    });
  }

  private fail(error: MailError): void {
    if (!this.failure) this.failure = error;
    this.disarmTimer();
    const waiting = this.pending.splice(0);
    for (const command of waiting) command.reject(this.failure);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.off('data', this.onData);
      socket.on('error', ignoreLateErrors);
      socket.destroy();
    }
  }

  private closed(): void {
    if (this.quitting && this.pending.length === 0) {
      this.socket = null;
      return;
    }
    const during = this.pending[0]?.label;
    this.fail(
      new MailError(
        'CONNECTION_LOST',
        during
          ? `${this.describeTarget()} closed the connection while answering ${during}.`
          : `${this.describeTarget()} closed the connection.`,
        { ...this.target },
      ),
    );
  }

  /** Drops the connection without QUIT; nothing marked deleted is deleted (RFC 1939 §6). */
  close(): void {
    if (!this.failure) {
      this.failure = new MailError('CONNECTION_LOST', `The connection to ${this.describeTarget()} was closed.`);
    }
    this.fail(this.failure);
  }

  // ---- errors from the server ---------------------------------------------------------------

  private async expectOk(status: StatusLine, label: string): Promise<StatusLine> {
    if (status.kind === 'ok') return status;
    throw this.serverError(status, label);
  }

  private serverError(status: StatusLine, label: string): MailError {
    const details = { ...this.target, serverText: status.text };
    const code = responseCode(status.text);
    if (code === 'IN-USE') {
      return new MailError(
        'MAILBOX_IN_USE',
        'Another program is using this mailbox right now (POP3 allows one session at a time). ' +
          `Close the other mail program or wait a moment, then try again. The server said: ${status.text}`,
        details,
      );
    }
    if (code === 'LOGIN-DELAY') {
      return new MailError(
        'SERVER_ERROR',
        `The server allows checking for mail only every so often; try again later. The server said: ${status.text}`,
        details,
      );
    }
    return new MailError('SERVER_ERROR', `The server refused ${label}: ${status.text || 'no reason given'}`, details);
  }

  /** RFC 2449 §8.1: [AUTH] means the credentials; without a code, a failed login means the same. */
  private authenticationError(status: StatusLine): MailError {
    const code = responseCode(status.text);
    if (code === 'IN-USE' || code === 'LOGIN-DELAY' || code === 'SYS/TEMP' || code === 'SYS/PERM') {
      return this.serverError(status, 'the login');
    }
    const credential = this.options.accessToken === undefined ? 'user name or password' : 'sign-in token';
    return new MailError(
      'AUTH_FAILED',
      `${this.options.host} did not accept the ${credential} for ${this.options.username}. ` +
        `The server said: ${status.text || 'no reason given'}`,
      { ...this.target, serverText: status.text },
    );
  }

  // ---- capabilities and login ---------------------------------------------------------------

  private async refreshCapabilities(): Promise<void> {
    const body = await this.collect('CAPA', 'CAPA');
    this.currentCapabilities = parseCapabilities(body);
  }

  private async authenticate(): Promise<void> {
    const { options } = this;
    if (options.saslMechanism) return this.authenticateSasl(options.saslMechanism);
    if (options.accessToken !== undefined) return this.authenticateSasl(this.bearerMechanism(options.accessToken));
    const password = options.password;
    if (password === undefined) throw new MailError('INVALID_INPUT', 'A password is needed to log in.');
    const method = options.authentication ?? 'auto';
    const timestamp = greetingTimestamp(this.greetingText);
    if (method === 'apop' && timestamp) {
      // RFC 1939 §7: the digest proves the password without sending it.
      const digest = apopDigest(timestamp, password);
      const status = await this.command(`APOP ${options.username} ${digest}`, 'APOP', 'single-line');
      if (status.kind !== 'ok') throw this.authenticationError(status);
      return;
    }
    const offersPlain = this.currentCapabilities.saslMechanisms.includes('PLAIN');
    if (method === 'sasl-plain' || ((method === 'auto' || method === 'apop') && offersPlain)) {
      return this.authenticateSasl(plainMechanism(options.username, password));
    }
    const userStatus = await this.command(`USER ${options.username}`, 'USER', 'single-line');
    if (userStatus.kind !== 'ok') throw this.authenticationError(userStatus);
    const passStatus = await this.command(`PASS ${password}`, 'PASS', 'single-line');
    if (passStatus.kind !== 'ok') throw this.authenticationError(passStatus);
  }

  /**
   * RFC 7628's OAUTHBEARER is the standard; XOAUTH2 is its older sibling that every big provider
   * offers. A server whose CAPA lists no SASL mechanisms at all is still tried with XOAUTH2.
   */
  private bearerMechanism(accessToken: string): SaslMechanism {
    const { username } = this.options;
    if (this.currentCapabilities.saslMechanisms.includes('OAUTHBEARER')) {
      return oauthBearerMechanism(username, accessToken, this.target);
    }
    return xoauth2Mechanism(username, accessToken);
  }

  /** RFC 5034 §4, with the initial response on the AUTH line when the line stays within 255 octets. */
  private async authenticateSasl(mechanism: SaslMechanism): Promise<void> {
    const label = `AUTH ${mechanism.name}`;
    let initial = await mechanism.initialResponse();
    let line = label;
    if (initial !== undefined) {
      const encoded = initial === '' ? '=' : initial;
      if (Buffer.byteLength(`${label} ${encoded}`) <= MAXIMUM_COMMAND_OCTETS) {
        line = `${label} ${encoded}`;
        initial = undefined;
      }
    }
    assertSingleLine(line, 'SASL response');
    let status = await this.command(line, label, 'single-line');
    while (status.kind === 'continuation') {
      let response: string;
      if (initial !== undefined) {
        response = initial;
        initial = undefined;
      } else {
        response = await mechanism.respond(status.text);
      }
      assertSingleLine(response, 'SASL response');
      status = await this.command(response, label, 'single-line');
    }
    if (status.kind !== 'ok') throw this.authenticationError(status);
  }

  // ---- transaction commands (RFC 1939 §5) ---------------------------------------------------

  /** Sends a multi-line command and gathers its body; null when the server answered -ERR. */
  private async collect(line: string, label: string): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    const status = await this.command(line, label, 'multi-line', { data: (bytes) => parts.push(bytes) });
    return status.kind === 'ok' ? Buffer.concat(parts) : null;
  }

  private async collectOk(line: string, label: string = line): Promise<Buffer> {
    const parts: Buffer[] = [];
    const status = await this.command(line, label, 'multi-line', { data: (bytes) => parts.push(bytes) });
    await this.expectOk(status, label);
    return Buffer.concat(parts);
  }

  async stat(): Promise<MailboxStatus> {
    const status = await this.expectOk(await this.command('STAT', 'STAT', 'single-line'), 'STAT');
    const [messageCount, totalBytes] = parseNumberPair(status.text, 'STAT answer');
    return { messageCount, totalBytes };
  }

  async list(): Promise<MessageListing[]> {
    const body = await this.collectOk('LIST');
    const listings = bodyLines(body).map((line) => {
      const [number, size] = parseNumberPair(line, 'LIST line');
      return { number, size };
    });
    for (const listing of listings) this.sizes.set(listing.number, listing.size);
    return listings;
  }

  async listOne(messageNumber: number): Promise<MessageListing> {
    assertMessageNumber(messageNumber);
    const label = `LIST ${messageNumber}`;
    const status = await this.expectOk(await this.command(label, label, 'single-line'), label);
    const [number, size] = parseNumberPair(status.text, 'LIST answer');
    this.sizes.set(number, size);
    return { number, size };
  }

  async uidl(): Promise<MessageIdentity[]> {
    const body = await this.collectOk('UIDL');
    return bodyLines(body).map(parseUidLine);
  }

  async uidlOne(messageNumber: number): Promise<MessageIdentity> {
    assertMessageNumber(messageNumber);
    const label = `UIDL ${messageNumber}`;
    const status = await this.expectOk(await this.command(label, label, 'single-line'), label);
    return parseUidLine(status.text);
  }

  async top(messageNumber: number, bodyLineCount: number): Promise<Buffer> {
    assertMessageNumber(messageNumber);
    if (!Number.isSafeInteger(bodyLineCount) || bodyLineCount < 0) {
      throw new MailError('INVALID_INPUT', `${bodyLineCount} is not a line count.`);
    }
    return this.collectOk(`TOP ${messageNumber} ${bodyLineCount}`);
  }

  async retrieve(messageNumber: number): Promise<Buffer> {
    const expectedSize = await this.sizeOf(messageNumber);
    return this.retrieveWithSize(messageNumber, expectedSize);
  }

  private async retrieveWithSize(messageNumber: number, expectedSize: number): Promise<Buffer> {
    const bytes = await this.collectOk(`RETR ${messageNumber}`);
    this.checkSize(messageNumber, expectedSize, bytes.length, endsWithCrlf(bytes));
    return bytes;
  }

  async retrieveTo(messageNumber: number, destination: Writable): Promise<number> {
    const expectedSize = await this.sizeOf(messageNumber);
    let received = 0;
    let lastTwo = Buffer.alloc(0);
    let destinationError: Error | null = null;
    // Writes the destination has not finished yet; resolving waits for them, so that "resolved"
    // means every byte went through the destination's write.
    let unfinishedWrites = 0;
    let allWritten: (() => void) | null = null;
    const writeFinished = (error?: Error | null): void => {
      if (error) destinationError ??= error;
      unfinishedWrites -= 1;
      if (unfinishedWrites === 0) allWritten?.();
    };
    const onDestinationError = (error: Error): void => {
      destinationError ??= error;
      allWritten?.();
    };
    destination.on('error', onDestinationError);
    const label = `RETR ${messageNumber}`;
    try {
      const status = await this.command(label, label, 'multi-line', {
        data: (bytes) => {
          received += bytes.length;
          lastTwo = Buffer.concat([lastTwo, bytes.subarray(-2)]).subarray(-2);
          // After a write error keep reading to the terminator, so the session stays usable.
          if (destinationError) return;
          unfinishedWrites += 1;
          if (!destination.write(bytes, writeFinished)) this.pauseForBackpressure(destination);
        },
      });
      await this.expectOk(status, label);
      if (unfinishedWrites > 0 && !destinationError) {
        await new Promise<void>((resolve) => {
          allWritten = resolve;
        });
      }
    } finally {
      destination.off('error', onDestinationError);
    }
    if (destinationError) throw this.destinationFailure(destinationError);
    this.checkSize(messageNumber, expectedSize, received, endsWithCrlf(lastTwo));
    return received;
  }

  private destinationFailure(error: Error): MailError {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new MailError(
        'DISK_FULL',
        'The disk is full: the message could not be saved. Free some space and try again.',
      );
    }
    return new MailError('INTERNAL', `The message could not be saved: ${error.message}`);
  }

  /**
   * RFC 1939 §5: LIST gives "the exact size of the message"; a download that does not match it
   * is incomplete or damaged and must not count as downloaded. The one allowed difference is the
   * CRLF that POP3 appends to a message that does not end in one (RFC 1939 §3).
   */
  private checkSize(messageNumber: number, expectedSize: number, receivedSize: number, endsInCrlf: boolean): void {
    if (receivedSize === expectedSize) return;
    if (receivedSize === expectedSize + 2 && endsInCrlf) return;
    throw new MailError(
      'SIZE_MISMATCH',
      `Message ${messageNumber} arrived with ${receivedSize} bytes, but the server announced ${expectedSize}. ` +
        'It was not saved; it will be downloaded again next time.',
      { ...this.target },
    );
  }

  private async sizeOf(messageNumber: number): Promise<number> {
    assertMessageNumber(messageNumber);
    return this.sizes.get(messageNumber) ?? (await this.listOne(messageNumber)).size;
  }

  async retrieveMany(
    messageNumbers: readonly number[],
    onMessage: (messageNumber: number, bytes: Buffer) => Promise<void> | void,
  ): Promise<void> {
    messageNumbers.forEach(assertMessageNumber);
    if (messageNumbers.some((number) => !this.sizes.has(number))) await this.list();
    const sizeOf = (number: number): number => {
      const size = this.sizes.get(number);
      if (size === undefined) {
        throw new MailError('NOT_FOUND', `There is no message ${number} on the server (any more).`, { ...this.target });
      }
      return size;
    };
    if (!this.pipeliningEnabled) {
      for (const number of messageNumbers) await onMessage(number, await this.retrieveWithSize(number, sizeOf(number)));
      return;
    }
    // RFC 2449 §6.6: send RETRs without waiting, but keep a bounded window so memory stays bounded
    // by PIPELINE_WINDOW_BYTES (a single larger message is still fetched, alone).
    interface InFlight {
      number: number;
      size: number;
      bytes: Promise<Buffer>;
    }
    const inFlight: InFlight[] = [];
    let inFlightBytes = 0;
    let next = 0;
    try {
      while (next < messageNumbers.length || inFlight.length > 0) {
        while (
          next < messageNumbers.length &&
          (inFlight.length === 0 ||
            (inFlight.length < PIPELINE_WINDOW_COMMANDS &&
              inFlightBytes + sizeOf(messageNumbers[next]) <= PIPELINE_WINDOW_BYTES))
        ) {
          const number = messageNumbers[next];
          const size = sizeOf(number);
          const bytes = this.retrieveWithSize(number, size);
          bytes.catch(() => undefined); // observed below, in order; avoid an unhandled rejection meanwhile
          inFlight.push({ number, size, bytes });
          inFlightBytes += size;
          next += 1;
        }
        const head = inFlight.shift() as InFlight;
        inFlightBytes -= head.size;
        await onMessage(head.number, await head.bytes);
      }
    } finally {
      // Leave the session in step: every RETR sent gets read to its end before we return.
      await Promise.allSettled(inFlight.map((entry) => entry.bytes));
    }
  }

  async delete(messageNumber: number): Promise<void> {
    assertMessageNumber(messageNumber);
    const label = `DELE ${messageNumber}`;
    await this.expectOk(await this.command(label, label, 'single-line'), label);
  }

  async reset(): Promise<void> {
    await this.expectOk(await this.command('RSET', 'RSET', 'single-line'), 'RSET');
  }

  async noop(): Promise<void> {
    await this.expectOk(await this.command('NOOP', 'NOOP', 'single-line'), 'NOOP');
  }

  /** RFC 1939 §6: deletions are applied only now; -ERR means they were not. */
  async quit(): Promise<void> {
    const socket = this.socket;
    this.quitting = true;
    const status = await this.command('QUIT', 'QUIT', 'single-line');
    if (status.kind !== 'ok') {
      this.close();
      throw new MailError(
        'SERVER_ERROR',
        `The server could not finish the session, so messages marked for deletion were not deleted: ${status.text}`,
        { ...this.target, serverText: status.text },
      );
    }
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
        resolve();
      }, QUIT_CLOSE_WAIT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
    this.socket = null;
  }
}
