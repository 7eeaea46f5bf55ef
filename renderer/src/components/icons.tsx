/**
 * The app's icons as inline SVG (no icon font, no remote request). Decorative by default: the
 * text beside an icon carries the meaning; pass `label` when the icon stands alone.
 */
import type { ReactNode } from 'react';

const PATHS = {
  server: (
    <>
      <rect x="3" y="4" width="14" height="5" rx="1.5" />
      <rect x="3" y="11" width="14" height="5" rx="1.5" />
      <path d="M6 6.5h.01M6 13.5h.01" />
    </>
  ),
  computer: (
    <>
      <rect x="3" y="4" width="14" height="9" rx="1.5" />
      <path d="M7 16.5h6M10 13v3.5" />
    </>
  ),
  both: (
    <>
      <rect x="2" y="3" width="9" height="4" rx="1" />
      <rect x="9" y="10" width="9" height="6" rx="1" />
      <path d="M6.5 7v3.5h2.5" />
    </>
  ),
  inbox: (
    <>
      <path d="M3 11l2-6h10l2 6v4a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z" />
      <path d="M3 11h4l1 2h4l1-2h4" />
    </>
  ),
  sent: <path d="M3 10l14-6-5 13-2.5-5.5z M9.5 11.5L17 4" />,
  drafts: <path d="M4 16h3l9-9-3-3-9 9zM11.5 5.5l3 3" />,
  trash: <path d="M4 6h12M8 6V4h4v2M6 6l1 10h6l1-10" />,
  junk: (
    <>
      <circle cx="10" cy="10" r="6.5" />
      <path d="M5.5 5.5l9 9" />
    </>
  ),
  archive: (
    <>
      <rect x="3" y="4" width="14" height="4" rx="1" />
      <path d="M4.5 8v7a1 1 0 0 0 1 1h9a1 1 0 0 0 1-1V8M8 11h4" />
    </>
  ),
  outbox: (
    <>
      <path d="M3 11l2-6h10l2 6v4a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z" />
      <path d="M10 13V7M7.5 9.5L10 7l2.5 2.5" />
    </>
  ),
  folder: <path d="M3 6a1 1 0 0 1 1-1h4l2 2h6a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z" />,
  unified: (
    <>
      <path d="M3 12l2-6h10l2 6v3a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z" />
      <path d="M3 12h4l1 2h4l1-2h4M6 3.5h8" />
    </>
  ),
  search: (
    <>
      <circle cx="9" cy="9" r="5" />
      <path d="M13 13l4 4" />
    </>
  ),
  reply: <path d="M8 5L3 10l5 5M3 10h9a5 5 0 0 1 5 5v1" />,
  replyAll: <path d="M9 5L4 10l5 5M6 5l-5 5 5 5M4 10h8a5 5 0 0 1 5 5v1" />,
  forward: <path d="M12 5l5 5-5 5M17 10H8a5 5 0 0 0-5 5v1" />,
  compose: <path d="M4 16h3l9-9-3-3-9 9zM11.5 5.5l3 3M10 16h6" />,
  settings: (
    <>
      <circle cx="10" cy="10" r="2.5" />
      <path d="M10 2.5v2M10 15.5v2M2.5 10h2M15.5 10h2M4.7 4.7l1.4 1.4M13.9 13.9l1.4 1.4M4.7 15.3l1.4-1.4M13.9 6.1l1.4-1.4" />
    </>
  ),
  attachment: (
    <path d="M15 9.5l-5.5 5.5a3.5 3.5 0 0 1-5-5L11 3.5a2.3 2.3 0 0 1 3.3 3.3L8 13.2a1.2 1.2 0 0 1-1.7-1.7L12 5.8" />
  ),
  warning: (
    <>
      <path d="M10 3l8 14H2z" />
      <path d="M10 8v4M10 14.5h.01" />
    </>
  ),
  check: <path d="M4 10.5l4 4 8-9" />,
  close: <path d="M5 5l10 10M15 5L5 15" />,
  chevronDown: <path d="M5 8l5 5 5-5" />,
  chevronRight: <path d="M8 5l5 5-5 5" />,
  refresh: <path d="M16 10a6 6 0 1 1-2-4.5M16 3.5V7h-3.5" />,
  download: <path d="M10 3v10M6 9l4 4 4-4M4 16h12" />,
  upload: <path d="M10 14V4M6 8l4-4 4 4M4 16h12" />,
  offline: (
    <>
      <path d="M3 8a10 10 0 0 1 14 0M5.5 10.5a6.5 6.5 0 0 1 9 0M8 13a3 3 0 0 1 4 0M10 15.5h.01" />
      <path d="M3 3l14 14" />
    </>
  ),
  online: <path d="M3 8a10 10 0 0 1 14 0M5.5 10.5a6.5 6.5 0 0 1 9 0M8 13a3 3 0 0 1 4 0M10 15.5h.01" />,
  keyboard: (
    <>
      <rect x="2.5" y="5" width="15" height="10" rx="1.5" />
      <path d="M5.5 8h.01M8.5 8h.01M11.5 8h.01M14.5 8h.01M6.5 12h7" />
    </>
  ),
  map: (
    <>
      <path d="M10 17s-5-4.5-5-8.5a5 5 0 0 1 10 0c0 4-5 8.5-5 8.5z" />
      <circle cx="10" cy="8.5" r="1.8" />
    </>
  ),
  sun: (
    <>
      <circle cx="10" cy="10" r="3.5" />
      <path d="M10 2v2M10 16v2M2 10h2M16 10h2M4.3 4.3l1.4 1.4M14.3 14.3l1.4 1.4M4.3 15.7l1.4-1.4M14.3 5.7l1.4-1.4" />
    </>
  ),
  moon: <path d="M15.5 12.5A6.5 6.5 0 0 1 7.5 4.5a6.5 6.5 0 1 0 8 8z" />,
  plus: <path d="M10 4v12M4 10h12" />,
  source: <path d="M7 6l-4 4 4 4M13 6l4 4-4 4M11 4l-2 12" />,
  link: (
    <path d="M8.5 11.5a3 3 0 0 0 4.2 0l2.8-2.8a3 3 0 0 0-4.2-4.2l-1 1M11.5 8.5a3 3 0 0 0-4.2 0l-2.8 2.8a3 3 0 0 0 4.2 4.2l1-1" />
  ),
  lock: (
    <>
      <rect x="4" y="9" width="12" height="8" rx="1.5" />
      <path d="M7 9V6.5a3 3 0 0 1 6 0V9" />
    </>
  ),
  mailUnread: (
    <>
      <rect x="3" y="5" width="14" height="11" rx="1.5" />
      <path d="M3.5 6l6.5 5 6.5-5" />
    </>
  ),
  threads: <path d="M4 5h12M4 10h12M8 15h8M4 15h.01" />,
  sort: <path d="M6 4v12M3 13l3 3 3-3M14 16V4M11 7l3-3 3 3" />,
  filter: <path d="M3 5h14l-5.5 6.5V16l-3-1.5v-3z" />,
  move: (
    <>
      <path d="M3 6a1 1 0 0 1 1-1h4l2 2h6a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1z" />
      <path d="M8 11.5h5M11 9.5l2 2-2 2" />
    </>
  ),
  more: <path d="M5 10h.01M10 10h.01M15 10h.01" strokeWidth={2.6} />,
  copy: (
    <>
      <rect x="7" y="7" width="9" height="10" rx="1.5" />
      <path d="M13 4.5a1 1 0 0 0-1-1H5a1.5 1.5 0 0 0-1.5 1.5v8a1 1 0 0 0 1 1" />
    </>
  ),
  key: (
    <>
      <circle cx="7" cy="10" r="3.5" />
      <path d="M10.5 10H17M14.5 10v2.5M16.5 10v2" />
    </>
  ),
  pencil: <path d="M4 16l.8-3.2L13 4.6a1.4 1.4 0 0 1 2 0l.4.4a1.4 1.4 0 0 1 0 2L7.2 15.2z" />,
} satisfies Record<string, ReactNode>;

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 18, label }: { name: IconName; size?: number; label?: string }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 20 20"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.6}
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label === undefined ? undefined : 'img'}
      aria-hidden={label === undefined ? true : undefined}
      aria-label={label}
      focusable="false"
    >
      {PATHS[name]}
    </svg>
  );
}
