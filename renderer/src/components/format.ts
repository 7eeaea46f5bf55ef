/** Numbers, sizes and dates the way people read them, in the user's locale. */

const COUNT = new Intl.NumberFormat(undefined);
const DECIMAL = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const BYTE_UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;
const BYTES_PER_KILOBYTE = 1024;

export function formatCount(value: number): string {
  return COUNT.format(value);
}

/** 1,536 → "1.5 KB" (binary multiples, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < BYTES_PER_KILOBYTE) return `${COUNT.format(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes;
  let unit = 0;
  while (value >= BYTES_PER_KILOBYTE && unit < BYTE_UNITS.length - 1) {
    value /= BYTES_PER_KILOBYTE;
    unit += 1;
  }
  return `${DECIMAL.format(value)} ${BYTE_UNITS[unit]}`;
}

export function plural(count: number, one: string, many: string): string {
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DAY_THIS_YEAR = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const DAY_OTHER_YEAR = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

/** Short date for a list row: the time today, the day this year, the full day before. */
export function formatListDate(iso: string | null, now: Date = new Date()): string {
  if (iso === null) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  if (date.toDateString() === now.toDateString()) return TIME.format(date);
  if (date.getFullYear() === now.getFullYear()) return DAY_THIS_YEAR.format(date);
  return DAY_OTHER_YEAR.format(date);
}

export function formatFullDate(iso: string | null): string {
  if (iso === null) return 'No date';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? 'No date' : FULL.format(date);
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const RELATIVE_STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "5 minutes ago". */
export function formatRelative(iso: string | null, now: number = Date.now()): string {
  if (iso === null) return 'never';
  let value = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(value) < size) return RELATIVE.format(Math.round(value), unit);
    value /= size;
  }
  return RELATIVE.format(Math.round(value), 'year');
}

export function formatAddress(address: { name: string; address: string } | null): string {
  if (address === null) return 'Unknown sender';
  return address.name.trim() !== '' ? address.name : address.address;
}

export function formatAddressFull(address: { name: string; address: string }): string {
  return address.name.trim() !== '' ? `${address.name} <${address.address}>` : address.address;
}

/** A SHA-256 fingerprint as people compare it: upper-case pairs separated by colons. */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/.{1,2}/g) ?? []).join(':');
}
