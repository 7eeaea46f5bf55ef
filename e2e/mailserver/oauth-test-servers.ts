/**
 * The servers of the OAuth tests: the test authorization server (oauth2-authorization-server.ts) and a
 * second, small Dovecot + Postfix whose users log in only with its bearer tokens (mail-server.ts with
 * `oauth2`). The main test servers stay as they are; a test file starts these in beforeAll.
 *
 * Users are made with `createTestUser(servers.mail)` (their passwords are never accepted here) and
 * registered with `servers.authorization.addUser(user.email, user.username)`.
 */
import { startMailServer } from './mail-server.js';
import {
  startAuthorizationServer,
  type AuthorizationServerOptions,
  type TestAuthorizationServer,
} from './oauth2-authorization-server.js';
import type { MailServerInfo } from './types.js';

export interface OAuthTestServers {
  authorization: TestAuthorizationServer;
  /** Shaped like the main servers' info, so test-users.ts works with it unchanged. */
  mail: MailServerInfo;
  stop(): Promise<void>;
}

export async function startOAuthTestServers(
  mainServers: MailServerInfo,
  options: AuthorizationServerOptions,
): Promise<OAuthTestServers> {
  const authorization = await startAuthorizationServer(options);
  try {
    const mail = await startMailServer({
      oauth2: { introspectionUrl: authorization.introspectionUrl, certificatesFrom: mainServers },
    });
    return {
      authorization,
      mail: mail.info,
      async stop() {
        await mail.stop();
        await authorization.close();
      },
    };
  } catch (error) {
    await authorization.close();
    throw error;
  }
}
