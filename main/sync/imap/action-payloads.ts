/**
 * Queued actions come back from the index as JSON: each payload is checked here, where it
 * arrives, before the replay trusts any field of it (STYLE.md rule 6).
 */
import type { QueuedAction } from '../../store/message-store';
import type { ImapAppendPayload, ImapMessageRef, LocalCopyRef, ServerAction } from '../server-actions';

type Fields = Record<string, unknown>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isUidNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 0xffff_ffff;
}

function nullable<T>(value: unknown, check: (value: unknown) => value is T): T | null | undefined {
  if (value === null || value === undefined) return null;
  return check(value) ? value : undefined;
}

function strings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every(isString) ? [...value] : null;
}

function messageRef(fields: Fields): ImapMessageRef | null {
  const uidValidity = nullable(fields.uidValidity, isUidNumber);
  const uid = nullable(fields.uid, isUidNumber);
  const messageIdHeader = nullable(fields.messageIdHeader, isString);
  if (!isNonEmptyString(fields.messageId) || !isNonEmptyString(fields.folderPath)) return null;
  if (uidValidity === undefined || uid === undefined || messageIdHeader === undefined) return null;
  if ((uid === null) !== (uidValidity === null)) return null;
  const size = typeof fields.size === 'number' && Number.isFinite(fields.size) ? fields.size : 0;
  return { messageId: fields.messageId, folderPath: fields.folderPath, uidValidity, uid, messageIdHeader, size };
}

function copyRef(value: unknown): LocalCopyRef | null | undefined {
  if (value === null || value === undefined) return null;
  if (isFields(value) && isNonEmptyString(value.sha256)) return { sha256: value.sha256 };
  return undefined;
}

function appendPayload(fields: Fields): ImapAppendPayload | null {
  const messageId = nullable(fields.messageId, isNonEmptyString);
  const sha256 = nullable(fields.sha256, isNonEmptyString);
  const messageIdHeader = nullable(fields.messageIdHeader, isString);
  const flags = fields.flags === undefined ? [] : strings(fields.flags);
  if (messageId === undefined || sha256 === undefined || messageIdHeader === undefined || flags === null) return null;
  if (!isNonEmptyString(fields.toPath) || (messageId === null && sha256 === null)) return null;
  const size = typeof fields.size === 'number' && Number.isFinite(fields.size) ? fields.size : null;
  return { messageId, sha256, messageIdHeader, size, toPath: fields.toPath, flags };
}

/** The action as a typed ServerAction, or null when its payload is not what its kind requires. */
export function parseServerAction(action: Pick<QueuedAction, 'kind' | 'payload'>): ServerAction | null {
  const fields = action.payload;
  if (!isFields(fields)) return null;
  switch (action.kind) {
    case 'imap-flags': {
      const ref = messageRef(fields);
      const add = strings(fields.add ?? []);
      const remove = strings(fields.remove ?? []);
      return ref && add && remove ? { kind: 'imap-flags', payload: { ...ref, add, remove } } : null;
    }
    case 'imap-move': {
      const ref = messageRef(fields);
      return ref && isNonEmptyString(fields.toPath)
        ? { kind: 'imap-move', payload: { ...ref, toPath: fields.toPath } }
        : null;
    }
    case 'imap-copy': {
      const ref = messageRef(fields);
      const copy = copyRef(fields.copy);
      if (!ref || copy === undefined || !isNonEmptyString(fields.toPath)) return null;
      return { kind: 'imap-copy', payload: { ...ref, toPath: fields.toPath, copy } };
    }
    case 'imap-delete': {
      const ref = messageRef(fields);
      const trashPath = nullable(fields.trashPath, isNonEmptyString);
      const after = nullable(fields.after, isNonEmptyString);
      if (!ref || trashPath === undefined || after === undefined || typeof fields.expunge !== 'boolean') return null;
      return {
        kind: 'imap-delete',
        payload: { ...ref, expunge: fields.expunge, trashPath, ...(after ? { after } : {}) },
      };
    }
    case 'imap-append': {
      const payload = appendPayload(fields);
      return payload ? { kind: 'imap-append', payload } : null;
    }
    case 'imap-create-folder':
    case 'imap-delete-folder':
      return isNonEmptyString(fields.path) ? { kind: action.kind, payload: { path: fields.path } } : null;
    case 'imap-rename-folder':
      return isNonEmptyString(fields.path) && isNonEmptyString(fields.newPath)
        ? { kind: 'imap-rename-folder', payload: { path: fields.path, newPath: fields.newPath } }
        : null;
    case 'pop3-delete':
      return isNonEmptyString(fields.uidl) ? { kind: 'pop3-delete', payload: { uidl: fields.uidl } } : null;
    default:
      return null;
  }
}
