/**
 * The configuration text of the private Dovecot and Postfix instances. Pure functions of the layout and
 * ports so the whole set-up can be read in one place; mail-server.ts writes them and starts the daemons.
 * Facts these settings rest on (verified on Debian 12) are in /work/shared/TESTSERVERS.md.
 */
import type { CertificateFiles, TestCertificates } from './certificates.js';

/**
 * One loopback address per behaviour: Dovecot and Postfix pick the certificate by the local address.
 * The main one is not 127.0.0.1 on purpose: Dovecot treats a connection whose client address equals
 * the server address as secure (plaintext login allowed, no LOGINDISABLED), and the kernel gives every
 * loopback connection the source 127.0.0.1; on 127.0.0.6 the client looks remote, as in real use.
 */
export const LOOPBACK_HOSTS = {
  main: '127.0.0.6',
  selfSigned: '127.0.0.2',
  expired: '127.0.0.3',
  wrongHost: '127.0.0.4',
  noTls: '127.0.0.5',
} as const;

export type LoopbackRole = keyof typeof LOOPBACK_HOSTS;

export const TLS_HOSTS: readonly string[] = [
  LOOPBACK_HOSTS.main,
  LOOPBACK_HOSTS.selfSigned,
  LOOPBACK_HOSTS.expired,
  LOOPBACK_HOSTS.wrongHost,
];
export const ALL_HOSTS: readonly string[] = [...TLS_HOSTS, LOOPBACK_HOSTS.noTls];

/** The only mail domain the test Postfix delivers to (over LMTP into Dovecot). */
export const MAIL_DOMAIN = 'localhost';
/** Folders every account has (RFC 6154 SPECIAL-USE), created and subscribed at first login. */
export const SPECIAL_USE_FOLDERS = ['Drafts', 'Sent', 'Junk', 'Trash'] as const;
/** Quota of a user created without an explicit one: large enough never to matter by accident. */
export const DEFAULT_QUOTA = '1G';
/** Parallel test workers each open several connections per user and address. */
const MAX_CONNECTIONS_PER_USER_AND_ADDRESS = 200;

export interface ServerPorts {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
  submission: number;
  submissions: number;
}

export interface ServerLayout {
  /** Root of everything; short, because Dovecot's unix sockets live in it (sun_path is ~108 bytes). */
  dataDir: string;
  instanceName: string;
  dovecotBaseDir: string;
  dovecotStateDir: string;
  dovecotLog: string;
  /** One passwd-file per user (see renderDovecotConfig for why). */
  usersDir: string;
  postfixConfigDir: string;
  postfixQueueDir: string;
  postfixDataDir: string;
  postfixLog: string;
  logDir: string;
  /** The system user owning all mail. */
  mailUser: { name: string; uid: number; gid: number };
}

export function lmtpSocketPath(layout: ServerLayout): string {
  return `${layout.dovecotBaseDir}/lmtp`;
}

export function authSocketPath(layout: ServerLayout): string {
  return `${layout.dovecotBaseDir}/auth-smtp`;
}

function certificateFor(role: Exclude<LoopbackRole, 'noTls'>, certificates: TestCertificates): CertificateFiles {
  return certificates[role];
}

/**
 * What sets an OAuth instance (main/oauth's tests) apart from the main one: its users log in only with
 * OAuth 2.0 bearer tokens, which Dovecot checks at the test authorization server (RFC 7662 introspection).
 */
export interface DovecotOAuth2Variant {
  /** The oauth2 passdb's settings file, rendered by renderDovecotOAuth2Settings. */
  settingsPath: string;
}

/**
 * Dovecot 2.3's oauth2 passdb settings (doc.dovecot.org, "Open Authentication v2.0 database"):
 * `introspection_mode = post` sends "token=…" to the introspection endpoint (RFC 7662 §2.1, which
 * also wants the resource server to authenticate: the credentials go in the URL's user-info part);
 * the login is accepted when the answer's `active` is true and its `username` is the user logging in.
 */
export function renderDovecotOAuth2Settings(introspectionUrl: string): string {
  return `# Bearer tokens are checked at the test authorization server (e2e/mailserver/oauth2-authorization-server.ts).
introspection_mode = post
introspection_url = ${introspectionUrl}
# Without a tokeninfo_url every token is introspected; said explicitly because active_attribute needs it.
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
`;
}

function renderPassdb(layout: ServerLayout, oauth2: DovecotOAuth2Variant | undefined): string {
  if (oauth2) {
    // Only tokens: a password is no way in here (so a test cannot pass by accident with one).
    return `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${oauth2.settingsPath}
}`;
  }
  return `passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n ${layout.usersDir}/%n
}`;
}

export function renderDovecotConfig(
  layout: ServerLayout,
  ports: ServerPorts,
  certificates: TestCertificates,
  oauth2?: DovecotOAuth2Variant,
): string {
  const specialUse: Record<(typeof SPECIAL_USE_FOLDERS)[number], string> = {
    Drafts: '\\Drafts',
    Sent: '\\Sent',
    Junk: '\\Junk',
    Trash: '\\Trash',
  };
  const mailboxes = SPECIAL_USE_FOLDERS.map(
    (folder) => `  mailbox ${folder} {\n    special_use = ${specialUse[folder]}\n    auto = subscribe\n  }`,
  );
  const badCertificateBlocks = (['selfSigned', 'expired', 'wrongHost'] as const).map((role) => {
    const files = certificateFor(role, certificates);
    return `local ${LOOPBACK_HOSTS[role]} {\n  ssl_cert = <${files.certificate}\n  ssl_key = <${files.key}\n}`;
  });
  const tlsAddresses = TLS_HOSTS.join(', ');
  return `# Private test instance of Whereabouts; never the system Dovecot (see e2e/mailserver/README.md).
instance_name = ${layout.instanceName}
base_dir = ${layout.dovecotBaseDir}
state_dir = ${layout.dovecotStateDir}
log_path = ${layout.dovecotLog}
protocols = imap pop3 lmtp
listen = ${ALL_HOSTS.join(', ')}
shutdown_clients = yes

ssl = yes
ssl_cert = <${certificates.main.certificate}
ssl_key = <${certificates.main.key}
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2

# RFC 3501 section 6.2.3 / RFC 2595: no LOGIN or AUTH PLAIN before STARTTLS on the main listeners.
disable_plaintext_auth = yes
auth_mechanisms = plain login${oauth2 ? ' xoauth2 oauthbearer' : ''}
auth_verbose = yes
# Tests try wrong passwords on purpose; Dovecot would answer after 2 s and penalise the next login.
auth_failure_delay = 0
mail_max_userip_connections = ${MAX_CONNECTIONS_PER_USER_AND_ADDRESS}

first_valid_uid = ${layout.mailUser.uid}
last_valid_uid = ${layout.mailUser.uid}
first_valid_gid = ${layout.mailUser.gid}
last_valid_gid = ${layout.mailUser.gid}
mail_location = maildir:~/Maildir
# Store CRLF as sent (LMTP deliveries too), so the files are byte for byte what IMAP and POP3 serve.
mail_save_crlf = yes

# username_format=%n: "alice" and "alice@localhost" (how LMTP and SASL name her) are the same user.
# One file per user: Dovecot re-reads a changed passwd-file at most once a second, so a user appended
# to a shared file right after another lookup would be unknown for up to a second; a new file is read at once.
${renderPassdb(layout, oauth2)}
userdb {
  driver = passwd-file
  args = username_format=%n ${layout.usersDir}/%n
}

namespace inbox {
  inbox = yes
  separator = /
${mailboxes.join('\n')}
}

mail_plugins = $mail_plugins quota
# RFC 1939 section 4: one POP3 session at a time per maildrop; a second one gets [IN-USE] (RFC 2449
# section 8.1.1), after Dovecot has waited 10 s for the lock (fixed in its code). Dovecot takes a lock
# file of its own for this, so IMAP sessions, deliveries and doveadm go on meanwhile.
protocol pop3 {
  pop3_lock_session = yes
}
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
plugin {
  quota = count:User quota
  quota_vsizes = yes
  # A user's own limit comes from the users file (userdb_quota_rule), this is the default.
  quota_rule = *:storage=${DEFAULT_QUOTA}
}

service imap-login {
  inet_listener imap {
    port = ${ports.imap}
  }
  inet_listener imaps {
    address = ${tlsAddresses}
    port = ${ports.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${ports.pop3}
  }
  inet_listener pop3s {
    address = ${tlsAddresses}
    port = ${ports.pop3s}
    ssl = yes
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  # Postfix authenticates submission clients against exactly these users.
  unix_listener auth-smtp {
    mode = 0666
  }
}
service anvil {
  # Without this a good login after a failed one from the same address waits up to 15 s.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

${badCertificateBlocks.join('\n')}
# No TLS at all here, so a client that wrongly sent a password in clear would get through: ours must refuse first.
local ${LOOPBACK_HOSTS.noTls} {
  ssl = no
  disable_plaintext_auth = no
}
`;
}

export function renderPostfixMainConfig(layout: ServerLayout, certificates: TestCertificates): string {
  return `# Private test instance of Whereabouts; never the system Postfix (see e2e/mailserver/README.md).
compatibility_level = 3.6
queue_directory = ${layout.postfixQueueDir}
data_directory = ${layout.postfixDataDir}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = ${layout.postfixLog}
maillog_file_prefixes = /var, /dev/stdout, ${layout.logDir}
syslog_name = ${layout.instanceName}

myhostname = localhost
mydomain = localhost
myorigin = localhost
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no

# Mail for the test domain goes to Dovecot; anything else is accepted and thrown away, never relayed.
virtual_mailbox_domains = ${MAIL_DOMAIN}
virtual_transport = lmtp:unix:${lmtpSocketPath(layout)}
relay_domains =
default_transport = discard:not relayed by the test server
relay_transport = discard:not relayed by the test server
local_transport = error:local delivery disabled
smtpd_reject_unlisted_recipient = no
# Dovecot 2.3's LMTP has no SMTPUTF8: such mail would be accepted and then bounce.
smtputf8_enable = no

smtpd_sasl_type = dovecot
smtpd_sasl_path = ${authSocketPath(layout)}
smtpd_sasl_auth_enable = yes
smtpd_sasl_authenticated_header = no
smtpd_tls_auth_only = yes
smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = ${certificates.main.certificate}
smtpd_tls_key_file = ${certificates.main.key}
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_session_cache_database =
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject

# Tests send wrong passwords and bad commands on purpose; do not slow them down.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_rate_limit = 0
minimal_backoff_time = 5s
maximal_backoff_time = 10s
queue_run_delay = 5s
`;
}

function submissionService(
  host: string,
  port: number,
  certificate: CertificateFiles | null,
  options: { wrapper: boolean },
): string {
  const name = `${host}:${port}`;
  const lines = [
    `${name} inet n - n - - smtpd`,
    `  -o syslog_name=postfix/${options.wrapper ? 'submissions' : 'submission'}`,
  ];
  if (certificate === null) {
    // RFC 3207 section 4: a server that does not offer STARTTLS; AUTH allowed in clear so a careless
    // client would really leak the password here.
    lines.push('  -o smtpd_tls_security_level=none', '  -o smtpd_tls_auth_only=no');
  } else {
    lines.push(`  -o smtpd_tls_cert_file=${certificate.certificate}`, `  -o smtpd_tls_key_file=${certificate.key}`);
    // RFC 8314 section 3: implicit TLS from the first byte.
    if (options.wrapper) lines.push('  -o smtpd_tls_wrappermode=yes');
  }
  return lines.join('\n');
}

export function renderPostfixMasterConfig(ports: ServerPorts, certificates: TestCertificates): string {
  const roles = ['main', 'selfSigned', 'expired', 'wrongHost'] as const;
  const listeners = roles.flatMap((role) => [
    submissionService(LOOPBACK_HOSTS[role], ports.submission, certificateFor(role, certificates), { wrapper: false }),
    submissionService(LOOPBACK_HOSTS[role], ports.submissions, certificateFor(role, certificates), { wrapper: true }),
  ]);
  listeners.push(submissionService(LOOPBACK_HOSTS.noTls, ports.submission, null, { wrapper: false }));
  // The usual internal services, none chrooted (the private queue holds no copy of /etc).
  const internal = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd`;
  return `${listeners.join('\n')}\n${internal}\n`;
}
