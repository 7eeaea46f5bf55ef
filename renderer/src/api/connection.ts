/**
 * The state of the link between the page and the Whereabouts service, for the banner that tells
 * the user when the service cannot be reached.
 */
export type ConnectionStatus =
  | { state: 'connecting' }
  | { state: 'connected' }
  /** Lost or never made; `retryAt` is when the next attempt starts (epoch milliseconds). */
  | { state: 'unreachable'; retryAt: number; attempts: number }
  /** The page has no session key, so it cannot connect at all. */
  | { state: 'no-token' };

export interface ConnectionMonitor {
  status(): ConnectionStatus;
  /** Returns the unsubscribe function. */
  onStatusChange(listener: (status: ConnectionStatus) => void): () => void;
  /** Skips the wait before the next attempt. */
  retryNow(): void;
}

/** Electron's IPC link is up for as long as the window exists. */
export const ALWAYS_CONNECTED: ConnectionMonitor = {
  status: () => ({ state: 'connected' }),
  onStatusChange: () => () => undefined,
  retryNow: () => undefined,
};
