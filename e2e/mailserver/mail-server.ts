/**
 * Starts and stops a private Dovecot 2.3 (IMAP, POP3, LMTP) and Postfix 3.7 (submission) on loopback
 * high ports, for the tests. Nothing of the system installation is used except the binaries: every
 * config, socket, queue, log and mailbox lives under one short temporary folder.
 *
 * By hand:  npx tsx e2e/mailserver/mail-server.ts start      (prints the MailServerInfo JSON, leaves it running)
 *           npx tsx e2e/mailserver/mail-server.ts stop DIR   (DIR = the printed dataDir)
 */
import { X509Certificate } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestCertificates, type CertificateFiles, type TestCertificates } from './certificates.js';
import {
  descendantsOf,
  executableOf,
  findFreePort,
  runCommand,
  startDaemon,
  stopProcessTrees,
  waitForPorts,
  type Daemon,
} from './processes.js';
import {
  ALL_HOSTS,
  LOOPBACK_HOSTS,
  TLS_HOSTS,
  renderDovecotConfig,
  renderDovecotOAuth2Settings,
  renderPostfixMainConfig,
  renderPostfixMasterConfig,
  type ServerLayout,
  type ServerPorts,
} from './server-config.js';
import type { MailServerInfo, TlsEndpointSet } from './types.js';

/** The system user that owns all test mail (created on first use). */
export const MAIL_USER_NAME = 'wamail';
/** Short on purpose: Dovecot's sockets live under it and sun_path holds ~108 bytes. */
const DATA_DIR_PREFIX = '/tmp/wa-ms-';
const LISTEN_TIMEOUT_MS = 15_000;
/**
 * Postfix waits until main.cf is some seconds old before starting (it assumes an editor is still
 * writing it); files dated this far back start it at once.
 */
const CONFIG_AGE_S = 60;
const POSTFIX_MASTER = '/usr/lib/postfix/sbin/master';
const DOVECOT_MASTER = '/usr/sbin/dovecot';
/** Written into dataDir so `stop DIR` (another process) finds what to stop. */
const STATE_FILE = 'server.json';

export interface RunningMailServer {
  info: MailServerInfo;
  stop(): Promise<void>;
}

interface ServerState {
  info: MailServerInfo;
  dovecotPid: number;
  postfixPid: number;
}

export interface StartOptions {
  /** Let the daemons outlive this process (for the command line); default false. */
  detached?: boolean;
  /**
   * A second, separate instance whose users log in only with OAuth 2.0 bearer tokens (main/oauth's
   * tests): Dovecot's oauth2 passdb asks `introspectionUrl` (RFC 7662) about each token, and its own
   * Postfix authenticates submission through it. It presents the certificates of `certificatesFrom`,
   * so the test CA the workers already trust covers it too.
   */
  oauth2?: { introspectionUrl: string; certificatesFrom: MailServerInfo };
}

/** The certificates another instance made (certificates.ts names them), for a second instance to present. */
async function existingCertificates(from: MailServerInfo): Promise<TestCertificates> {
  const directory = path.dirname(from.caPath);
  const files = async (name: string): Promise<CertificateFiles> => {
    const certificate = path.join(directory, `${name}.pem`);
    const fingerprint = new X509Certificate(await readFile(certificate)).fingerprint256
      .replaceAll(':', '')
      .toLowerCase();
    return { certificate, key: path.join(directory, `${name}.key`), fingerprint };
  };
  return {
    caCertificate: from.caPath,
    main: await files('main'),
    selfSigned: await files('self-signed'),
    expired: await files('expired'),
    wrongHost: await files('wrong-host'),
  };
}

async function ensureMailUser(): Promise<{ name: string; uid: number; gid: number }> {
  if (process.getuid?.() !== 0) {
    throw new Error('The test mail servers need root (Postfix and Dovecot run as their own system users).');
  }
  const lookup = async (): Promise<string | null> => {
    try {
      return (await runCommand('getent', ['passwd', MAIL_USER_NAME])).stdout.trim();
    } catch {
      return null;
    }
  };
  let entry = await lookup();
  if (entry === null) {
    try {
      const options = ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent'];
      await runCommand('useradd', [...options, '--shell', '/usr/sbin/nologin', MAIL_USER_NAME]);
    } catch (error) {
      // Another test run may have created it at the same moment.
      if ((await lookup()) === null) throw error;
    }
    entry = await lookup();
  }
  const fields = (entry ?? '').split(':');
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`cannot read user ${MAIL_USER_NAME}: ${entry}`);
  return { name: MAIL_USER_NAME, uid, gid };
}

function layoutFor(dataDir: string, mailUser: ServerLayout['mailUser']): ServerLayout {
  return {
    dataDir,
    instanceName: path.basename(dataDir),
    dovecotBaseDir: path.join(dataDir, 'run'),
    dovecotStateDir: path.join(dataDir, 'state'),
    dovecotLog: path.join(dataDir, 'log', 'dovecot.log'),
    usersDir: path.join(dataDir, 'users'),
    postfixConfigDir: path.join(dataDir, 'postfix'),
    postfixQueueDir: path.join(dataDir, 'queue'),
    postfixDataDir: path.join(dataDir, 'postfix-data'),
    postfixLog: path.join(dataDir, 'log', 'postfix.log'),
    logDir: path.join(dataDir, 'log'),
    mailUser,
  };
}

async function choosePorts(): Promise<ServerPorts> {
  const taken = new Set<number>();
  const pick = async (): Promise<number> => {
    const port = await findFreePort(ALL_HOSTS, taken);
    taken.add(port);
    return port;
  };
  return {
    imap: await pick(),
    imaps: await pick(),
    pop3: await pick(),
    pop3s: await pick(),
    submission: await pick(),
    submissions: await pick(),
  };
}

async function writeOldFile(filePath: string, content: string): Promise<void> {
  await writeFile(filePath, content);
  const past = new Date(Date.now() - CONFIG_AGE_S * 1000);
  await utimes(filePath, past, past);
}

async function tail(filePath: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(filePath, 'utf8');
    return `--- ${filePath}\n${text.split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `--- ${filePath} (missing)`;
  }
}

async function startDovecot(configPath: string, layout: ServerLayout, detached: boolean): Promise<Daemon> {
  // -F: stay in the foreground as our child; configuration errors arrive in the start log.
  return startDaemon(DOVECOT_MASTER, ['-F', '-c', configPath], path.join(layout.logDir, 'dovecot-start.log'), {
    detached,
  });
}

async function startPostfix(layout: ServerLayout, detached: boolean): Promise<Daemon> {
  // `postfix check` creates the private queue's folders with the right owners, as `postfix start` would.
  // Postfix reports problems only to syslog unless stderr is a terminal, so run it under script(1).
  try {
    await runCommand('script', ['-qec', `/usr/sbin/postfix -c ${layout.postfixConfigDir} check`, '/dev/null']);
  } catch (error) {
    throw new Error(`Postfix configuration check failed: ${String(error)}`, { cause: error });
  }
  // The master without -w stays in the foreground (what `postfix start-fg` runs); -s keeps its stdout.
  return startDaemon(
    POSTFIX_MASTER,
    ['-s', '-c', layout.postfixConfigDir],
    path.join(layout.logDir, 'postfix-start.log'),
    {
      detached,
    },
  );
}

function endpointSet(host: string, ports: ServerPorts, fingerprint: string): TlsEndpointSet {
  return {
    host,
    imap: ports.imap,
    imaps: ports.imaps,
    pop3: ports.pop3,
    pop3s: ports.pop3s,
    submission: ports.submission,
    submissions: ports.submissions,
    fingerprint,
  };
}

function describeInfo(layout: ServerLayout, ports: ServerPorts, certificates: TestCertificates): MailServerInfo {
  return {
    host: LOOPBACK_HOSTS.main,
    ports: { ...ports },
    caPath: certificates.caCertificate,
    fingerprint: certificates.main.fingerprint,
    badTls: {
      selfSigned: endpointSet(LOOPBACK_HOSTS.selfSigned, ports, certificates.selfSigned.fingerprint),
      expired: endpointSet(LOOPBACK_HOSTS.expired, ports, certificates.expired.fingerprint),
      wrongHost: endpointSet(LOOPBACK_HOSTS.wrongHost, ports, certificates.wrongHost.fingerprint),
    },
    noTls: { host: LOOPBACK_HOSTS.noTls, imap: ports.imap, pop3: ports.pop3, submission: ports.submission },
    dovecotConfig: path.join(layout.dataDir, 'dovecot.conf'),
    dataDir: layout.dataDir,
    usersDir: layout.usersDir,
    mailHome: path.join(layout.dataDir, 'mail'),
    mailUser: { ...layout.mailUser },
  };
}

async function checkInstalled(): Promise<void> {
  const programs = [DOVECOT_MASTER, '/usr/bin/doveadm', '/usr/sbin/postfix', POSTFIX_MASTER, '/usr/bin/openssl'];
  const missing: string[] = [];
  for (const program of programs) {
    await access(program, constants.X_OK).catch(() => missing.push(program));
  }
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run e2e/install-test-deps.sh as root`);
  }
}

export async function startMailServer(options: StartOptions = {}): Promise<RunningMailServer> {
  const detached = options.detached ?? false;
  await checkInstalled();
  const mailUser = await ensureMailUser();
  const dataDir = await mkdtemp(DATA_DIR_PREFIX);
  // Dovecot's and Postfix's unprivileged processes must reach the sockets and files inside.
  await chmod(dataDir, 0o755);
  const layout = layoutFor(dataDir, mailUser);
  const daemons: Daemon[] = [];
  const describeLogs = async (): Promise<string> =>
    (
      await Promise.all(
        ['dovecot-start.log', 'dovecot.log', 'postfix-start.log', 'postfix.log'].map((name) =>
          tail(path.join(layout.logDir, name)),
        ),
      )
    ).join('\n');
  try {
    const [certificates, ports] = await Promise.all([
      options.oauth2
        ? existingCertificates(options.oauth2.certificatesFrom)
        : createTestCertificates(path.join(dataDir, 'tls'), {
            main: LOOPBACK_HOSTS.main,
            selfSigned: LOOPBACK_HOSTS.selfSigned,
            expired: LOOPBACK_HOSTS.expired,
            wrongHost: LOOPBACK_HOSTS.wrongHost,
          }),
      choosePorts(),
    ]);
    const info = describeInfo(layout, ports, certificates);
    await Promise.all(
      [layout.logDir, layout.postfixConfigDir, layout.postfixQueueDir, layout.postfixDataDir, info.mailHome].map(
        (directory) => mkdir(directory, { recursive: true }),
      ),
    );
    // Dovecot's auth process reads the users' files as the dovecot user; nobody else needs to.
    await mkdir(layout.usersDir, { mode: 0o750 });
    await chown(layout.usersDir, 0, await systemGroupId('dovecot'));
    await chown(layout.postfixDataDir, await systemUserId('postfix'), 0);
    let oauth2Variant: { settingsPath: string } | undefined;
    if (options.oauth2) {
      oauth2Variant = { settingsPath: path.join(dataDir, 'dovecot-oauth2.conf.ext') };
      await writeOldFile(oauth2Variant.settingsPath, renderDovecotOAuth2Settings(options.oauth2.introspectionUrl));
    }
    await writeOldFile(info.dovecotConfig, renderDovecotConfig(layout, ports, certificates, oauth2Variant));
    await writeOldFile(path.join(layout.postfixConfigDir, 'main.cf'), renderPostfixMainConfig(layout, certificates));
    await writeOldFile(path.join(layout.postfixConfigDir, 'master.cf'), renderPostfixMasterConfig(ports, certificates));

    // Dovecot first: Postfix's SASL and LMTP sockets are Dovecot's.
    daemons.push(await startDovecot(info.dovecotConfig, layout, detached));
    daemons.push(await startPostfix(layout, detached));
    const endpoints = [
      ...ALL_HOSTS.flatMap((host) => [
        { host, port: ports.imap },
        { host, port: ports.pop3 },
        { host, port: ports.submission },
      ]),
      ...TLS_HOSTS.flatMap((host) => [
        { host, port: ports.imaps },
        { host, port: ports.pop3s },
        { host, port: ports.submissions },
      ]),
    ];
    await waitForPorts(
      endpoints,
      LISTEN_TIMEOUT_MS,
      async () => {
        const ended = daemons.filter((daemon) => daemon.hasExited()).map((daemon) => daemon.pid);
        return `${ended.length > 0 ? `exited: ${ended.join(', ')}\n` : ''}${await describeLogs()}`;
      },
      () => daemons.some((daemon) => daemon.hasExited()),
    );
    const [dovecot, postfix] = daemons;
    const state: ServerState = {
      info,
      dovecotPid: await daemonPid(dovecot, DOVECOT_MASTER),
      postfixPid: await daemonPid(postfix, POSTFIX_MASTER),
    };
    await writeFile(path.join(dataDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    return { info, stop: () => stopAndRemove(daemons, dataDir) };
  } catch (error) {
    await stopAndRemove(daemons, dataDir, { keepData: true });
    throw new Error(`${String(error)}\n(state left in ${dataDir} for inspection)`, { cause: error });
  }
}

/** The daemon's own PID: `daemon.pid` may be the watching shell around it (see startDaemon). */
async function daemonPid(daemon: Daemon, executable: string): Promise<number> {
  for (const pid of [daemon.pid, ...(await descendantsOf([daemon.pid]))]) {
    if ((await executableOf(pid)) === executable) return pid;
  }
  throw new Error(`${executable} is not running`);
}

async function systemUserId(name: string): Promise<number> {
  const entry = (await runCommand('getent', ['passwd', name])).stdout.split(':');
  return Number(entry[2]);
}

async function systemGroupId(name: string): Promise<number> {
  const entry = (await runCommand('getent', ['group', name])).stdout.split(':');
  return Number(entry[2]);
}

async function stopAndRemove(
  daemons: ReadonlyArray<Pick<Daemon, 'pid' | 'hasExited'>>,
  dataDir: string,
  options: { keepData?: boolean } = {},
): Promise<void> {
  await stopProcessTrees(daemons.filter((daemon) => !daemon.hasExited()).map((daemon) => daemon.pid));
  // KEEP_MAIL_SERVER_DATA=1 keeps logs and mailboxes of a test run for a post-mortem.
  if (!options.keepData && process.env.KEEP_MAIL_SERVER_DATA !== '1') {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Stops a server started by another process (the command-line `start`, or a test run that died and
 * left it behind), from the state file in its data folder.
 */
export async function stopMailServerIn(dataDir: string): Promise<void> {
  const resolved = path.resolve(dataDir);
  if (!resolved.startsWith(DATA_DIR_PREFIX)) throw new Error(`not a test mail server folder: ${resolved}`);
  const state = JSON.parse(await readFile(path.join(resolved, STATE_FILE), 'utf8')) as ServerState;
  // A PID may have been reused since: only signal it if it is still the daemon we started.
  const daemons: Pick<Daemon, 'pid' | 'hasExited'>[] = [];
  for (const [pid, executable] of [
    [state.dovecotPid, DOVECOT_MASTER],
    [state.postfixPid, POSTFIX_MASTER],
  ] as const) {
    if ((await executableOf(pid)) === executable) daemons.push({ pid, hasExited: () => false });
  }
  await stopAndRemove(daemons, resolved);
}

async function main(argv: string[]): Promise<void> {
  const [command, argument] = argv;
  if (command === 'start') {
    const startedAt = performance.now();
    const server = await startMailServer({ detached: true });
    process.stderr.write(`started in ${Math.round(performance.now() - startedAt)} ms; stop with: `);
    process.stderr.write(`npx tsx e2e/mailserver/mail-server.ts stop ${server.info.dataDir}\n`);
    process.stdout.write(`${JSON.stringify(server.info, null, 2)}\n`);
  } else if (command === 'stop' && argument !== undefined) {
    await stopMailServerIn(argument);
  } else {
    process.stderr.write('usage: mail-server.ts start | stop DATA_DIR\n');
    process.exitCode = 2;
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
