/**
 * The reader: one message's headers, its body parts each on their own (HTML sanitized into its own
 * sandboxed frame, text as text), remote content blocked until the user allows it, its links with
 * their real targets, its attachments, and where it lives.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { RemoteImages } from '../../../../shared/api';
import type { BodyPart, ConnectivityState, MessageDetail, MessageSummary } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';
import { useQuery } from '../../api/use-query';
import type { MailActions } from '../../app/mail-actions';
import { formatAddressFull, formatBytes, formatFullDate, plural } from '../../components/format';
import { Icon } from '../../components/icons';
import { RESIDENCY_TEXT, ResidencyBadge } from '../../components/residency-badge';
import { AttachmentsList } from './attachments-list';
import { LinksList } from './links-list';
import { MailFrame } from './mail-frame';
import { PlainText } from './plain-text';
import { DeleteFromServerDialog, FolderPicker, ReaderToolbar } from './reader-toolbar';
import {
  allowRemoteForMessage,
  allowRemoteForSender,
  forgetRemoteForSender,
  isSenderTrusted,
  remoteContentAllowed,
} from './remote-content';
import { htmlToText, sanitizeMailHtml, type SanitizedHtml } from './sanitize';

/** What main may fetch in one call (main/service/remote-content.ts MAX_REMOTE_IMAGES). */
const REMOTE_IMAGES_PER_CALL = 50;

type RemoteImagesState =
  | { kind: 'idle' }
  | { kind: 'loading'; count: number }
  | { kind: 'loaded'; images: Record<string, string>; failed: RemoteImages['failed'] }
  | { kind: 'failed'; error: unknown };

/**
 * The remote images of a message's HTML parts, fetched by main once the user allows remote
 * content (the renderer itself requests nothing; the app's CSP would refuse it anyway).
 */
function useRemoteImages(messageId: string, htmlParts: BodyPart[], allowRemote: boolean): RemoteImagesState {
  const api = useMailApi();
  const [state, setState] = useState<RemoteImagesState>({ kind: 'idle' });
  // Which URLs to fetch: found by a sanitizing pass that keeps none of them.
  const urls = useMemo(() => {
    if (!allowRemote) return [];
    const found = new Set<string>();
    for (const part of htmlParts) {
      for (const url of sanitizeMailHtml(part.content, { allowRemote: false }).remoteUrls) found.add(url);
    }
    return [...found];
  }, [htmlParts, allowRemote]);
  const key = urls.join('\n');
  useEffect(() => {
    if (urls.length === 0) {
      setState({ kind: 'idle' });
      return;
    }
    let current = true;
    setState({ kind: 'loading', count: urls.length });
    const run = async () => {
      try {
        const images: Record<string, string> = Object.create(null) as Record<string, string>;
        const failed: RemoteImages['failed'] = [];
        for (let start = 0; start < urls.length; start += REMOTE_IMAGES_PER_CALL) {
          const batch = await api.fetchRemoteImages({
            messageId,
            urls: urls.slice(start, start + REMOTE_IMAGES_PER_CALL),
          });
          Object.assign(images, batch.images);
          failed.push(...batch.failed);
        }
        if (current) setState({ kind: 'loaded', images, failed });
      } catch (error) {
        if (current) setState({ kind: 'failed', error });
      }
    };
    void run();
    return () => {
      current = false;
    };
    // The URLs are the question; a new array with the same URLs is not a new one.
  }, [api, messageId, key]);
  return state;
}

const PLAIN_PREFERENCE_KEY = 'whereabouts.reader.plain-text';

function readPlainPreference(): boolean {
  try {
    return localStorage.getItem(PLAIN_PREFERENCE_KEY) === 'true';
  } catch {
    return false;
  }
}

export function Reader({
  selection,
  actions,
  connectivity,
  focusRequest,
}: {
  selection: MessageSummary[];
  actions: MailActions;
  connectivity: (accountId: string) => ConnectivityState | null;
  /** Changes when the user asks to read (Enter, o): the reader takes focus. */
  focusRequest: number;
}) {
  if (selection.length === 0) {
    return (
      <section className="pane pane--reader" aria-label="Reader">
        <div className="reader-empty">
          <Icon name="mailUnread" size={40} />
          <p>Select a message to read it.</p>
          <p className="muted">
            Press <kbd>?</kbd> for keyboard shortcuts.
          </p>
        </div>
      </section>
    );
  }
  if (selection.length > 1) {
    return <MultipleSelection messages={selection} actions={actions} />;
  }
  return (
    <MessageView
      key={selection[0].id}
      summary={selection[0]}
      actions={actions}
      connectivity={connectivity(selection[0].accountId)}
      focusRequest={focusRequest}
    />
  );
}

function MultipleSelection({ messages, actions }: { messages: MessageSummary[]; actions: MailActions }) {
  const bytes = messages.reduce((sum, message) => sum + message.size, 0);
  const [confirmServerDelete, setConfirmServerDelete] = useState(false);
  const accountIds = new Set(messages.map((message) => message.accountId));
  const [accountId] = accountIds;
  // Moving and copying stay within one account.
  const targets =
    accountIds.size === 1
      ? actions.moveTargets(accountId).filter((folder) => messages.some((message) => message.folderId !== folder.id))
      : [];
  const serverCopies = messages.filter(
    (message) => actions.account(message.accountId)?.mode === 'pop3' && message.residency !== 'local',
  );
  return (
    <section className="pane pane--reader" aria-label="Reader">
      <div className="reader-empty">
        <Icon name="threads" size={40} />
        <p className="reader-empty__title">{plural(messages.length, 'message', 'messages')} selected</p>
        <p className="muted">{formatBytes(bytes)} in all</p>
        <div className="button-row">
          <button type="button" className="button" onClick={() => actions.archive(messages)}>
            <Icon name="archive" /> Archive
          </button>
          <button type="button" className="button" onClick={() => actions.setRead(messages, true)}>
            Mark as read
          </button>
          <button type="button" className="button" onClick={() => actions.setRead(messages, false)}>
            Mark as unread
          </button>
          <button type="button" className="button button--danger" onClick={() => actions.remove(messages)}>
            <Icon name="trash" /> Delete
          </button>
          {serverCopies.length > 0 && (
            <button type="button" className="button button--danger" onClick={() => setConfirmServerDelete(true)}>
              <Icon name="server" /> Delete here and on the server…
            </button>
          )}
        </div>
        {targets.length > 0 && (
          <div className="button-row">
            <FolderPicker
              icon="move"
              label="Move to folder"
              placeholder="Move to…"
              targets={targets}
              onChoose={(folder) => actions.move(messages, folder)}
            />
            <FolderPicker
              icon="copy"
              label="Copy to folder"
              placeholder="Copy to…"
              targets={targets}
              onChoose={(folder) => actions.copy(messages, folder)}
            />
          </div>
        )}
        {confirmServerDelete && (
          <DeleteFromServerDialog
            messages={messages}
            onCancel={() => setConfirmServerDelete(false)}
            onConfirm={() => {
              setConfirmServerDelete(false);
              actions.remove(messages, { fromServer: true });
            }}
          />
        )}
      </div>
    </section>
  );
}

function MessageView({
  summary,
  actions,
  connectivity,
  focusRequest,
}: {
  summary: MessageSummary;
  actions: MailActions;
  connectivity: ConnectivityState | null;
  focusRequest: number;
}) {
  const api = useMailApi();
  const detail = useQuery(`message:${summary.id}`, () => api.getMessage({ messageId: summary.id }));
  const article = useRef<HTMLElement>(null);
  const firstFocus = useRef(focusRequest);
  useEffect(() => {
    if (focusRequest !== firstFocus.current) article.current?.focus();
  }, [focusRequest]);

  useMailEvent('messagesChanged', (payload) => {
    if (payload.folderIds.includes(summary.folderId)) detail.reload();
  });

  // Opening a message marks it read (IMAP \Seen, RFC 3501 section 2.3.2), once: after "Mark as
  // unread" on the open message it stays unread.
  const markedRead = useRef(false);
  const message = detail.data;
  useEffect(() => {
    if (message === null || markedRead.current) return;
    markedRead.current = true;
    if (message.flags.includes('\\Seen')) return;
    api.setFlags({ messageIds: [message.id], add: ['\\Seen'] }).catch(() => undefined);
  }, [api, message]);

  return (
    <section className="pane pane--reader" aria-label="Reader">
      <ReaderToolbar message={message ?? summary} detail={message} actions={actions} />
      <article className="reader" ref={article} tabIndex={-1} aria-labelledby={`subject-${summary.id}`}>
        <MessageHeader
          message={message ?? summary}
          serverCopy={
            actions.account(summary.accountId)?.mode === 'pop3' && summary.residency !== 'local' ? (
              <ServerCopyDelete message={summary} actions={actions} />
            ) : null
          }
        />
        {detail.error !== null && message === null && (
          <div className="callout callout--error" role="alert">
            <Icon name="warning" />
            <div>
              <p className="callout__title">This message could not be opened. {describeError(detail.error).title}</p>
              {describeError(detail.error).advice && <p>{describeError(detail.error).advice}</p>}
              <button type="button" className="button button--small" onClick={detail.reload}>
                Try again
              </button>
            </div>
          </div>
        )}
        {message === null && detail.error === null && <p className="muted reader__loading">Opening…</p>}
        {message !== null && <MessageBody message={message} actions={actions} connectivity={connectivity} />}
      </article>
    </section>
  );
}

/** POP3 (SEMANTICS S6): the copy left on the server can be deleted there too, from where it says so. */
function ServerCopyDelete({ message, actions }: { message: MessageSummary; actions: MailActions }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <>
      <button type="button" className="button--link" onClick={() => setConfirming(true)}>
        Delete here and on the server…
      </button>
      {confirming && (
        <DeleteFromServerDialog
          messages={[message]}
          onCancel={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            actions.remove([message], { fromServer: true });
          }}
        />
      )}
    </>
  );
}

function MessageHeader({
  message,
  serverCopy = null,
}: {
  message: MessageSummary | MessageDetail;
  /** What can be done about the server's copy, shown beside where the message lives. */
  serverCopy?: ReactNode;
}) {
  const detail = 'cc' in message ? message : null;
  const initials = (message.from?.name || message.from?.address || '?')
    .split(/\s+/)
    .map((word) => word[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
  return (
    <header className="reader__header">
      <h1 className="reader__subject" id={`subject-${message.id}`}>
        {message.subject || '(no subject)'}
      </h1>
      <div className="reader__people">
        <span className="avatar" aria-hidden="true">
          {initials}
        </span>
        <dl className="reader__addresses">
          <div>
            <dt>From</dt>
            <dd>{message.from ? formatAddressFull(message.from) : 'Unknown sender'}</dd>
          </div>
          {message.to.length > 0 && (
            <div>
              <dt>To</dt>
              <dd>{message.to.map(formatAddressFull).join(', ')}</dd>
            </div>
          )}
          {detail !== null && detail.cc.length > 0 && (
            <div>
              <dt>Cc</dt>
              <dd>{detail.cc.map(formatAddressFull).join(', ')}</dd>
            </div>
          )}
          {detail !== null && detail.replyTo.length > 0 && (
            <div>
              <dt>Reply to</dt>
              <dd>{detail.replyTo.map(formatAddressFull).join(', ')}</dd>
            </div>
          )}
          <div>
            <dt>Date</dt>
            <dd>
              <time dateTime={message.date ?? undefined}>{formatFullDate(message.date)}</time>
            </dd>
          </div>
        </dl>
      </div>
      <p className="reader__where">
        <ResidencyBadge residency={message.residency} />
        <span className="muted">
          {RESIDENCY_TEXT[message.residency].long} · {formatBytes(message.size)}
        </span>
        {serverCopy}
      </p>
    </header>
  );
}

function MessageBody({
  message,
  actions,
  connectivity,
}: {
  message: MessageDetail;
  actions: MailActions;
  connectivity: ConnectivityState | null;
}) {
  const sender = message.from?.address ?? null;
  const [allowRemote, setAllowRemote] = useState(() => remoteContentAllowed(message.id, sender));
  const [senderTrusted, setSenderTrusted] = useState(() => isSenderTrusted(sender));
  const [plain, setPlain] = useState(readPlainPreference);
  const parts = message.parts;
  const htmlParts = useMemo(() => (parts ?? []).filter((part) => part.kind === 'html'), [parts]);
  const remote = useRemoteImages(message.id, htmlParts, allowRemote);
  const sanitized = useMemo(() => {
    const result = new Map<string, SanitizedHtml>();
    for (const part of htmlParts) {
      result.set(
        part.partId,
        sanitizeMailHtml(part.content, { allowRemote, remoteImages: remote.kind === 'loaded' ? remote.images : {} }),
      );
    }
    return result;
  }, [htmlParts, allowRemote, remote]);
  const blocked = [...sanitized.values()].reduce((sum, part) => sum + part.blockedRemoteCount, 0);
  const links = [...sanitized.values()].flatMap((part) => part.links);

  function choosePlain(value: boolean) {
    setPlain(value);
    try {
      localStorage.setItem(PLAIN_PREFERENCE_KEY, String(value));
    } catch {
      // Not remembered, still applied.
    }
  }

  if (parts === null) {
    return (
      <div className="callout callout--info">
        <Icon name="server" />
        <div>
          <p className="callout__title">Only this message’s headers are on this computer.</p>
          <p>
            {connectivity === 'offline'
              ? 'Its body is on the server. It will be fetched when you are online again.'
              : 'Its body is on the server and could not be fetched just now.'}
          </p>
          <button type="button" className="button button--small" onClick={() => actions.download([message])}>
            <Icon name="download" /> Download to this computer
          </button>
        </div>
      </div>
    );
  }

  const textParts = parts.filter((part) => part.kind === 'text');
  const showPlain = plain && htmlParts.length > 0;
  return (
    <div className="reader__body">
      {message.parseWarning && (
        <p className="callout callout--warning" role="note">
          <Icon name="warning" /> Part of this message could not be read: {message.parseWarning} The source shows it as
          received.
        </p>
      )}
      {htmlParts.length > 0 && (
        <div className="reader__view-switch" role="group" aria-label="Show the message as">
          <button type="button" className="segment" aria-pressed={!showPlain} onClick={() => choosePlain(false)}>
            Formatted
          </button>
          <button type="button" className="segment" aria-pressed={showPlain} onClick={() => choosePlain(true)}>
            Plain text
          </button>
        </div>
      )}
      {!showPlain && blocked > 0 && !allowRemote && (
        <div className="remote-bar" role="region" aria-label="Remote content">
          <Icon name="lock" />
          <p>
            {plural(blocked, 'remote image was', 'remote images were')} blocked to protect your privacy: loading them
            tells the sender you read this, and when.
          </p>
          <div className="button-row">
            <button
              type="button"
              className="button button--small"
              onClick={() => {
                allowRemoteForMessage(message.id);
                setAllowRemote(true);
              }}
            >
              Load remote content
            </button>
            {sender !== null && (
              <button
                type="button"
                className="button button--small"
                onClick={() => {
                  allowRemoteForSender(sender);
                  setSenderTrusted(true);
                  setAllowRemote(true);
                }}
              >
                Always from {sender}
              </button>
            )}
          </div>
        </div>
      )}
      {!showPlain && allowRemote && remote.kind === 'loading' && (
        <p className="remote-note muted" role="status">
          <span className="spinner" aria-hidden="true" /> Loading{' '}
          {plural(remote.count, 'remote image', 'remote images')}…
        </p>
      )}
      {!showPlain && allowRemote && remote.kind === 'loaded' && remote.failed.length > 0 && (
        <details className="remote-note remote-note--failed">
          <summary>{plural(remote.failed.length, 'remote image', 'remote images')} could not be loaded.</summary>
          <ul>
            {remote.failed.map((failure) => (
              <li key={failure.url}>
                <code>{failure.url}</code>: {failure.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {!showPlain && allowRemote && remote.kind === 'failed' && (
        <p className="remote-note remote-note--failed" role="status">
          The remote images could not be loaded. {describeError(remote.error).title}
        </p>
      )}
      {!showPlain && senderTrusted && sender !== null && (
        <p className="remote-note muted">
          Remote content from {sender} is always loaded.{' '}
          <button
            type="button"
            className="button--link"
            onClick={() => {
              forgetRemoteForSender(sender);
              setSenderTrusted(false);
              setAllowRemote(false);
            }}
          >
            Stop
          </button>
        </p>
      )}
      {showPlain
        ? (textParts.length > 0 ? textParts : htmlParts).map((part) => (
            <PlainText key={part.partId} text={part.kind === 'text' ? part.content : htmlToText(part.content)} />
          ))
        : parts.map((part, index) => {
            const safe = sanitized.get(part.partId);
            return part.kind === 'html' && safe !== undefined ? (
              <MailFrame key={part.partId} sanitized={safe} title={`Message content, part ${index + 1}`} />
            ) : (
              <PlainText key={part.partId} text={part.content} />
            );
          })}
      {!showPlain && <LinksList links={links} onMailto={(address) => actions.compose([{ name: '', address }])} />}
      <AttachmentsList messageId={message.id} attachments={message.attachments} />
    </div>
  );
}
