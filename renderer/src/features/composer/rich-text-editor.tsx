/**
 * Simple rich text for the composer (TipTap on ProseMirror): bold, italic, underline, lists, quote
 * and links. The editor's schema is the whitelist: whatever HTML it opens (a reopened draft) keeps
 * only those nodes and marks, and links only http(s) and mailto URLs. It reports its HTML and the
 * plain-text alternative (rich-text.ts) on every change.
 */
import { useEffect, useState } from 'react';
import { EditorContent, useEditor, useEditorState, type Editor } from '@tiptap/react';
import StarterKit from '@tiptap/starter-kit';
import { Icon } from '../../components/icons';
import { richToText } from './rich-text';

const LINK_PROTOCOLS = /^(https?:\/\/|mailto:)/i;

export interface RichTextChange {
  html: string;
  text: string;
}

function FormatButton({
  label,
  shortcut,
  active,
  onClick,
  children,
}: {
  label: string;
  shortcut?: string;
  active: boolean;
  onClick(): void;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      className="format-button"
      aria-pressed={active}
      aria-label={label}
      aria-keyshortcuts={shortcut}
      title={shortcut === undefined ? label : `${label} (${shortcut.replace('Control', 'Ctrl')})`}
      // Keeps the selection in the editor while the button is pressed.
      onMouseDown={(event) => event.preventDefault()}
      onClick={onClick}
    >
      {children}
    </button>
  );
}

function LinkForm({ editor, onDone }: { editor: Editor; onDone(): void }) {
  const current = editor.getAttributes('link').href;
  const [href, setHref] = useState(typeof current === 'string' ? current : 'https://');
  const [error, setError] = useState<string | null>(null);
  function apply() {
    const value = href.trim();
    if (!LINK_PROTOCOLS.test(value)) {
      setError('A link starts with https://, http:// or mailto:.');
      return;
    }
    editor.chain().focus().extendMarkRange('link').setLink({ href: value }).run();
    onDone();
  }
  return (
    <div className="composer__link-form" role="group" aria-label="Link">
      <label className="visually-hidden" htmlFor="composer-link">
        Link address
      </label>
      <input
        id="composer-link"
        className="input input--small"
        type="url"
        value={href}
        autoFocus
        aria-invalid={error !== null}
        aria-describedby={error === null ? undefined : 'composer-link-error'}
        onChange={(event) => setHref(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter') {
            event.preventDefault();
            apply();
          } else if (event.key === 'Escape') {
            event.preventDefault();
            event.stopPropagation();
            onDone();
            editor.commands.focus();
          }
        }}
      />
      <button type="button" className="button button--small" onClick={apply}>
        Apply
      </button>
      {typeof current === 'string' && (
        <button
          type="button"
          className="button button--small"
          onClick={() => {
            editor.chain().focus().extendMarkRange('link').unsetLink().run();
            onDone();
          }}
        >
          Remove link
        </button>
      )}
      {error !== null && (
        <span id="composer-link-error" className="field__error">
          {error}
        </span>
      )}
    </div>
  );
}

export function RichTextEditor({
  initialHtml,
  reportInitialText,
  focusAtStart,
  onChange,
}: {
  initialHtml: string;
  /** The parent has no plain text for the initial content yet (a reopened rich draft). */
  reportInitialText: boolean;
  /** A reply starts above the quote. */
  focusAtStart: boolean;
  onChange(change: RichTextChange): void;
}) {
  const [linking, setLinking] = useState(false);
  const editor = useEditor({
    extensions: [
      StarterKit.configure({
        heading: false,
        code: false,
        codeBlock: false,
        horizontalRule: false,
        strike: false,
        link: {
          openOnClick: false,
          autolink: true,
          defaultProtocol: 'https',
          isAllowedUri: (url) => LINK_PROTOCOLS.test(url),
        },
      }),
    ],
    content: initialHtml,
    editorProps: {
      attributes: {
        id: 'composer-text',
        class: 'composer__rich-text',
        role: 'textbox',
        'aria-multiline': 'true',
        'aria-label': 'Message',
      },
    },
    onUpdate: ({ editor: current }) => onChange({ html: current.getHTML(), text: richToText(current.getJSON()) }),
  });
  const state = useEditorState({
    editor,
    selector: ({ editor: current }) => ({
      bold: current.isActive('bold'),
      italic: current.isActive('italic'),
      underline: current.isActive('underline'),
      bulletList: current.isActive('bulletList'),
      orderedList: current.isActive('orderedList'),
      blockquote: current.isActive('blockquote'),
      link: current.isActive('link'),
    }),
  });

  useEffect(() => {
    // The parent learns the plain alternative of what the editor opened with.
    if (reportInitialText) onChange({ html: editor.getHTML(), text: richToText(editor.getJSON()) });
    if (focusAtStart) editor.commands.focus('start');
    // Once, for the content the editor was created with.
  }, [editor]);

  const chain = () => editor.chain().focus();
  return (
    <div className="composer__rich">
      <div className="composer__format-bar" role="toolbar" aria-label="Formatting">
        <FormatButton label="Bold" shortcut="Control+B" active={state.bold} onClick={() => chain().toggleBold().run()}>
          <b>B</b>
        </FormatButton>
        <FormatButton
          label="Italic"
          shortcut="Control+I"
          active={state.italic}
          onClick={() => chain().toggleItalic().run()}
        >
          <i>I</i>
        </FormatButton>
        <FormatButton
          label="Underline"
          shortcut="Control+U"
          active={state.underline}
          onClick={() => chain().toggleUnderline().run()}
        >
          <u>U</u>
        </FormatButton>
        <span className="composer__format-gap" aria-hidden="true" />
        <FormatButton label="Bulleted list" active={state.bulletList} onClick={() => chain().toggleBulletList().run()}>
          •≡
        </FormatButton>
        <FormatButton
          label="Numbered list"
          active={state.orderedList}
          onClick={() => chain().toggleOrderedList().run()}
        >
          1.
        </FormatButton>
        <FormatButton label="Quote" active={state.blockquote} onClick={() => chain().toggleBlockquote().run()}>
          ❝
        </FormatButton>
        <FormatButton label="Link" active={state.link || linking} onClick={() => setLinking((value) => !value)}>
          <Icon name="link" size={14} />
        </FormatButton>
      </div>
      {linking && <LinkForm editor={editor} onDone={() => setLinking(false)} />}
      <EditorContent editor={editor} className="composer__rich-content" />
    </div>
  );
}
