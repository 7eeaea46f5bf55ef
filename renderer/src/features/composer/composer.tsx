/**
 * Writing mail: to/cc/bcc with completion from known addresses, subject, plain or simple rich
 * text, attachments read here into base64. The draft is saved as the user writes (a few seconds
 * after the last edit, Ctrl/Cmd+S, on close): in the server's Drafts folder in IMAP mode, on this
 * computer in POP3 mode. Sending hands the message to the outbox (sendMessage returns at once with
 * its OutboxItem), which removes the saved draft.
 */
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import type { AccountView } from '../../../../shared/model';
import { useMailApi } from '../../api/service-context';
import { describeError } from '../../api/error-text';
import { Modal } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { formatBytes } from '../../components/format';
import { useToasts } from '../../components/toast';
import { AddressField } from './address-field';
import { bytesToBase64, toOutgoing, type ComposeDraft, type DraftErrors } from './compose-draft';
import { textToRichHtml } from './rich-text';
import { useDraftSaving, type SaveState } from './use-draft-saving';
import './composer.css';

/** The editor (TipTap, ProseMirror) is loaded the first time someone writes rich text. */
const RichTextEditor = lazy(() => import('./rich-text-editor').then((module) => ({ default: module.RichTextEditor })));

/** The bridge accepts 64 MiB per call; base64 adds a third, and servers rarely take more than 25 MB. */
const MAXIMUM_ATTACHMENT_BYTES = 25 * 1024 * 1024;
const FORMAT_PREFERENCE_KEY = 'whereabouts.composer.format';

const TITLES: Record<ComposeDraft['kind'], string> = {
  new: 'New message',
  reply: 'Reply',
  'reply-all': 'Reply to all',
  forward: 'Forward',
};

function preferredFormat(): ComposeDraft['format'] {
  try {
    return localStorage.getItem(FORMAT_PREFERENCE_KEY) === 'rich' ? 'rich' : 'plain';
  } catch {
    return 'plain';
  }
}

/** A new message, reply or forward starts in the format the user chose last; a saved draft as it was. */
function startingDraft(initial: ComposeDraft): ComposeDraft {
  if (initial.draftId !== null || initial.format === 'rich' || preferredFormat() !== 'rich') return initial;
  return { ...initial, format: 'rich', html: textToRichHtml(initial.text) };
}

function saveStateText(state: SaveState): string {
  switch (state.kind) {
    case 'unsaved':
      return '';
    case 'saving':
      return 'Saving…';
    case 'saved':
      return 'Saved';
    case 'failed':
      return `Not saved: ${state.reason}`;
  }
}

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
  const [draft, setDraft] = useState(() => startingDraft(initial));
  const [pristine] = useState(() => draft);
  const [errors, setErrors] = useState<DraftErrors>({});
  const [showCopies, setShowCopies] = useState(initial.cc !== '' || initial.bcc !== '');
  const [sending, setSending] = useState(false);
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const firstField = useRef<HTMLInputElement>(null);
  const body = useRef<HTMLTextAreaElement>(null);
  const saving = useDraftSaving(api, draft);
  const replying = initial.kind === 'reply' || initial.kind === 'reply-all';

  useEffect(() => {
    // A reply starts in the text, above the quote; a new message or a forward at the recipients.
    if (replying) {
      body.current?.focus();
      body.current?.setSelectionRange(0, 0);
    } else firstField.current?.focus();
  }, [initial, replying]);

  const update = (patch: Partial<ComposeDraft>) => setDraft((previous) => ({ ...previous, ...patch }));
  const totalAttachmentBytes = draft.attachments.reduce((sum, attachment) => sum + attachment.size, 0);

  function chooseFormat(format: ComposeDraft['format']) {
    if (format === draft.format) return;
    try {
      localStorage.setItem(FORMAT_PREFERENCE_KEY, format);
    } catch {
      // Not remembered, still applied.
    }
    // To rich: the plain text (quotes included) becomes the editor's content; to plain: the
    // text alternative the editor kept up to date is the text.
    update(format === 'rich' ? { format, html: textToRichHtml(draft.text) } : { format });
  }

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
    // No save may land after the message is in the outbox: it would bring the draft back.
    await saving.stop();
    try {
      const item = await api.sendMessage({ ...outcome.message, draftId: saving.draftId() });
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
      saving.resume();
      setFailure(error);
      setSending(false);
    }
  }

  async function close() {
    // Opened and left as it came (a reply, a mailto: link): nothing to keep.
    if ((draft === pristine && saving.draftId() === null) || (await saving.saveNow())) onClose();
  }

  async function discard() {
    setConfirmDiscard(false);
    await saving.stop();
    const draftId = saving.draftId();
    try {
      if (draftId !== null) await api.deleteDraft({ draftId });
      onClose();
    } catch (error) {
      saving.resume();
      toasts.showError('The draft was not deleted.', error);
    }
  }

  const failureText = failure === null ? null : describeError(failure);
  const stateText = saveStateText(saving.state);

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
          } else if (event.key.toLowerCase() === 's' && (event.ctrlKey || event.metaKey) && !event.altKey) {
            event.preventDefault();
            void saving.saveNow();
          } else if (event.key === 'Escape' && !event.defaultPrevented) {
            event.preventDefault();
            void close();
          }
        }}
      >
        <header className="composer__header">
          <h2>{TITLES[draft.kind]}</h2>
          <p
            className={`composer__save-state ${saving.state.kind === 'failed' ? 'composer__save-state--failed' : ''}`}
            role="status"
            title={
              saving.state.kind === 'saved'
                ? saving.state.location === 'server'
                  ? 'In the Drafts folder on the server (uploaded when the server can be reached).'
                  : 'In the Drafts folder on this computer.'
                : undefined
            }
          >
            {saving.state.kind === 'failed' && <Icon name="warning" size={14} />}
            {stateText}
          </p>
          <div className="button-row">
            <button
              type="button"
              className="button"
              // Nothing written and nothing saved: nothing to lose, nothing to ask.
              onClick={() =>
                draft === pristine && saving.draftId() === null ? void discard() : setConfirmDiscard(true)
              }
            >
              Discard
            </button>
            <button type="button" className="button" onClick={() => void close()} aria-keyshortcuts="Escape">
              Close
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
            <div className="field">
              <label className="field__label" htmlFor="composer-from">
                From
              </label>
              <select
                id="composer-from"
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
            </div>
          )}
          <AddressField
            label="To"
            value={draft.to}
            error={errors.to}
            accountId={draft.accountId}
            inputRef={firstField}
            onChange={(to) => update({ to })}
          />
          {showCopies ? (
            <>
              <AddressField
                label="Cc"
                value={draft.cc}
                error={errors.cc}
                accountId={draft.accountId}
                onChange={(cc) => update({ cc })}
              />
              <AddressField
                label="Bcc"
                value={draft.bcc}
                error={errors.bcc}
                accountId={draft.accountId}
                hint="Bcc recipients are hidden from everyone else."
                onChange={(bcc) => update({ bcc })}
              />
            </>
          ) : (
            <button type="button" className="button--link composer__copies" onClick={() => setShowCopies(true)}>
              Add Cc or Bcc
            </button>
          )}
          <div className="field">
            <label className="field__label" htmlFor="composer-subject">
              Subject
            </label>
            <input
              id="composer-subject"
              className="input"
              type="text"
              value={draft.subject}
              onChange={(event) => update({ subject: event.target.value })}
            />
          </div>
        </div>
        <div className="composer__format" role="group" aria-label="Text format">
          <button
            type="button"
            className="segment"
            aria-pressed={draft.format === 'plain'}
            onClick={() => chooseFormat('plain')}
          >
            Plain text
          </button>
          <button
            type="button"
            className="segment"
            aria-pressed={draft.format === 'rich'}
            onClick={() => chooseFormat('rich')}
          >
            Rich text
          </button>
        </div>
        {draft.format === 'rich' ? (
          <Suspense fallback={<p className="muted">Loading the editor…</p>}>
            <RichTextEditor
              initialHtml={draft.html}
              reportInitialText={draft.text === ''}
              focusAtStart={replying}
              onChange={({ html, text }) => update({ html, text })}
            />
          </Suspense>
        ) : (
          <>
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
          </>
        )}
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
      {confirmDiscard && (
        <Modal
          title="Discard this message?"
          size="small"
          onClose={() => setConfirmDiscard(false)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirmDiscard(false)} autoFocus>
                Keep writing
              </button>
              <button type="button" className="button button--danger" onClick={() => void discard()}>
                Discard
              </button>
            </>
          }
        >
          <p>What you wrote is deleted{saving.draftId() !== null ? ', and so is its saved draft' : ''}.</p>
        </Modal>
      )}
    </section>
  );
}
