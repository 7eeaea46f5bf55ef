/**
 * The keyboard shortcuts, in one table that both the key handler and the help overlay (?) read,
 * so the overlay can never list a key that does nothing.
 */
import { useEffect, useLayoutEffect, useRef } from 'react';

export type Command =
  | 'next'
  | 'previous'
  | 'open'
  | 'reply'
  | 'reply-all'
  | 'forward'
  | 'compose'
  | 'delete'
  | 'archive'
  | 'search'
  | 'help';

export interface Shortcut {
  keys: string[];
  command: Command;
  description: string;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: ['j'], command: 'next', description: 'Next message' },
  { keys: ['k'], command: 'previous', description: 'Previous message' },
  { keys: ['o', 'Enter'], command: 'open', description: 'Open the selected message' },
  { keys: ['r'], command: 'reply', description: 'Reply' },
  { keys: ['a'], command: 'reply-all', description: 'Reply to all' },
  { keys: ['f'], command: 'forward', description: 'Forward' },
  { keys: ['c'], command: 'compose', description: 'Write a new message' },
  { keys: ['#'], command: 'delete', description: 'Delete the selected messages' },
  { keys: ['e'], command: 'archive', description: 'Archive the selected messages' },
  { keys: ['/'], command: 'search', description: 'Search' },
  { keys: ['?'], command: 'help', description: 'Show these shortcuts' },
];

/** Keys typed into a field belong to the field. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function commandFor(event: KeyboardEvent): Command | null {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return null;
  // A modal dialog owns the keyboard while open (the browser makes the rest inert anyway).
  if (document.querySelector('dialog[open]') !== null) return null;
  const shortcut = SHORTCUTS.find((candidate) => candidate.keys.includes(event.key));
  // Enter belongs to whatever has focus (a button, the list); only the list treats it as "open".
  if (shortcut === undefined || event.key === 'Enter') return null;
  return shortcut.command;
}

export function useShortcuts(handlers: Partial<Record<Command, () => void>>): void {
  const latest = useRef(handlers);
  useLayoutEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const command = commandFor(event);
      if (command === null) return;
      const handler = latest.current[command];
      if (handler === undefined) return;
      event.preventDefault();
      handler();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
