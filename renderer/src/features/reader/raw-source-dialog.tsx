/** "View source": the message exactly as stored (getRawMessage), for the curious and the careful. */
import type { MessageSummary } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useQuery } from '../../api/use-query';
import { Modal } from '../../components/dialog';
import { formatBytes } from '../../components/format';

/** Beyond this the dialog shows the start only: a 50 MB message would freeze the page. */
const MAXIMUM_SHOWN_BYTES = 2 * 1024 * 1024;

function decode(base64: string): { text: string; bytes: number } {
  const binary = atob(base64);
  const bytes = new Uint8Array(Math.min(binary.length, MAXIMUM_SHOWN_BYTES));
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return { text: new TextDecoder('utf-8', { fatal: false }).decode(bytes), bytes: binary.length };
}

export function RawSourceDialog({ message, onClose }: { message: MessageSummary; onClose(): void }) {
  const api = useMailApi();
  const raw = useQuery(`raw:${message.id}`, async () =>
    decode((await api.getRawMessage({ messageId: message.id })).base64),
  );
  return (
    <Modal title={`Source of “${message.subject || '(no subject)'}”`} onClose={onClose} size="large">
      {raw.loading && raw.data === null && <p className="muted">Loading the message as stored…</p>}
      {raw.error && (
        <p className="callout callout--error" role="alert">
          {describeError(raw.error).title}
        </p>
      )}
      {raw.data && (
        <>
          <p className="muted">
            {formatBytes(raw.data.bytes)} exactly as stored
            {raw.data.bytes > MAXIMUM_SHOWN_BYTES ? `; the first ${formatBytes(MAXIMUM_SHOWN_BYTES)} are shown` : ''}.
          </p>
          <pre className="raw-source" tabIndex={0} aria-label="Message source">
            {raw.data.text}
          </pre>
        </>
      )}
    </Modal>
  );
}
