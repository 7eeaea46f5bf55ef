/**
 * Certificates for the test mail servers, made fresh with openssl at every start: a test CA, the main
 * server certificate it signs, and three deliberately bad ones so the client's refusal of each can be
 * tested against a real TLS stack (RFC 8314 section 4.3 and RFC 6125: a client must verify the chain,
 * the validity period and the host name, after STARTTLS exactly as with implicit TLS).
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Long enough for any test run, short enough that a leaked test CA is worthless soon. */
const VALID_DAYS = 30;
/** A period safely in the past, for the expired certificate (`openssl ca` takes YYYYMMDDHHMMSSZ). */
const EXPIRED_NOT_BEFORE = '20200101000000Z';
const EXPIRED_NOT_AFTER = '20210101000000Z';

export interface CertificateFiles {
  certificate: string;
  key: string;
  /** SHA-256 of the DER certificate, 64 lower-case hex digits. */
  fingerprint: string;
}

export interface TestCertificates {
  caCertificate: string;
  main: CertificateFiles;
  selfSigned: CertificateFiles;
  expired: CertificateFiles;
  wrongHost: CertificateFiles;
}

export interface CertificateHosts {
  main: string;
  selfSigned: string;
  expired: string;
  wrongHost: string;
}

/** The name the wrong-host certificate is issued for: never an address the tests connect to. */
export const WRONG_HOST_NAME = 'mail.example.org';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

/** P-256 keys: generated in milliseconds (RSA takes far longer) and accepted by Dovecot, Postfix and Node. */
async function makeKey(directory: string, name: string): Promise<string> {
  const keyPath = path.join(directory, `${name}.key`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath], directory);
  return keyPath;
}

async function fingerprintOf(certificatePath: string): Promise<string> {
  const certificate = new X509Certificate(await readFile(certificatePath));
  return certificate.fingerprint256.replaceAll(':', '').toLowerCase();
}

function serverExtensions(subjectAltNames: string[]): string {
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${subjectAltNames.join(', ')}`,
    '',
  ].join('\n');
}

/** A minimal `openssl ca` set-up: the only openssl 3.0 command that can set an arbitrary validity period. */
async function writeCaConfig(directory: string): Promise<string> {
  const databaseDirectory = path.join(directory, 'ca-database');
  await mkdir(databaseDirectory, { recursive: true });
  await writeFile(path.join(databaseDirectory, 'index.txt'), '');
  await writeFile(path.join(databaseDirectory, 'serial'), '1000\n');
  const configPath = path.join(directory, 'ca.cnf');
  await writeFile(
    configPath,
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `dir = ${databaseDirectory}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      `certificate = ${path.join(directory, 'ca.pem')}`,
      `private_key = ${path.join(directory, 'ca.key')}`,
      'default_md = sha256',
      'policy = any_policy',
      'unique_subject = no',
      'copy_extensions = none',
      '[ any_policy ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  return configPath;
}

interface SignedRequest {
  name: string;
  commonName: string;
  subjectAltNames: string[];
  /** Absent: valid from now for VALID_DAYS. */
  period?: { notBefore: string; notAfter: string };
}

async function makeCaSigned(directory: string, caConfig: string, request: SignedRequest): Promise<CertificateFiles> {
  const key = await makeKey(directory, request.name);
  const requestPath = path.join(directory, `${request.name}.csr`);
  const extensionsPath = path.join(directory, `${request.name}.ext`);
  const certificate = path.join(directory, `${request.name}.pem`);
  await writeFile(extensionsPath, serverExtensions(request.subjectAltNames));
  await openssl(['req', '-new', '-key', key, '-subj', `/CN=${request.commonName}`, '-out', requestPath], directory);
  const period = request.period
    ? ['-startdate', request.period.notBefore, '-enddate', request.period.notAfter]
    : ['-days', String(VALID_DAYS)];
  await openssl(
    ['ca', '-batch', '-notext', '-config', caConfig, '-extfile', extensionsPath, ...period, '-in', requestPath].concat([
      '-out',
      certificate,
    ]),
    directory,
  );
  return { certificate, key, fingerprint: await fingerprintOf(certificate) };
}

export async function createTestCertificates(directory: string, hosts: CertificateHosts): Promise<TestCertificates> {
  await mkdir(directory, { recursive: true });
  const caKey = await makeKey(directory, 'ca');
  const caCertificate = path.join(directory, 'ca.pem');
  await openssl(
    ['req', '-x509', '-new', '-key', caKey, '-days', String(VALID_DAYS), '-subj', '/CN=Whereabouts Test CA']
      .concat(['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
      .concat(['-out', caCertificate]),
    directory,
  );
  const caConfig = await writeCaConfig(directory);

  // `openssl ca` keeps a serial-number database, so the CA-signed ones are made one after the other.
  const main = await makeCaSigned(directory, caConfig, {
    name: 'main',
    commonName: 'localhost',
    subjectAltNames: ['DNS:localhost', 'IP:127.0.0.1', `IP:${hosts.main}`],
  });
  const expired = await makeCaSigned(directory, caConfig, {
    name: 'expired',
    commonName: 'localhost',
    subjectAltNames: ['DNS:localhost', `IP:${hosts.main}`, `IP:${hosts.expired}`],
    period: { notBefore: EXPIRED_NOT_BEFORE, notAfter: EXPIRED_NOT_AFTER },
  });
  const wrongHost = await makeCaSigned(directory, caConfig, {
    name: 'wrong-host',
    commonName: WRONG_HOST_NAME,
    subjectAltNames: [`DNS:${WRONG_HOST_NAME}`],
  });

  // Self-signed, but otherwise right (names, dates), so the only fault is the missing chain of trust.
  const selfSignedKey = await makeKey(directory, 'self-signed');
  const selfSignedCertificate = path.join(directory, 'self-signed.pem');
  await openssl(
    ['req', '-x509', '-new', '-key', selfSignedKey, '-days', String(VALID_DAYS), '-subj', '/CN=localhost']
      .concat(['-addext', `subjectAltName=DNS:localhost,IP:${hosts.main},IP:${hosts.selfSigned}`])
      .concat(['-out', selfSignedCertificate]),
    directory,
  );
  const selfSigned = {
    certificate: selfSignedCertificate,
    key: selfSignedKey,
    fingerprint: await fingerprintOf(selfSignedCertificate),
  };
  return { caCertificate, main, selfSigned, expired, wrongHost };
}
