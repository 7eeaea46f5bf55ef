/**
 * Subscribes a component to one service event for as long as it is mounted. The listener may
 * change on every render; the subscription does not.
 */
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { MailEvent, MailEvents } from '../../../shared/api';
import { useMailClient } from './service-context';

export function useMailEvent<E extends MailEvent>(name: E, listener: (payload: MailEvents[E]) => void): void {
  const client = useMailClient();
  const latest = useRef(listener);
  useLayoutEffect(() => {
    latest.current = listener;
  });
  useEffect(() => client.on(name, (payload) => latest.current(payload)), [client, name]);
}
