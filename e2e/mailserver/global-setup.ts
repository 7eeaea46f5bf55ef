/**
 * Vitest globalSetup: one private Dovecot + Postfix for the whole run, shared by every test file
 * through `inject('mailServer')`. Each test creates its own users (test-users.ts), so files never
 * see each other's mail.
 */
import type { TestProject } from 'vitest/node';
import { startMailServer } from './mail-server.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = performance.now();
  const server = await startMailServer();
  project.provide('mailServer', server.info);
  // The app has no test-only trust switch: the test CA is trusted the way a system CA would be.
  // Node reads NODE_EXTRA_CA_CERTS once at process start, so this reaches the forked test workers
  // (started after this setup), not this process.
  process.env.NODE_EXTRA_CA_CERTS = server.info.caPath;
  if (process.env.MAIL_SERVER_VERBOSE === '1') {
    process.stderr.write(`test mail servers up in ${Math.round(performance.now() - startedAt)} ms\n`);
  }
  return async () => {
    const stoppingAt = performance.now();
    await server.stop();
    if (process.env.MAIL_SERVER_VERBOSE === '1') {
      process.stderr.write(`test mail servers stopped in ${Math.round(performance.now() - stoppingAt)} ms\n`);
    }
  };
}
