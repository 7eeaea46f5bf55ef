/**
 * A modal dialog on the native <dialog> element: the browser traps focus, makes the rest of the
 * page inert, and closes on Escape; we only name it and give it a close button.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { Icon } from './icons';

export function Modal({
  title,
  onClose,
  children,
  footer,
  size = 'medium',
  describedBy,
}: {
  title: string;
  onClose(): void;
  children: ReactNode;
  footer?: ReactNode;
  size?: 'small' | 'medium' | 'large';
  describedBy?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dialog-title-${Math.random().toString(36).slice(2)}`).current;
  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (!element.open) element.showModal();
    return () => element.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      className={`modal modal--${size}`}
      aria-labelledby={titleId}
      aria-describedby={describedBy}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <header className="modal__header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div className="modal__body">{children}</div>
      {footer !== undefined && <footer className="modal__footer">{footer}</footer>}
    </dialog>
  );
}
