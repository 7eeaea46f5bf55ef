/**
 * Short messages in the corner: what just happened, or what went wrong and what to do. Errors stay
 * until dismissed; everything else fades after a while. Announced politely to screen readers
 * (errors assertively).
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { describeError } from '../api/error-text';
import { Icon } from './icons';

const INFO_VISIBLE_MS = 6_000;
const MAXIMUM_TOASTS = 4;

export interface ToastInput {
  kind?: 'info' | 'success' | 'error';
  title: string;
  body?: string | null;
  action?: { label: string; run(): void } | null;
}

interface Toast extends ToastInput {
  id: number;
}

interface ToastApi {
  show(toast: ToastInput): void;
  /** An error in words, with what the user was doing ("Could not delete the message"). */
  showError(doing: string, error: unknown): void;
}

const ToastContext = createContext<ToastApi | null>(null);

let nextToastId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((toast) => toast.id !== id)), []);
  const show = useCallback((toast: ToastInput) => {
    const id = nextToastId++;
    setToasts((list) => [...list, { ...toast, id }].slice(-MAXIMUM_TOASTS));
  }, []);
  const api = useMemo<ToastApi>(
    () => ({
      show,
      showError(doing, error) {
        const text = describeError(error);
        show({ kind: 'error', title: doing, body: [text.title, text.advice].filter(Boolean).join(' ') });
      },
    }),
    [show],
  );
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts" aria-label="Notifications">
        <div role="status" aria-live="polite" className="toasts__region">
          {toasts
            .filter((toast) => toast.kind !== 'error')
            .map((toast) => (
              <ToastView key={toast.id} toast={toast} onDismiss={dismiss} />
            ))}
        </div>
        {/* Assertive, but not role="alert": an empty alert region would read as an alert to tools. */}
        <div aria-live="assertive" className="toasts__region">
          {toasts
            .filter((toast) => toast.kind === 'error')
            .map((toast) => (
              <ToastView key={toast.id} toast={toast} onDismiss={dismiss} />
            ))}
        </div>
      </div>
    </ToastContext.Provider>
  );
}

function ToastView({ toast, onDismiss }: { toast: Toast; onDismiss(id: number): void }) {
  useEffect(() => {
    if (toast.kind === 'error') return;
    const timer = setTimeout(() => onDismiss(toast.id), INFO_VISIBLE_MS);
    return () => clearTimeout(timer);
  }, [toast, onDismiss]);
  const kind = toast.kind ?? 'info';
  return (
    <div className={`toast toast--${kind}`} data-kind={kind}>
      <span className="toast__icon">
        <Icon name={kind === 'error' ? 'warning' : kind === 'success' ? 'check' : 'mailUnread'} />
      </span>
      <div className="toast__text">
        <p className="toast__title">{toast.title}</p>
        {toast.body && <p className="toast__body">{toast.body}</p>}
      </div>
      {toast.action && (
        <button
          type="button"
          className="button button--small"
          onClick={() => {
            toast.action?.run();
            onDismiss(toast.id);
          }}
        >
          {toast.action.label}
        </button>
      )}
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => onDismiss(toast.id)}>
        <Icon name="close" size={16} />
      </button>
    </div>
  );
}

export function useToasts(): ToastApi {
  const api = useContext(ToastContext);
  if (api === null) throw new Error('useToasts must be used inside <ToastProvider>.');
  return api;
}
