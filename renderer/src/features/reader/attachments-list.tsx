/**
 * The message's attachments, each saved on request: its bytes come from the service
 * (getAttachment) and are handed to the browser's download as a file. Nothing is ever opened:
 * the download is typed as plain bytes, so neither the browser nor the shell renders or runs it.
 */
import { useState } from 'react';
import type { AttachmentInfo } from '../../../../shared/model';
import { useMailApi } from '../../api/service-context';
import { formatBytes } from '../../components/format';
import { Icon } from '../../components/icons';
import { useToasts } from '../../components/toast';

/** Long enough for the browser to have started the download from the object URL. */
const OBJECT_URL_LIFETIME_MS = 60_000;

/** A file name without folders or control characters, as the sender's name for it is untrusted. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').replace(/^[.\s]+|[.\s]+$/g, '');
  return cleaned === '' ? 'attachment' : cleaned.slice(0, 200);
}

function bytesOfBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** Hands bytes to the browser as a download named `filename`. */
export function saveBytes(bytes: Uint8Array<ArrayBuffer>, filename: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = safeFileName(filename);
  link.rel = 'noopener';
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), OBJECT_URL_LIFETIME_MS);
}

export function AttachmentsList({ messageId, attachments }: { messageId: string; attachments: AttachmentInfo[] }) {
  const api = useMailApi();
  const toasts = useToasts();
  const [saving, setSaving] = useState<string | null>(null);
  if (attachments.length === 0) return null;

  async function save(attachment: AttachmentInfo) {
    setSaving(attachment.partId);
    try {
      const content = await api.getAttachment({ messageId, partId: attachment.partId });
      saveBytes(bytesOfBase64(content.base64), content.filename || attachment.filename);
    } catch (error) {
      toasts.showError(`“${attachment.filename || 'The attachment'}” could not be saved.`, error);
    } finally {
      setSaving(null);
    }
  }

  return (
    <section className="attachments" aria-label="Attachments">
      <h3 className="attachments__title">
        <Icon name="attachment" size={16} /> {attachments.length}{' '}
        {attachments.length === 1 ? 'attachment' : 'attachments'}
      </h3>
      <ul className="attachments__list">
        {attachments.map((attachment) => (
          <li key={attachment.partId} className="attachment">
            <span className="attachment__name">{attachment.filename || 'Unnamed attachment'}</span>
            <span className="attachment__meta">
              {attachment.contentType} · {formatBytes(attachment.size)}
            </span>
            <button
              type="button"
              className="button button--small"
              aria-label={`Save ${attachment.filename || 'the attachment'}`}
              disabled={saving === attachment.partId}
              onClick={() => void save(attachment)}
            >
              <Icon name="download" size={14} /> {saving === attachment.partId ? 'Saving…' : 'Save…'}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
