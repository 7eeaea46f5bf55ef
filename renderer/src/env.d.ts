/** What the page's environment may provide: the Electron preload's transport. */
import type { Transport } from '../../shared/rpc';

declare global {
  interface Window {
    /** Present only in Electron, put there by the preload (main/electron/preload.ts). */
    readonly whereabouts?: Transport;
  }
}
