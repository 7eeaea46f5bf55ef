/**
 * One call to the service, keyed by what it asks for: re-run when the key changes or on reload()
 * (which events trigger), with the previous answer kept on screen until the new one arrives. The
 * only state the UI keeps is this cache of answers; it never edits them by hand.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { toErrorPayload, type ErrorPayload } from '../../../shared/errors';

export interface QueryState<T> {
  data: T | null;
  error: ErrorPayload | null;
  /** True while a request for the current key is on its way. */
  loading: boolean;
  reload(): void;
}

/** `key` null means "nothing to ask yet". */
export function useQuery<T>(key: string | null, load: () => Promise<T>): QueryState<T> {
  const [state, setState] = useState<{ key: string | null; data: T | null; error: ErrorPayload | null }>({
    key: null,
    data: null,
    error: null,
  });
  const [loading, setLoading] = useState(key !== null);
  const [version, setVersion] = useState(0);
  const latestLoad = useRef(load);
  useLayoutEffect(() => {
    latestLoad.current = load;
  });

  useEffect(() => {
    if (key === null) {
      setState({ key: null, data: null, error: null });
      setLoading(false);
      return;
    }
    let current = true;
    setLoading(true);
    const run = async (): Promise<void> => {
      try {
        const data = await latestLoad.current();
        if (current) setState({ key, data, error: null });
      } catch (error) {
        if (current)
          setState((previous) => ({
            key,
            data: previous.key === key ? previous.data : null,
            error: toErrorPayload(error),
          }));
      } finally {
        if (current) setLoading(false);
      }
    };
    void run();
    return () => {
      current = false;
    };
  }, [key, version]);

  const reload = useCallback(() => setVersion((value) => value + 1), []);
  const fresh = state.key === key;
  return { data: fresh ? state.data : null, error: fresh ? state.error : null, loading, reload };
}
