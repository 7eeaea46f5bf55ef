/**
 * The RPC transport over one server-side WebSocket: JSON text frames, one WireMessage each.
 */
import WebSocket from 'ws';
import { isWireMessage, type Transport, type WireMessage } from '../../shared/rpc';

/** RFC 6455 section 7.4.1: 1007 means the payload was not what the protocol expects. */
export const CLOSE_INVALID_PAYLOAD = 1007;

export function websocketTransport(socket: WebSocket): Transport {
  return {
    send(message: WireMessage) {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    onMessage(listener) {
      const onData = (data: WebSocket.RawData, isBinary: boolean): void => {
        const message = isBinary ? undefined : parseMessage(data.toString());
        // Only a hostile or broken client sends anything else; the renderer never does.
        if (!isWireMessage(message)) {
          socket.close(CLOSE_INVALID_PAYLOAD, 'Expected one JSON message per frame.');
          return;
        }
        listener(message);
      };
      socket.on('message', onData);
      return () => socket.off('message', onData);
    },
  };
}

function parseMessage(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
