/** The message's attachments. Saving needs a service method (see the report); until then they are listed. */
import type { AttachmentInfo } from '../../../../shared/model';
import { Icon } from '../../components/icons';
import { formatBytes } from '../../components/format';

export function AttachmentsList({ attachments }: { attachments: AttachmentInfo[] }) {
  if (attachments.length === 0) return null;
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
              disabled
              title="Saving attachments is not available in this version yet"
            >
              Save…
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
