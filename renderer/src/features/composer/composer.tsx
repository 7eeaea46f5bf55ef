/**
 * Writing mail: to/cc/bcc, subject, plain text, attachments read here into base64. Sending hands
 * the message to the outbox (sendMessage returns at once with its OutboxItem); the outbox shows
 * whether it is queued, sending, sent, failed or of unknown delivery.
 */
import { useEffect, useRef, useState } from 'react';
import type { AccountView } from '../../../../shared/model';
import { useMailApi } from '../../api/service-context';
import { describeError } from '../../api/error-text';
import { Field } from '../../components/field';
import { Icon } from '../../components/icons';
import { formatBytes } from '../../components/format';
import { useToasts } from '../../components/toast';
import { bytesToBase64, toOutgoing, type ComposeDraft, type DraftErrors } from './compose-draft';

/** The bridge accepts 64 MiB per call; base64 adds a third, and servers rarely take more than 25 MB. */
const MAXIMUM_ATTACHMENT_BYTES = 25 * 1024 * 1024;

const TITLES: Record<ComposeDraft['kind'], string> = {
  new: 'New message',
  reply: 'Reply',
  'reply-all': 'Reply to all',
  forward: 'Forward',
};

export function Composer({
  initial,
  accounts,
  onClose,
  onSent,
}: {
  initial: ComposeDraft;
  accounts: AccountView[];
  onClose(): void;
  onSent(): void;
}) {
  const api = useMailApi();
  const toasts = useToasts();
  const [draft, setDraft] = useState(initial);
  const [errors, setErrors] = useState<DraftErrors>({});
  const [showCopies, setShowCopies] = useState(initial.cc !== '' || initial.bcc !== '');
  const [sending, setSending] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const firstField = useRef<HTMLInputElement>(null);
  const body = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    // A reply starts in the text, above the quote; a new message or a forward at the recipients.
    if (initial.kind === 'reply' || initial.kind === 'reply-all') {
      body.current?.focus();
      body.current?.setSelectionRange(0, 0);
    } else firstField.current?.focus();
  }, [initial]);

  const update = (patch: Partial<ComposeDraft>) => setDraft((previous) => ({ ...previous, ...patch }));
  const totalAttachmentBytes = draft.attachments.reduce((sum, attachment) => sum + attachment.size, 0);

  async function attach(files: FileList | null) {
    if (files === null) return;
    const added: ComposeDraft['attachments'] = [];
    for (const file of Array.from(files)) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      added.push({
        filename: file.name,
        contentType: file.type || 'application/octet-stream',
        contentBase64: bytesToBase64(bytes),
        size: file.size,
      });
    }
    setDraft((previous) => ({ ...previous, attachments: [...previous.attachments, ...added] }));
  }

  async function send() {
    if (totalAttachmentBytes > MAXIMUM_ATTACHMENT_BYTES) {
      setErrors({ attachments: `Attachments may total at most ${formatBytes(MAXIMUM_ATTACHMENT_BYTES)}.` });
      return;
    }
    const outcome = toOutgoing(draft);
    if ('errors' in outcome) {
      setErrors(outcome.errors);
      return;
    }
    setErrors({});
    setSending(true);
    setFailure(null);
    try {
      const item = await api.sendMessage(outcome.message);
      toasts.show({
        kind: 'success',
        title: item.state === 'sent' ? 'Message sent.' : 'Message is in the outbox.',
        body:
          item.state === 'sent'
            ? null
            : 'It is sent as soon as the server accepts it; the outbox shows how it is going.',
      });
      onSent();
    } catch (error) {
      setFailure(error);
      setSending(false);
    }
  }

  const failureText = failure === null ? null : describeError(failure);

  return (
    <section className="pane pane--reader composer" aria-label={TITLES[draft.kind]}>
      <form
        className="composer__form"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            void send();
          } else if (event.key === 'Escape') {
            event.preventDefault();
            onClose();
          }
        }}
      >
        <header className="composer__header">
          <h2>{TITLES[draft.kind]}</h2>
          <div className="button-row">
            <button type="button" className="button" onClick={onClose}>
              Discard
            </button>
            <button
              type="submit"
              className="button button--primary"
              disabled={sending}
              aria-keyshortcuts="Control+Enter"
            >
              <Icon name="sent" /> {sending ? 'Sending…' : 'Send'}
            </button>
          </div>
        </header>
        <div className="composer__fields">
          {accounts.length > 1 && (
            <Field label="From">
              {(control) => (
                <select
                  {...control}
                  className="input"
                  value={draft.accountId}
                  onChange={(event) => update({ accountId: event.target.value })}
                >
                  {accounts.map((account) => (
                    <option key={account.id} value={account.id}>
                      {account.name} &lt;{account.email}&gt;
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
          <Field label="To" error={errors.to}>
            {(control) => (
              <input
                {...control}
                ref={firstField}
                className="input"
                type="text"
                autoComplete="off"
                value={draft.to}
                onChange={(event) => update({ to: event.target.value })}
              />
            )}
          </Field>
          {showCopies ? (
            <>
              <Field label="Cc" error={errors.cc}>
                {(control) => (
                  <input
                    {...control}
                    className="input"
                    type="text"
                    value={draft.cc}
                    onChange={(event) => update({ cc: event.target.value })}
                  />
                )}
              </Field>
              <Field label="Bcc" error={errors.bcc} hint="Bcc recipients are hidden from everyone else.">
                {(control) => (
                  <input
                    {...control}
                    className="input"
                    type="text"
                    value={draft.bcc}
                    onChange={(event) => update({ bcc: event.target.value })}
                  />
                )}
              </Field>
            </>
          ) : (
            <button type="button" className="button--link composer__copies" onClick={() => setShowCopies(true)}>
              Add Cc or Bcc
            </button>
          )}
          <Field label="Subject">
            {(control) => (
              <input
                {...control}
                className="input"
                type="text"
                value={draft.subject}
                onChange={(event) => update({ subject: event.target.value })}
              />
            )}
          </Field>
        </div>
        <label className="visually-hidden" htmlFor="composer-text">
          Message
        </label>
        <textarea
          id="composer-text"
          ref={body}
          className="composer__text"
          value={draft.text}
          onChange={(event) => update({ text: event.target.value })}
        />
        <div className="composer__attachments">
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            onChange={(event) => {
              void attach(event.target.files);
              event.target.value = '';
            }}
          />
          <button type="button" className="button button--small" onClick={() => fileInput.current?.click()}>
            <Icon name="attachment" /> Attach files
          </button>
          {draft.attachments.length > 0 && (
            <ul className="composer__attachment-list" aria-label="Attached files">
              {draft.attachments.map((attachment, index) => (
                <li key={`${index}-${attachment.filename}`} className="chip chip--static">
                  <span>{attachment.filename}</span>
                  <span className="muted">{formatBytes(attachment.size)}</span>
                  <button
                    type="button"
                    className="icon-button icon-button--small"
                    aria-label={`Remove ${attachment.filename}`}
                    onClick={() =>
                      update({ attachments: draft.attachments.filter((_, position) => position !== index) })
                    }
                  >
                    <Icon name="close" size={14} />
                  </button>
                </li>
              ))}
            </ul>
          )}
          {errors.attachments && <p className="field__error">{errors.attachments}</p>}
        </div>
        {failureText !== null && (
          <div className="callout callout--error" role="alert">
            <Icon name="warning" />
            <div>
              <p className="callout__title">The message was not sent. {failureText.title}</p>
              {failureText.advice && <p>{failureText.advice}</p>}
            </div>
          </div>
        )}
      </form>
    </section>
  );
}
