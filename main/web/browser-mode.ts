/**
 * The browser-mode app: the mail service plus the loopback host serving it, started and stopped
 * together. Used in-process by the launcher and by the standalone host entry point.
 */
import { createMailService } from '../service/create-service';
import { startWebHost, type WebHost } from './web-host';

export interface BrowserModeOptions {
  profileDir: string;
  rendererDir: string;
  port: number;
}

export async function startBrowserMode(options: BrowserModeOptions): Promise<WebHost> {
  const service = await createMailService({ profileDir: options.profileDir, shell: 'browser', watch: true });
  let host: WebHost;
  try {
    host = await startWebHost({ service, rendererDir: options.rendererDir, port: options.port });
  } catch (error) {
    await service.close();
    throw error;
  }
  return {
    ...host,
    async close() {
      await host.close();
      await service.close();
    },
  };
}
