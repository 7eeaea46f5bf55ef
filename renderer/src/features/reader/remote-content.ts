/**
 * The user's choices about remote content: per message for this session, and "always for this
 * sender" remembered in localStorage (what the renderer may keep by itself for now).
 */
const SENDERS_KEY = 'whereabouts.remote-content.senders';
const allowedMessages = new Set<string>();

function readSenders(): Set<string> {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(SENDERS_KEY) ?? '[]');
    return new Set(Array.isArray(stored) ? stored.filter((item): item is string => typeof item === 'string') : []);
  } catch {
    return new Set();
  }
}

function writeSenders(senders: Set<string>): void {
  try {
    localStorage.setItem(SENDERS_KEY, JSON.stringify([...senders].sort()));
  } catch {
    // Storage full or disabled: the choice then lasts for this session only.
  }
}

export function remoteContentAllowed(messageId: string, sender: string | null): boolean {
  if (allowedMessages.has(messageId)) return true;
  return sender !== null && readSenders().has(sender.toLowerCase());
}

export function allowRemoteForMessage(messageId: string): void {
  allowedMessages.add(messageId);
}

export function allowRemoteForSender(sender: string): void {
  const senders = readSenders();
  senders.add(sender.toLowerCase());
  writeSenders(senders);
}

export function forgetRemoteForSender(sender: string): void {
  const senders = readSenders();
  senders.delete(sender.toLowerCase());
  writeSenders(senders);
}

export function isSenderTrusted(sender: string | null): boolean {
  return sender !== null && readSenders().has(sender.toLowerCase());
}
