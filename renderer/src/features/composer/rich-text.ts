/**
 * The two sides of a rich-text message: the editor's document (TipTap/ProseMirror JSON) becomes
 * the text/plain alternative, written the way plain mail writes it ("> " quotes, "- " and "1. "
 * list items, links as "text <url>"); and plain text (a reply's quote, a mailto: body) becomes
 * HTML the editor opens, quoted lines as <blockquote>. Pure: no DOM, no editor.
 */

/** The subset of TipTap's JSONContent read here. */
export interface RichNode {
  type?: string;
  text?: string;
  attrs?: Record<string, unknown>;
  marks?: Array<{ type: string; attrs?: Record<string, unknown> }>;
  content?: RichNode[];
}

function inlineText(nodes: RichNode[] | undefined): string {
  let result = '';
  for (const node of nodes ?? []) {
    if (node.type === 'hardBreak') {
      result += '\n';
      continue;
    }
    if (node.type !== 'text' || node.text === undefined) {
      result += inlineText(node.content);
      continue;
    }
    const link = node.marks?.find((mark) => mark.type === 'link');
    const href = typeof link?.attrs?.href === 'string' ? link.attrs.href : null;
    const plainHref = href?.replace(/^mailto:/i, '') ?? null;
    result += href !== null && plainHref !== node.text && href !== node.text ? `${node.text} <${href}>` : node.text;
  }
  return result;
}

function prefixLines(text: string, first: string, rest: string): string {
  return text
    .split('\n')
    .map((line, index) => (index === 0 ? first : rest) + line)
    .join('\n');
}

function blockText(node: RichNode): string {
  switch (node.type) {
    case 'paragraph':
    case 'heading':
      return inlineText(node.content);
    case 'codeBlock':
      return inlineText(node.content);
    case 'horizontalRule':
      return '----';
    case 'blockquote':
      // "> " on every line, ">" alone on empty ones (RFC 3676 style quoting).
      return blocksText(node.content)
        .split('\n')
        .map((line) => (line === '' ? '>' : line.startsWith('>') ? `>${line}` : `> ${line}`))
        .join('\n');
    case 'bulletList':
      return (node.content ?? []).map((item) => prefixLines(blocksText(item.content), '- ', '  ')).join('\n');
    case 'orderedList': {
      const start = typeof node.attrs?.start === 'number' ? node.attrs.start : 1;
      return (node.content ?? [])
        .map((item, index) => {
          const marker = `${start + index}. `;
          return prefixLines(blocksText(item.content), marker, ' '.repeat(marker.length));
        })
        .join('\n');
    }
    default:
      return node.content ? blocksText(node.content) : inlineText([node]);
  }
}

function blocksText(nodes: RichNode[] | undefined): string {
  return (nodes ?? []).map(blockText).join('\n');
}

/** The text/plain alternative of the editor's document. */
export function richToText(doc: RichNode): string {
  return blocksText(doc.content);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Plain text as the editor's HTML: a paragraph per line, quoted lines ("> ") as nested <blockquote>. */
export function textToRichHtml(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let html = '';
  for (let index = 0; index < lines.length;) {
    if (lines[index].startsWith('>')) {
      const quoted: string[] = [];
      while (index < lines.length && lines[index].startsWith('>')) {
        quoted.push(lines[index].replace(/^> ?/, ''));
        index += 1;
      }
      html += `<blockquote>${textToRichHtml(quoted.join('\n'))}</blockquote>`;
      continue;
    }
    html += lines[index] === '' ? '<p></p>' : `<p>${escapeHtml(lines[index])}</p>`;
    index += 1;
  }
  return html;
}
