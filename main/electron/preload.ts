/**
 * The preload exposes the RPC transport and nothing more: `send(message)` and
 * `onMessage(listener)` over one IPC channel. No ipcRenderer, no Node, no other API reaches the
 * page; what arrives from main is parsed and checked before the page sees it.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { isWireMessage, type Transport, type WireMessage } from '../../shared/rpc';
import { RPC_CHANNEL } from './app-origin';

const transport: Transport = {
  send(message: WireMessage) {
    ipcRenderer.send(RPC_CHANNEL, JSON.stringify(message));
  },
  onMessage(listener) {
    const onData = (_event: IpcRendererEvent, data: unknown): void => {
      if (typeof data !== 'string') return;
      let message: unknown;
      try {
        message = JSON.parse(data);
      } catch {
        return;
      }
      if (isWireMessage(message)) listener(message);
    };
    ipcRenderer.on(RPC_CHANNEL, onData);
    return () => {
      ipcRenderer.removeListener(RPC_CHANNEL, onData);
    };
  },
};

contextBridge.exposeInMainWorld('whereabouts', transport);
