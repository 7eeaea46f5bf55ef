/**
 * Tells the user plainly when the Whereabouts service cannot be reached, and when it will try
 * again. Shown only after a connection attempt failed, so a normal start shows nothing.
 */
import { useEffect, useState } from 'react';
import type { ConnectionStatus } from '../api/connection';

const COUNTDOWN_TICK_MS = 1_000;

function useSecondsUntil(epochMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (epochMs === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), COUNTDOWN_TICK_MS);
    return () => clearInterval(timer);
  }, [epochMs]);
  return epochMs === null ? 0 : Math.max(0, Math.ceil((epochMs - now) / 1_000));
}

export function ConnectionBanner({ status, onRetry }: { status: ConnectionStatus; onRetry(): void }) {
  const seconds = useSecondsUntil(status.state === 'unreachable' ? status.retryAt : null);
  if (status.state === 'no-token') {
    return (
      <div className="banner banner--error">
        <p role="alert">
          This page was opened without its session key, so it cannot reach your mail. Start Whereabouts with{' '}
          <code>npm start</code> and use the window or the address it gives you.
        </p>
      </div>
    );
  }
  if (status.state !== 'unreachable') return null;
  return (
    <div className="banner banner--error">
      <p role="alert">Whereabouts can’t reach its service. Your mail is safe; nothing is lost while it is away.</p>
      <span className="banner__detail">{seconds > 0 ? `Trying again in ${seconds} s…` : 'Trying again…'}</span>
      <button type="button" className="button button--small" onClick={onRetry}>
        Try now
      </button>
    </div>
  );
}
