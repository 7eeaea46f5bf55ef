/**
 * The main-process end of the preload's transport: one IPC channel, JSON text both ways (the
 * same bytes the WebSocket bridge carries), and only from our own page in our own window.
 */
import type { IpcMain, IpcMainEvent, WebContents } from 'electron';
import { isWireMessage, type Transport, type WireMessage } from '../../shared/rpc';
import { isAppUrl, RPC_CHANNEL } from './app-origin';

export interface SenderFrame {
  url: string;
  parent: unknown;
}

/**
 * Only the top frame of our page may call the service: not a sub-frame (the mail reader), and not
 * a page that somehow got into the window from another origin.
 */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  return frame !== null && frame !== undefined && frame.parent === null && isAppUrl(frame.url);
}

export function parseIpcMessage(data: unknown): WireMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const message = JSON.parse(data) as unknown;
    return isWireMessage(message) ? message : null;
  } catch {
    return null;
  }
}

export function ipcTransport(ipcMain: IpcMain, webContents: WebContents): Transport {
  return {
    send(message) {
      if (!webContents.isDestroyed()) webContents.send(RPC_CHANNEL, JSON.stringify(message));
    },
    onMessage(listener) {
      const onData = (event: IpcMainEvent, data: unknown): void => {
        if (event.sender !== webContents || !isTrustedSender(event.senderFrame)) return;
        const message = parseIpcMessage(data);
        if (message !== null) listener(message);
      };
      ipcMain.on(RPC_CHANNEL, onData);
      return () => {
        ipcMain.off(RPC_CHANNEL, onData);
      };
    },
  };
}
